package registry

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
)

// openTarball opens a `docker save` tarball for pushing. The file must be
// a regular file (internal/localfile), and before go-containerregistry
// reads anything whole from it, its manifest.json and the image configs
// that manifest.json names are checked to be at most limit bytes each:
// ggcr reads those into memory, and a tarball is as untrusted as a
// registry's answer.
func openTarball(file string, limit int64) (v1.Image, error) {
	if err := checkTarball(file, limit); err != nil {
		return nil, err
	}
	return tarball.Image(func() (io.ReadCloser, error) { return localfile.Open(file) }, nil)
}

// checkTarball reads the tar headers of file (skipping contents) and
// bounds the entries ggcr reads whole.
func checkTarball(file string, limit int64) error {
	f, err := localfile.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", file, err)
		}
		entries[path.Clean(hdr.Name)] = hdr
	}
	// target follows links as ggcr does, to the entry it would read.
	target := func(name string) *tar.Header {
		for range 16 {
			hdr, ok := entries[path.Clean(name)]
			if !ok {
				return nil
			}
			if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
				return hdr
			}
			name = path.Join(path.Dir(name), path.Clean(hdr.Linkname))
		}
		return nil
	}
	mh := target("manifest.json")
	if mh == nil {
		return nil // ggcr says it is not a docker save tarball
	}
	if mh.Size > limit {
		return tarTooLarge(file, "manifest.json", mh.Size, limit)
	}
	b, err := readTarEntry(file, mh.Name)
	if err != nil {
		return err
	}
	var m tarball.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("reading manifest.json of %s: %w", file, err)
	}
	for _, d := range m {
		if h := target(d.Config); h != nil && h.Size > limit {
			return tarTooLarge(file, "image config "+d.Config, h.Size, limit)
		}
	}
	return nil
}

// readTarEntry reads the entry named name (not a link) of the tarball
// file, whose size was checked.
func readTarEntry(file, name string) ([]byte, error) {
	f, err := localfile.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("reading %s of %s: %w", name, file, err)
		}
		if hdr.Name == name {
			return io.ReadAll(io.LimitReader(tr, hdr.Size))
		}
	}
}

func tarTooLarge(file, entry string, size, limit int64) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s in %s is %d bytes, more than the limit of %d", ErrTooLarge, entry, file, size, limit))
}
