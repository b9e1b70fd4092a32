package keystore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/signet-dev/signet/internal/signethome"
)

// ErrNoPinnedRoot is returned (marked errkind.Verification) by PinnedRoot
// when no root is kept for a repository.
var ErrNoPinnedRoot = errors.New("no trusted root for this repository")

const maxRoot = 10 << 20

// TrustDir returns the directory, created with mode 0700, where the TUF
// client keeps the trusted root.json and other trusted metadata of
// registryHost/repository: trust/<registry>/<repository>/ under the home.
// registryHost may carry a port ("127.0.0.1:5000"); repository is an OCI
// repository name ("team/app"). Anything that could leave the trust
// directory is an errkind.Input error.
func (s *Store) TrustDir(registryHost, repository string) (string, error) {
	dir, err := s.trustPath(registryHost, repository)
	if err != nil {
		return "", err
	}
	// Create each level 0700 (MkdirAll would too, but a level created by
	// someone else with a wider mode is refused here).
	cur := filepath.Join(s.home, signethome.Trust)
	rel, _ := filepath.Rel(cur, dir)
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if err := mkdirPrivate(cur); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func (s *Store) trustPath(registryHost, repository string) (string, error) {
	if err := checkHost(registryHost); err != nil {
		return "", inputErr(fmt.Errorf("registry host %q: %w", truncate(registryHost), err))
	}
	if err := checkRepository(repository); err != nil {
		return "", inputErr(fmt.Errorf("repository %q: %w", truncate(repository), err))
	}
	parts := append([]string{s.home, signethome.Trust, registryHost}, strings.Split(repository, "/")...)
	return filepath.Join(parts...), nil
}

func checkHost(h string) error {
	if h == "" || len(h) > 255 || h == "." || h == ".." {
		return errors.New("invalid")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

func checkRepository(r string) error {
	if r == "" || len(r) > 255 {
		return errors.New("invalid")
	}
	for _, seg := range strings.Split(r, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errors.New("empty, . or .. path component")
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-", c) >= 0) {
				return fmt.Errorf("character %q not allowed", c)
			}
		}
	}
	return nil
}

// PinnedRoot returns the trusted root.json of a repository, or
// ErrNoPinnedRoot.
func (s *Store) PinnedRoot(registryHost, repository string) ([]byte, error) {
	dir, err := s.trustPath(registryHost, repository)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "root.json")
	data, err := readLimited(path, maxRoot)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, markVerification(fmt.Errorf("%s/%s: %w", registryHost, repository, ErrNoPinnedRoot))
	}
	if err != nil {
		return nil, keyErr(fmt.Errorf("reading trusted root: %w", err))
	}
	return data, nil
}

// PinRoot keeps rootJSON as the trusted root of a repository (atomically,
// mode 0600), replacing any root kept before. It checks only that the data
// is JSON; verifying it is the TUF client's job.
func (s *Store) PinRoot(registryHost, repository string, rootJSON []byte) error {
	if !json.Valid(rootJSON) {
		return inputErr(errors.New("root is not valid JSON"))
	}
	dir, err := s.TrustDir(registryHost, repository)
	if err != nil {
		return err
	}
	return keyErr(WriteFileAtomic(filepath.Join(dir, "root.json"), rootJSON, 0o600))
}

// ForgetRoot removes the trusted root and other trusted metadata of a
// repository (the files of its trust directory; the directories of nested
// repositories such as team/app/sub stay). Forgetting a repository with no
// trust data is not an error.
func (s *Store) ForgetRoot(registryHost, repository string) error {
	dir, err := s.trustPath(registryHost, repository)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return keyErr(fmt.Errorf("forgetting trust data: %w", err))
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return keyErr(fmt.Errorf("forgetting trust data: %w", err))
		}
	}
	// Remove directories left empty, up to trust/.
	top := filepath.Join(s.home, signethome.Trust)
	for d := dir; d != top && strings.HasPrefix(d, top); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// PinnedRoots returns every trusted root.json kept in the home, by
// "REGISTRY/REPOSITORY" (the name `signet trust show` takes). A home that
// trusts no repository yet gives an empty map.
func (s *Store) PinnedRoots() (map[string][]byte, error) {
	base := filepath.Join(s.home, signethome.Trust)
	out := map[string][]byte{}
	err := filepath.WalkDir(base, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == base {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if e.IsDir() || e.Name() != "root.json" {
			return nil
		}
		rel, err := filepath.Rel(base, filepath.Dir(path))
		if err != nil {
			return err
		}
		data, err := readLimited(path, maxRoot)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, keyErr(fmt.Errorf("reading trusted roots: %w", err))
	}
	return out, nil
}
