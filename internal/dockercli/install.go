package dockercli

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/internal/errkind"
)

// InstallRequest says where and how to install signet as the plugin.
type InstallRequest struct {
	// Dir is the docker CLI's plugin directory: $DOCKER_CONFIG/cli-plugins,
	// by default ~/.docker/cli-plugins (PluginDir).
	Dir string
	// Executable is the running signet, symlinks resolved.
	Executable string
	// Copy installs a copy instead of a symlink to Executable.
	Copy bool
	// Force replaces a docker-signet that is not this signet.
	Force bool
}

// InstallResult is what Install did.
type InstallResult struct {
	Path     string `json:"path"`     // the plugin file
	Target   string `json:"target"`   // the signet it runs
	Copy     bool   `json:"copy"`     // a copy rather than a symlink
	Changed  bool   `json:"changed"`  // false: it was installed this way already
	Replaced bool   `json:"replaced"` // a foreign docker-signet was replaced (--force)
}

// PluginDir is the docker CLI's plugin directory for the environment env:
// $DOCKER_CONFIG/cli-plugins, else $HOME/.docker/cli-plugins.
func PluginDir(env func(string) string) (string, error) {
	if dc := env("DOCKER_CONFIG"); dc != "" {
		return filepath.Join(dc, "cli-plugins"), nil
	}
	home := env("HOME")
	if home == "" {
		if runtimeHome, err := os.UserHomeDir(); err == nil {
			home = runtimeHome
		}
	}
	if home == "" {
		return "", errkind.Mark(errkind.Input, errors.New("no home directory: set DOCKER_CONFIG"))
	}
	return filepath.Join(home, ".docker", "cli-plugins"), nil
}

// Install puts the running signet in place as the plugin docker-signet in
// req.Dir: a symlink to req.Executable, or a copy of it. Running it again
// changes nothing; a docker-signet that is neither a link to this signet
// nor a copy of it is replaced only with req.Force (else an input error,
// exit 2). The new file replaces the old one in one rename.
func Install(req InstallRequest) (*InstallResult, error) {
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the docker plugin directory: %w", err)
	}
	path := filepath.Join(req.Dir, PluginFile())
	res := &InstallResult{Path: path, Target: req.Executable, Copy: req.Copy, Changed: true}
	if self, err := os.Stat(req.Executable); err == nil {
		if there, err := os.Lstat(path); err == nil && os.SameFile(self, there) {
			// signet runs from the plugin file itself (a copy, or
			// through a linked directory): replacing it with a link to
			// itself, or copying it onto itself, would destroy it.
			res.Changed = false
			return res, nil
		}
	}
	link, copied, err := current(path, req.Executable)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	case (link && !req.Copy) || (copied && req.Copy):
		res.Changed = false
		return res, nil
	case !link && !copied && !req.Force:
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s exists and is not this signet: pass --force to replace it", path))
	case !link && !copied:
		res.Replaced = true
	}
	tmp := filepath.Join(req.Dir, ".docker-signet.tmp-"+randomHex())
	if req.Copy {
		err = copyExecutable(req.Executable, tmp)
	} else {
		err = os.Symlink(req.Executable, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		if !req.Copy {
			return nil, fmt.Errorf("linking %s to %s (--copy installs a copy instead): %w", path, req.Executable, err)
		}
		return nil, fmt.Errorf("copying signet to %s: %w", path, err)
	}
	return res, nil
}

// current tells whether path is a symlink to exe, or a copy of it.
func current(path, exe string) (link, copied bool, err error) {
	st, err := os.Lstat(path)
	if err != nil {
		return false, false, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		return err == nil && target == exe, false, nil
	}
	if !st.Mode().IsRegular() {
		return false, false, nil
	}
	same, err := sameContent(path, exe)
	return false, same, err
}

// sameContent compares two files byte by byte.
func sameContent(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	sa, err := fa.Stat()
	if err != nil {
		return false, err
	}
	sb, err := fb.Stat()
	if err != nil {
		return false, err
	}
	if sa.Size() != sb.Size() {
		return false, nil
	}
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}

// copyExecutable copies the executable src to a new file dst, mode 0755,
// synced to disk.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
