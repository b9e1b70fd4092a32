// Package localfile reads the files named on signet's command line (keys,
// roots, ceremonies, tag lists, certificates, image tarballs) as carefully
// as signet reads a registry's answers: only regular files are opened, so
// a FIFO or a device never blocks a command in open or read where Ctrl-C
// cannot reach it, and every whole-file read is bounded before it starts.
//
// Errors are not marked with an errkind but for CheckPrivate's (a key
// problem): the caller marks them, errkind.Input for a file the user named
// and its own kind for a file it keeps (the keystore's are errkind.Key).
// Unmarked they would be an internal error (exit 5).
package localfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/signet-dev/signet/internal/errkind"
)

// Errors of the package; test for them with errors.Is.
var (
	// ErrNotRegular is returned for a path that is not a regular file (a
	// FIFO, a device, a socket, a directory).
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is returned by Read for a file over its limit.
	ErrTooLarge = errors.New("too large")
	// ErrNotPrivate is returned by CheckPrivate for a file that group or
	// others may access, marked errkind.Key.
	ErrNotPrivate = errors.New("accessible by group or others")
)

// Open opens path for reading if it is a regular file. It checks before
// opening, opens without blocking (a FIFO swapped in meanwhile is not
// waited on), and checks the opened file again. The error names path.
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, readErr(path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st)
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, readErr(path, err)
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, readErr(path, err)
		}
		return nil, notRegular(path, st)
	}
	return f, nil
}

// readErr says which file could not be read, once: "reading PATH: no
// such file or directory" (errors.Is still finds fs.ErrNotExist).
func readErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("reading %s: %w", path, err)
}

func notRegular(path string, st fs.FileInfo) error {
	return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, st.Mode().Type())
}

// Read reads the whole regular file path, at most max bytes; a larger
// file is refused before it is read.
func Read(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, path, max)
}

func readOpen(f *os.File, path string, max int64) ([]byte, error) {
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, tooLarge(path, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, readErr(path, err)
	}
	if int64(len(data)) > max {
		return nil, tooLarge(path, max)
	}
	return data, nil
}

func tooLarge(path string, max int64) error {
	return fmt.Errorf("%s is %w: more than %d bytes", path, ErrTooLarge, max)
}

// CheckPrivate refuses a file holding a secret that group or others may
// read or write, saying to chmod 600 it, as the keystore refuses its own
// files. Call it after Read, once the content shows it is a secret.
func CheckPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return errkind.Mark(errkind.Key, fmt.Errorf("%s is %w (mode %04o): run chmod 600 %s", path, ErrNotPrivate, perm, path))
	}
	return nil
}
