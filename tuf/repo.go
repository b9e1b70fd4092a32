package tuf

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
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

// ErrNotAllowed is returned when the signing key may not sign a target:
// no role it holds has paths that match the target name.
var ErrNotAllowed = errors.New("key may not sign this tag")

// Repo is a repository's metadata loaded from one View, ready to change and
// publish. Its methods are not safe for concurrent use.
type Repo struct {
	view tufmeta.View
	now  func() time.Time
	// opts are the options the repository was opened with.
	opts repoOptions

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
	// trustedRoot is the root Open starts from (WithTrustedRoot);
	// trustStored makes it start from the store's 1.root.json instead.
	trustedRoot []byte
	trustStored bool
	// trustedTimestamp and trustedSnapshot are the last trusted ones, for
	// the rollback checks (WithTrustedMetadata).
	trustedTimestamp, trustedSnapshot []byte
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

// Open loads the current metadata of the repository from store, starting
// from the trusted root (WithTrustedRoot; without it, and without
// TrustStoredRoot, Open fails with ErrNoTrustedRoot): the chain of newer
// roots is walked as a TUF client walks it, then timestamp, snapshot and
// targets are checked against the newest root, each listed version and
// hash matched, and none older than the ones trusted last
// (WithTrustedMetadata), so that nothing is signed on top of metadata that
// does not verify. An expired role is not an error here: a publish
// re-signs it. A store with no trust data is ErrNoRepository, or a
// *WithheldError when a root of it is trusted.
func Open(ctx context.Context, store tufmeta.Store, opts ...RepoOption) (*Repo, error) {
	o, err := buildRepoOptions(opts)
	if err != nil {
		return nil, err
	}
	view, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	r := &Repo{view: view, now: o.now, opts: o, delegated: map[string]*metadata.Metadata[metadata.TargetsType]{}, changed: map[string]bool{}}
	if err := r.load(ctx, o); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Repo) load(ctx context.Context, o repoOptions) error {
	if len(r.view.Files()) == 0 {
		if o.trustedRoot != nil {
			if v, err := TrustedRootVersionOf(o.trustedRoot); err == nil {
				return errkind.Mark(errkind.Verification, &WithheldError{RootVersion: v})
			}
		}
		return errkind.Mark(errkind.Input, tufmeta.ErrNoRepository)
	}
	start, err := r.startRoot(ctx, o)
	if err != nil {
		return err
	}
	root, err := walkRoots(ctx, r.view, start)
	if err != nil {
		return err
	}
	r.root = root
	fl := trustedFloor(root, o)

	ts, err := tufmeta.ReadRole(ctx, r.view, "timestamp.json", tufmeta.MaxTimestampSize, metadata.Timestamp())
	if err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.TIMESTAMP, ts); err != nil {
		return untrusted("timestamp is not signed by the timestamp keys")
	}
	if err := checkVersion("timestamp.json", ts.Signed.Version); err != nil {
		return err
	}
	if err := fl.checkTimestamp(ts); err != nil {
		return err
	}
	r.timestamp = ts
	snapMeta, ok := ts.Signed.Meta["snapshot.json"]
	if !ok || snapMeta == nil {
		return tufmeta.Corrupt("timestamp lists no snapshot")
	}
	snap, err := readListed(ctx, r.view, metadata.SNAPSHOT, snapMeta, tufmeta.MaxSnapshotSize, metadata.Snapshot())
	if err != nil {
		return err
	}
	if err := checkListedVersion(metadata.SNAPSHOT, snapMeta.Version, snap.Signed.Version); err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.SNAPSHOT, snap); err != nil {
		return untrusted("snapshot is not signed by the snapshot keys")
	}
	if err := fl.checkSnapshot(snap); err != nil {
		return err
	}
	r.snapshot = snap
	tm, ok := snap.Signed.Meta["targets.json"]
	if !ok || tm == nil {
		return tufmeta.Corrupt("snapshot lists no targets")
	}
	targets, err := readListed(ctx, r.view, metadata.TARGETS, tm, tufmeta.MaxTargetsSize, metadata.Targets())
	if err != nil {
		return err
	}
	if err := checkListedVersion(metadata.TARGETS, tm.Version, targets.Signed.Version); err != nil {
		return err
	}
	if err := r.root.VerifyDelegate(metadata.TARGETS, targets); err != nil {
		return untrusted("targets is not signed by the targets keys")
	}
	r.targets = targets
	return nil
}

// readListed reads the file of role at the version meta lists (timestamp
// listing snapshot, snapshot listing a targets role), checks its length
// and hashes when listed and its version. A listed version whose file the
// view lacks is named as the fast-forward it is when the version is
// absurd.
func readListed[T metadata.Roles](ctx context.Context, view tufmeta.View, role string, meta *metadata.MetaFiles, max int64, into *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	file := tufmeta.Versioned(meta.Version, role)
	if err := checkVersion(file, meta.Version); err != nil {
		return nil, err
	}
	if meta.Version > tufmeta.AbsurdVersion && !hasFile(view, file) {
		return nil, fastForwarded(role, meta.Version)
	}
	data, err := view.ReadFile(ctx, file, max)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if (meta.Length != 0 || len(meta.Hashes) > 0) && meta.VerifyLengthHashes(data) != nil {
		return nil, untrusted("%s does not match the length and hash listed for it", file)
	}
	m, err := into.FromBytes(data)
	if err != nil {
		return nil, tufmeta.Corrupt("%s: %v", file, err)
	}
	return m, nil
}

// checkListedVersion checks that a file read by readListed has the version
// it was listed with.
func checkListedVersion(role string, listed, got int64) error {
	if got != listed {
		return tufmeta.Corrupt("%s has version %d", tufmeta.Versioned(listed, role), got)
	}
	return nil
}

func hasFile(view tufmeta.View, name string) bool {
	for _, f := range view.Files() {
		if f == name {
			return true
		}
	}
	return false
}

func untrusted(format string, args ...any) error {
	return errkind.Mark(errkind.Verification, fmt.Errorf("untrusted signature: "+format, args...))
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
