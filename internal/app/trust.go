package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/tuf"
)

// maxTrustedFile bounds a trusted timestamp or snapshot read back from the
// signet home for the rollback checks.
const maxTrustedFile = 8 << 20

// errNoTrustedRoot is the cause of the refusal to publish without a
// trusted root.
var errNoTrustedRoot = errors.New("no root")

// trustMode says what a command does when no root of the repository is
// trusted on this machine.
type trustMode int

const (
	// mustTrust refuses: a command that signs never starts from the
	// registry's word.
	mustTrust trustMode = iota
	// mayDisplay lets a command that only displays trust data start from
	// the registry's own first root, and say so.
	mayDisplay
)

// trust is where a command's view of a repository starts.
type trust struct {
	opts []tuf.RepoOption
	// root is the trusted root.json, nil when nothing is trusted.
	root []byte
	// pinned is false when nothing is trusted and the command displays
	// what the registry's own first root leads to.
	pinned bool
	// fromFile is set when the root came from --root.
	fromFile bool
}

// trustFor returns the options that make tuf.Open start from the root this
// machine trusts for repo: --root FILE, else the root kept in the signet
// home (init, trust pin, an earlier verify or publish), else the root in
// the SIGNET_KEY bundle. With none, a command in mustTrust mode fails
// with exit 1; one in mayDisplay mode starts from the registry's first
// root.
func (d *Deps) trustFor(ctx context.Context, repo name.Repository, mode trustMode) (*trust, error) {
	t := &trust{opts: []tuf.RepoOption{tuf.WithClock(d.now)}}
	var err error
	switch {
	case d.RootFile != "":
		if t.root, err = d.readRoot(d.RootFile); err != nil { // checked to be root metadata
			return nil, err
		}
		t.fromFile = true
	default:
		if t.root, err = d.homeRoot(repo); err != nil {
			return nil, err
		}
		if t.root == nil && d.Resolver != nil {
			res, err := d.Resolver()
			if err != nil {
				return nil, err
			}
			if t.root, err = res.BundleRoot(ctx, repo.Name()); err != nil {
				return nil, err
			}
		}
	}
	if t.root == nil {
		if mode == mustTrust {
			return nil, errkind.Mark(errkind.Verification, fmt.Errorf(
				"%w of %s is trusted on this machine: pin the root first (signet trust pin %s --root root.json, with the root.json from `signet trust show %s --raw` where it is trusted); signet never signs on a registry's word",
				errNoTrustedRoot, repo.Name(), repo.Name(), repo.Name()))
		}
		t.opts = append(t.opts, tuf.TrustStoredRoot())
		return t, nil
	}
	t.pinned = true
	t.opts = append(t.opts, tuf.WithTrustedRoot(t.root))
	if ts, snap := d.trustedFloor(repo); ts != nil || snap != nil {
		t.opts = append(t.opts, tuf.WithTrustedMetadata(ts, snap))
	}
	return t, nil
}

// homeRoot returns the root kept in the signet home for repo, nil when
// there is none (or no home).
func (d *Deps) homeRoot(repo name.Repository) ([]byte, error) {
	if d.Keystore == nil {
		return nil, nil
	}
	ks, err := d.Keystore()
	if err != nil {
		return nil, err
	}
	root, err := ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr())
	if errors.Is(err, keystore.ErrNoPinnedRoot) {
		return nil, nil
	}
	return root, err
}

// trustedFloor reads the timestamp and snapshot that verify trusted last
// in the signet home, nil for either that is missing or unreadable (tuf
// checks them before using them).
func (d *Deps) trustedFloor(repo name.Repository) (timestamp, snapshot []byte) {
	dir := d.trustDir(repo)
	if dir == "" {
		return nil, nil
	}
	return readTrusted(filepath.Join(dir, "timestamp.json")), readTrusted(filepath.Join(dir, "snapshot.json"))
}

func (d *Deps) trustDir(repo name.Repository) string {
	if d.Keystore == nil {
		return ""
	}
	ks, err := d.Keystore()
	if err != nil {
		return ""
	}
	dir, err := ks.TrustDir(repo.RegistryStr(), repo.RepositoryStr())
	if err != nil {
		return ""
	}
	return dir
}

func readTrusted(path string) []byte {
	data, err := localfile.Read(path, maxTrustedFile)
	if err != nil {
		return nil
	}
	return data
}

// advanceTrust keeps r's newest root as the root this machine trusts for
// repo, now that it was reached by TUF's rules from the trusted one. When
// the root came from --root, a root kept in the home that does not descend
// from it is discarded, with the trusted metadata that came with it, and
// the user is told.
func (d *Deps) advanceTrust(ctx context.Context, repo name.Repository, t *trust, r *tuf.Repo) error {
	if t == nil || !t.pinned || d.Keystore == nil {
		return nil
	}
	ks, err := d.Keystore()
	if err != nil {
		return err
	}
	newest := r.Root().Signed.Version
	stored, err := d.homeRoot(repo)
	if err != nil {
		return err
	}
	if stored != nil {
		v, err := tuf.TrustedRootVersionOf(stored)
		if err != nil {
			v = -1
		}
		start, _ := tuf.TrustedRootVersionOf(t.root)
		switch {
		case v >= 1 && v < start:
			// older than the root given: moving forward
		case v >= start && v <= newest && r.SameRootAt(ctx, v, stored):
			if v == newest {
				return nil
			}
		case t.fromFile:
			d.notice("discarding root version %d kept for %s: it does not descend from --root %s", v, repo.Name(), d.RootFile)
			if err := ks.ForgetRoot(repo.RegistryStr(), repo.RepositoryStr()); err != nil {
				return err
			}
		default:
			return nil // the walk started from the stored root: unreachable
		}
	}
	data, err := r.Root().ToBytes(false)
	if err != nil {
		return fmt.Errorf("encoding root: %w", err)
	}
	return ks.PinRoot(repo.RegistryStr(), repo.RepositoryStr(), data)
}
