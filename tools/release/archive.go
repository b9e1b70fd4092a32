package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"time"
)

// file is one member of an archive or an image layer.
type file struct {
	name string
	mode int64
	data []byte
}

// tarGz writes files as a gzipped tar with fixed times, owners and order.
func tarGz(w io.Writer, files []file, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.ModTime = mtime
	if err := writeTar(zw, files, mtime); err != nil {
		return err
	}
	return zw.Close()
}

// writeTar writes files as a tar stream with fixed times and owners (root).
func writeTar(w io.Writer, files []file, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// zipFiles writes files as a zip archive with fixed times.
func zipFiles(w io.Writer, files []file, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime.UTC()}
		h.SetMode(fileMode(f.mode))
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := io.Copy(fw, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	return zw.Close()
}

func fileMode(m int64) fs.FileMode { return fs.FileMode(m) & fs.ModePerm }
