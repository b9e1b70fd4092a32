package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/signet-dev/signet/internal/atomicfile"
	"github.com/signet-dev/signet/internal/localfile"
)

// WriteFileAtomic writes data to path so that a reader sees either the old
// file or the whole new one: a temporary file in the same directory with
// mode perm, synced, renamed over path, and the directory synced
// (internal/atomicfile). On failure the temporary file is removed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, data, perm, true)
}

// checkPrivate refuses a file or directory that group or others may read
// or write, saying how to fix it. Where modes say nothing of who may read a
// file (Windows: see modes_windows.go), it only checks that path exists.
func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !modesArePrivacy || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	want := "600"
	if st.IsDir() {
		want = "700"
	}
	return keyErr(fmt.Errorf("%s is accessible by group or others (mode %04o): run chmod %s %s", path, st.Mode().Perm(), want, path))
}

// mkdirPrivate creates dir with mode 0700 when missing and refuses an
// existing one that others can access.
func mkdirPrivate(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return keyErr(fmt.Errorf("creating %s: %w", dir, err))
	}
	return checkPrivate(dir)
}

// readLimited reads a whole regular file of at most max bytes
// (internal/localfile).
func readLimited(path string, max int64) ([]byte, error) {
	return localfile.Read(path, max)
}
