// Package atomicfile writes files so that a reader, or a crash, sees the
// old content or the new one, never a part: a temporary file in the same
// directory, then a rename. Key files and trusted metadata are also synced
// to disk (durable); caches, checked against a digest when read, need not.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix marks the temporary files Write makes: "." + base + tempInfix
// + random.
const tempInfix = ".tmp-"

// Write writes data to path with mode perm through a temporary file and a
// rename. With durable, the file is synced before the rename and its
// directory after it (best effort: some file systems cannot sync a
// directory).
func Write(path string, data []byte, perm os.FileMode, durable bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if durable {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if durable {
		if d, derr := os.Open(dir); derr == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return nil
}

// IsTemp reports whether name (a base name) is a temporary file of Write,
// which a crash between the write and the rename leaves behind.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}
