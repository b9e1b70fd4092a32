package tuf

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// ErrNoTrustedRoot is returned by Open when no trusted root was given:
// a publishing command must start from a root this machine trusts.
var ErrNoTrustedRoot = errors.New("no trusted root")

// WithheldError is returned by Open when the store holds no trust data at
// all although a root of it is trusted: the trust data was deleted, or the
// registry withholds it.
type WithheldError struct {
	// RootVersion is the version of the trusted root.
	RootVersion int64
}

func (e *WithheldError) Error() string {
	return fmt.Sprintf("this machine trusts root version %d, but the trust data is gone or withheld", e.RootVersion)
}

// Is makes errors.Is(err, ErrNoRepository) true, for callers that only ask
// whether there is trust data.
func (e *WithheldError) Is(target error) bool { return target == tufmeta.ErrNoRepository }

// WithTrustedRoot makes Open start from rootJSON, the root this machine
// trusts (from init, trust pin, a pinned verify, a CI bundle or --root):
// newer roots are accepted only when each is signed by a threshold of the
// previous one and of its own keys, versions one apart, at most
// MaxRootSteps of them; the store's own copy of the trusted version must be
// the same root. timestamp, snapshot, targets and delegations are then
// checked against the newest root as a client would, so nothing the store
// chose is signed unless it verifies from the trusted root.
func WithTrustedRoot(rootJSON []byte) RepoOption {
	return func(o *repoOptions) error {
		if len(rootJSON) == 0 {
			return errors.New("tuf: empty trusted root")
		}
		o.trustedRoot = rootJSON
		return nil
	}
}

// WithTrustedMetadata gives Open the timestamp and snapshot this machine
// trusted last (nil when none). When they are still signed by the keys the
// newest root names, the store's versions must not be older (a rollback);
// when those keys were rotated they are ignored, as TUF clients do to
// recover from a fast-forward.
func WithTrustedMetadata(timestampJSON, snapshotJSON []byte) RepoOption {
	return func(o *repoOptions) error {
		o.trustedTimestamp, o.trustedSnapshot = timestampJSON, snapshotJSON
		return nil
	}
}

// TrustStoredRoot makes Open trust the store's own 1.root.json, for
// callers that only display a repository whose root nobody pinned (and
// say so) and for tests. A publishing command never uses it.
func TrustStoredRoot() RepoOption {
	return func(o *repoOptions) error {
		o.trustStored = true
		return nil
	}
}

// RootError is ParseRoot's refusal of a root.json.
type RootError struct {
	// Unsigned is set for root metadata that is not signed by a threshold
	// of its own root keys; unset, the bytes are not root metadata at all.
	Unsigned bool
	Version  int64 // the root's version, when it parsed
	Err      error // go-tuf's reason
}

func (e *RootError) Error() string {
	if e.Unsigned {
		return "root is not signed by a threshold of its own root keys: " + e.Err.Error()
	}
	return "not root metadata: " + e.Err.Error()
}

func (e *RootError) Unwrap() error { return e.Err }

// ParseRoot parses a root.json and checks what every root signet trusts
// must pass on its own: it is root metadata with a root role, signed by a
// threshold of its own root keys. A refusal is a *RootError, marked
// errkind.Input (not root metadata) or errkind.Verification (not signed).
func ParseRoot(data []byte) (*metadata.Metadata[metadata.RootType], error) {
	root, err := metadata.Root().FromBytes(data)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, &RootError{Err: err})
	}
	if root.Signed.Roles[metadata.ROOT] == nil {
		return nil, errkind.Mark(errkind.Input, &RootError{Err: errors.New("it has no root role")})
	}
	if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
		return nil, errkind.Mark(errkind.Verification, &RootError{Unsigned: true, Version: root.Signed.Version, Err: err})
	}
	return root, nil
}

// TrustedRootVersionOf returns the version of root metadata, checking that
// it parses as root metadata.
func TrustedRootVersionOf(rootJSON []byte) (int64, error) {
	root, err := metadata.Root().FromBytes(rootJSON)
	if err != nil {
		return 0, errkind.Mark(errkind.Input, fmt.Errorf("trusted root is not root metadata: %w", err))
	}
	return root.Signed.Version, nil
}

// startRoot returns the root Open starts from: the trusted one, or the
// store's first one when trustStored is set.
func (r *Repo) startRoot(ctx context.Context, o repoOptions) (*metadata.Metadata[metadata.RootType], error) {
	if o.trustedRoot == nil {
		if !o.trustStored {
			return nil, errkind.Mark(errkind.Verification, ErrNoTrustedRoot)
		}
		root, err := tufmeta.ReadRole(ctx, r.view, tufmeta.RootFile(1), tufmeta.MaxRootSize, metadata.Root())
		if err != nil {
			return nil, err
		}
		if root.Signed.Version != 1 {
			return nil, tufmeta.Corrupt("%s has version %d", tufmeta.RootFile(1), root.Signed.Version)
		}
		if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
			return nil, untrusted("root version 1 is not signed by its own keys")
		}
		return root, nil
	}
	root, err := ParseRoot(o.trustedRoot)
	if re := (*RootError)(nil); errors.As(err, &re) {
		if re.Unsigned {
			return nil, errkind.Mark(errkind.Verification, fmt.Errorf("the trusted root (version %d) is not signed by its own keys", re.Version))
		}
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("trusted root is not root metadata: %w", re.Err))
	}
	if root.Signed.Version < 1 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("trusted root has version %d", root.Signed.Version))
	}
	stored, err := tufmeta.ReadRole(ctx, r.view, tufmeta.RootFile(root.Signed.Version), tufmeta.MaxRootSize, metadata.Root())
	if err != nil {
		if errkind.Of(err) == errkind.Registry {
			return nil, err
		}
		return nil, forged("the registry's trust data has no root version %d, the one this machine trusts", root.Signed.Version)
	}
	same, err := tufmeta.SameSigned(root, stored)
	if err != nil {
		return nil, err
	}
	if !same {
		return nil, forged("the registry's root version %d is not the root this machine trusts", root.Signed.Version)
	}
	return root, nil
}

// walkRoots moves from start to the newest root of the view, one version
// at a time, each signed by a threshold of the previous root's keys and of
// its own. It refuses a view that lists more than MaxRootSteps newer roots
// before reading any of them, and a view whose newest root is older than
// start (a rollback).
func walkRoots(ctx context.Context, view tufmeta.View, start *metadata.Metadata[metadata.RootType]) (*metadata.Metadata[metadata.RootType], error) {
	latest := tufmeta.LatestRootVersion(view.Files())
	from := start.Signed.Version
	if latest < from {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf(
			"rollback attack: the registry's newest root is version %d, older than version %d that this machine trusts", latest, from))
	}
	if latest-from > tufmeta.MaxRootSteps {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf(
			"endless data attack: the registry lists root versions up to %d, more than %d after version %d that this machine trusts", latest, tufmeta.MaxRootSteps, from))
	}
	prev := start
	for v := from + 1; v <= latest; v++ {
		root, err := tufmeta.ReadRole(ctx, view, tufmeta.RootFile(v), tufmeta.MaxRootSize, metadata.Root())
		if err != nil {
			return nil, err
		}
		if root.Signed.Version != v {
			return nil, tufmeta.Corrupt("%s has version %d", tufmeta.RootFile(v), root.Signed.Version)
		}
		if err := prev.VerifyDelegate(metadata.ROOT, root); err != nil {
			return nil, untrusted("root version %d is not signed by the keys of version %d", v, v-1)
		}
		if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
			return nil, untrusted("root version %d is not signed by its own keys", v)
		}
		prev = root
	}
	return prev, nil
}

// floor holds the versions a client trusted last, for the rollback checks.
type floor struct {
	timestamp *metadata.Metadata[metadata.TimestampType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
}

// trustedFloor parses the timestamp and snapshot trusted last, keeping each
// only when root's keys for it still sign it (after a key rotation TUF
// clients drop them: fast-forward recovery).
func trustedFloor(root *metadata.Metadata[metadata.RootType], o repoOptions) floor {
	var f floor
	if o.trustedTimestamp != nil {
		if ts, err := metadata.Timestamp().FromBytes(o.trustedTimestamp); err == nil && root.VerifyDelegate(metadata.TIMESTAMP, ts) == nil {
			f.timestamp = ts
		}
	}
	if o.trustedSnapshot != nil {
		if s, err := metadata.Snapshot().FromBytes(o.trustedSnapshot); err == nil && root.VerifyDelegate(metadata.SNAPSHOT, s) == nil {
			f.snapshot = s
		}
	}
	return f
}

// checkTimestampFloor refuses a timestamp older than the one trusted last.
func (f floor) checkTimestamp(ts *metadata.Metadata[metadata.TimestampType]) error {
	if f.timestamp == nil {
		return nil
	}
	if ts.Signed.Version < f.timestamp.Signed.Version {
		return rollback("timestamp", ts.Signed.Version, f.timestamp.Signed.Version)
	}
	old, now := f.timestamp.Signed.Meta["snapshot.json"], ts.Signed.Meta["snapshot.json"]
	if old != nil && now != nil && now.Version < old.Version {
		return rollback("snapshot", now.Version, old.Version)
	}
	return nil
}

// checkSnapshot refuses a snapshot that lists any role at a version older
// than the snapshot trusted last did.
func (f floor) checkSnapshot(s *metadata.Metadata[metadata.SnapshotType]) error {
	if f.snapshot == nil {
		return nil
	}
	for name, old := range f.snapshot.Signed.Meta {
		now, ok := s.Signed.Meta[name]
		if old == nil {
			continue
		}
		if !ok || now == nil {
			return errkind.Mark(errkind.Verification, fmt.Errorf("rollback attack: the registry's snapshot no longer lists %s", name))
		}
		if now.Version < old.Version {
			return rollback(name, now.Version, old.Version)
		}
	}
	return nil
}

func rollback(what string, got, trusted int64) error {
	if trusted > tufmeta.AbsurdVersion {
		return fastForwarded(what, trusted)
	}
	return errkind.Mark(errkind.Verification, fmt.Errorf(
		"rollback attack: the registry's %s has version %d, older than version %d this machine trusted", what, got, trusted))
}

// fastForwarded is the error for a version that a stolen online key pushed
// out of reach.
func fastForwarded(role string, version int64) error {
	key := "timestamp"
	if role != metadata.TIMESTAMP {
		key = "snapshot and timestamp"
	}
	return errkind.Mark(errkind.Verification, fmt.Errorf(
		"%s version %d was fast-forwarded (a stolen online key?): the owners must rotate the %s keys, see docs/rotation.md", role, version, key))
}

// checkVersion refuses a loaded version that is not positive.
func checkVersion(file string, v int64) error {
	if v < 1 {
		return tufmeta.Corrupt("%s has version %d", file, v)
	}
	return nil
}

// nextVersion is the version after v for role, refusing an overflow.
func nextVersion(role string, v int64) (int64, error) {
	if v >= math.MaxInt64 || v < 0 {
		key := role
		if role != metadata.TIMESTAMP && role != metadata.SNAPSHOT {
			return 0, errkind.Mark(errkind.Verification, fmt.Errorf("%s version %d cannot grow: rotate the %s keys, see docs/rotation.md", role, v, key))
		}
		return 0, errkind.Mark(errkind.Verification, fmt.Errorf(
			"%s version was fast-forwarded to %d: rotate the %s key, see docs/rotation.md", role, v, key))
	}
	return v + 1, nil
}

func forged(format string, args ...any) error {
	return errkind.Mark(errkind.Verification, fmt.Errorf("forged trust data: "+format+"; refusing to sign on top of it", args...))
}

// SameRootAt reports whether the store's root of version v, as this
// repository was opened from, has the same signed content as rootJSON.
func (r *Repo) SameRootAt(ctx context.Context, v int64, rootJSON []byte) bool {
	other, err := metadata.Root().FromBytes(rootJSON)
	if err != nil {
		return false
	}
	var stored *metadata.Metadata[metadata.RootType]
	if v == r.root.Signed.Version && !r.rootChanged {
		stored = r.root
	} else if stored, err = tufmeta.ReadRole(ctx, r.view, tufmeta.RootFile(v), tufmeta.MaxRootSize, metadata.Root()); err != nil {
		return false
	}
	same, err := tufmeta.SameSigned(stored, other)
	return err == nil && same
}

// SameSignedRoot reports whether rootJSON is root metadata whose signed
// content is root's.
func SameSignedRoot(rootJSON []byte, root *metadata.Metadata[metadata.RootType]) bool {
	other, err := metadata.Root().FromBytes(rootJSON)
	if err != nil || root == nil {
		return false
	}
	same, err := tufmeta.SameSigned(other, root)
	return err == nil && same
}
