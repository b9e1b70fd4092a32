package tuf

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
)

// Size limits for metadata the repository side reads back from a store.
const (
	maxRootSize      = 512 << 10
	maxTimestampSize = 64 << 10
	maxSnapshotSize  = 8 << 20
	maxTargetsSize   = 32 << 20
)

// Keyring hands the repository the signing keys a change needs. The
// repository asks by TUF key ID, for one role at a time, so a keyring can
// pick a key from a keystore, a CI bundle or a YubiKey, and can tell the
// user what is being signed.
type Keyring interface {
	// Signer returns a signer for the key with this TUF key ID, to sign the
	// metadata of role. It returns an error wrapping ErrKeyNotFound when the
	// key is not at hand.
	Signer(ctx context.Context, keyID, role string) (signature.Signer, error)
}

// ErrKeyNotFound is what a Keyring returns for a key it does not hold.
var ErrKeyNotFound = errors.New("key not found")

// ErrNotSigned matches Verify's error for a tag that no role of the
// verified trust data lists ("tag T is not signed").
var ErrNotSigned = errors.New("tag is not signed")

// ErrNotAllowed is returned when the signing key may not sign a target:
// no role it holds has paths that match the target name.
var ErrNotAllowed = errors.New("key may not sign this tag")

// Repo is a repository's metadata loaded from one View, ready to change and
// publish. Its methods are not safe for concurrent use.
type Repo struct {
	view View
	now  func() time.Time

	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	// delegated holds the delegated targets roles loaded so far, by name.
	delegated map[string]*metadata.Metadata[metadata.TargetsType]

	// changed lists the targets roles (targets or a delegation) whose
	// content changed and must be re-signed and published.
	changed map[string]bool
	// rootChanged is set when a new root version must be published.
	rootChanged bool
	// cosign lists delegated roles below their threshold whose content
	// is unchanged: Publish adds signatures without a new version.
	cosign map[string]bool
	// pending lists the delegated roles the last Publish left below
	// their threshold.
	pending []PendingRole
}

// RepoOption configures Open and Init.
type RepoOption func(*repoOptions) error

type repoOptions struct {
	now func() time.Time
}

// WithClock sets the clock used for expiry times; the default is time.Now.
func WithClock(now func() time.Time) RepoOption {
	return func(o *repoOptions) error {
		if now == nil {
			return errors.New("tuf: nil clock")
		}
		o.now = now
		return nil
	}
}

func buildRepoOptions(opts []RepoOption) (repoOptions, error) {
	o := repoOptions{now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Open loads the current metadata of the repository from store. The chain
// of roots is checked from 1.root.json on, and targets, snapshot and
// timestamp against the newest root, so that nothing is signed on top of
// metadata that does not verify. An expired role is not an error here: a
// publish re-signs it.
func Open(ctx context.Context, store Store, opts ...RepoOption) (*Repo, error) {
	o, err := buildRepoOptions(opts)
	if err != nil {
		return nil, err
	}
	view, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	r := &Repo{view: view, now: o.now, delegated: map[string]*metadata.Metadata[metadata.TargetsType]{}, changed: map[string]bool{}}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Repo) load(ctx context.Context) error {
	files := r.view.Files()
	if len(files) == 0 {
		return errkind.Mark(errkind.Input, ErrNoRepository)
	}
	n := latestRootVersion(files)
	if n == 0 {
		return corrupt("no root metadata")
	}
	var prev *metadata.Metadata[metadata.RootType]
	for v := int64(1); v <= n; v++ {
		root, err := readRole(ctx, r.view, rootFile(v), maxRootSize, metadata.Root())
		if err != nil {
			return err
		}
		if root.Signed.Version != v {
			return corrupt("%s has version %d", rootFile(v), root.Signed.Version)
		}
		if prev != nil {
			if err := prev.VerifyDelegate(metadata.ROOT, root); err != nil {
				return untrusted("root version %d is not signed by the keys of version %d", v, v-1)
			}
		}
		if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
			return untrusted("root version %d is not signed by its own keys", v)
		}
		prev = root
	}
	r.root = prev

	ts, err := readRole(ctx, r.view, "timestamp.json", maxTimestampSize, metadata.Timestamp())
	if err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.TIMESTAMP, ts); err != nil {
		return untrusted("timestamp is not signed by the timestamp keys")
	}
	r.timestamp = ts
	snapMeta, ok := ts.Signed.Meta["snapshot.json"]
	if !ok {
		return corrupt("timestamp lists no snapshot")
	}
	snap, err := readRole(ctx, r.view, versioned(snapMeta.Version, metadata.SNAPSHOT), maxSnapshotSize, metadata.Snapshot())
	if err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.SNAPSHOT, snap); err != nil {
		return untrusted("snapshot is not signed by the snapshot keys")
	}
	r.snapshot = snap
	tm, ok := snap.Signed.Meta["targets.json"]
	if !ok {
		return corrupt("snapshot lists no targets")
	}
	targets, err := readRole(ctx, r.view, versioned(tm.Version, metadata.TARGETS), maxTargetsSize, metadata.Targets())
	if err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.TARGETS, targets); err != nil {
		return untrusted("targets is not signed by the targets keys")
	}
	r.targets = targets
	return nil
}

// readRole reads and parses one metadata file of a view.
func readRole[T metadata.Roles](ctx context.Context, view View, name string, max int64, into *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	data, err := view.ReadFile(ctx, name, max)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	m, err := into.FromBytes(data)
	if err != nil {
		return nil, corrupt("%s: %v", name, err)
	}
	return m, nil
}

func corrupt(format string, args ...any) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("corrupt trust data: "+format, args...))
}

func untrusted(format string, args ...any) error {
	return errkind.Mark(errkind.Verification, fmt.Errorf("untrusted signature: "+format, args...))
}

func rootFile(v int64) string { return versioned(v, metadata.ROOT) }

func versioned(v int64, role string) string {
	return strconv.FormatInt(v, 10) + "." + role + ".json"
}

// latestRootVersion returns the highest N of the N.root.json files, 0 if none.
func latestRootVersion(files []string) int64 {
	var n int64
	for _, f := range files {
		v, ok := strings.CutSuffix(f, ".root.json")
		if !ok {
			continue
		}
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && i > n {
			n = i
		}
	}
	return n
}

// Root returns the newest root metadata. Callers must not modify it.
func (r *Repo) Root() *metadata.Metadata[metadata.RootType] { return r.root }

// Targets returns the top-level targets metadata. Callers must not modify it.
func (r *Repo) Targets() *metadata.Metadata[metadata.TargetsType] { return r.targets }

// Snapshot returns the snapshot metadata. Callers must not modify it.
func (r *Repo) Snapshot() *metadata.Metadata[metadata.SnapshotType] { return r.snapshot }

// Timestamp returns the timestamp metadata. Callers must not modify it.
func (r *Repo) Timestamp() *metadata.Metadata[metadata.TimestampType] { return r.timestamp }

// Expiries returns the expiry periods recorded in the root at init.
func (r *Repo) Expiries() Expiries { return expiriesFromRoot(&r.root.Signed) }

// RoleKeyIDs returns the key IDs and threshold of a top-level role.
func (r *Repo) RoleKeyIDs(role string) ([]string, int) {
	rr, ok := r.root.Signed.Roles[role]
	if !ok {
		return nil, 0
	}
	ids := append([]string(nil), rr.KeyIDs...)
	sort.Strings(ids)
	return ids, rr.Threshold
}
