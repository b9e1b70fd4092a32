package tuf

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Publish signs every changed role, then a new snapshot and timestamp, and
// publishes them in one step. Old versions of re-signed roles are dropped
// from the store (every root version stays, for clients that walk the root
// chain). It returns an error wrapping ErrConflict when another publisher
// moved the store on since the repository was opened. Every key that may
// sign is unlocked first (Unlocker), before the first signature.
func (r *Repo) Publish(ctx context.Context, keys Keyring) error {
	if err := unlock(ctx, keys, r.publishKeys(ctx)); err != nil {
		return err
	}
	now := r.now()
	exp := r.Expiries()
	put := map[string][]byte{}
	var remove []string

	if r.rootChanged {
		prev := r.root.Signed.Version
		next, err := nextVersion(metadata.ROOT, prev)
		if err != nil {
			return err
		}
		r.root.Signed.Version = next
		r.root.Signed.Expires = expiry(now, exp.Root)
		if err := r.signRoot(ctx, keys); err != nil {
			return err
		}
		data, err := r.root.ToBytes(false)
		if err != nil {
			return fmt.Errorf("encoding root: %w", err)
		}
		put[tufmeta.RootFile(prev+1)] = data
	}

	removed, err := r.publishTargetsRoles(ctx, keys, expiry(now, exp.Targets), put)
	if err != nil {
		return err
	}
	remove = append(remove, removed...)

	if err := r.publishWithSnapshot(ctx, keys, now, put, remove); err != nil {
		return err
	}
	r.changed = map[string]bool{}
	r.cosign = nil
	r.rootChanged = false
	return nil
}

// publishWithSnapshot signs a new snapshot listing the roles as they are
// now and a new timestamp for it, and publishes them with put, dropping
// remove and the superseded snapshot. Snapshot and timestamp are re-signed
// on every publish, so that a push also renews their expiry.
func (r *Repo) publishWithSnapshot(ctx context.Context, keys Keyring, now time.Time, put map[string][]byte, remove []string) error {
	exp := r.Expiries()
	oldSnap := r.snapshot.Signed.Version
	for name, meta := range r.snapshot.Signed.Meta {
		// Bins listed with length and hash by an older signet shrink to
		// their version at the next publish (snapshotMeta).
		if _, bin := tufmeta.BinOwner(strings.TrimSuffix(name, ".json")); bin && meta != nil {
			r.snapshot.Signed.Meta[name] = &metadata.MetaFiles{Version: meta.Version}
		}
	}
	restartSnap, restartTS := r.onlineKeysRotated()
	snapVersion, err := nextVersion(metadata.SNAPSHOT, oldSnap)
	if restartSnap {
		snapVersion, err = 1, nil
	}
	if err != nil {
		return err
	}
	tsVersion, err := nextVersion(metadata.TIMESTAMP, r.timestamp.Signed.Version)
	if restartTS {
		tsVersion, err = 1, nil
	}
	if err != nil {
		return err
	}
	r.snapshot.Signed.Version = snapVersion
	r.snapshot.Signed.Expires = expiry(now, exp.Snapshot)
	ids, threshold := r.RoleKeyIDs(metadata.SNAPSHOT)
	if err := signWith(ctx, r.snapshot, metadata.SNAPSHOT, ids, threshold, keys); err != nil {
		return err
	}
	snapData, err := r.snapshot.ToBytes(false)
	if err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	put[tufmeta.Versioned(r.snapshot.Signed.Version, metadata.SNAPSHOT)] = snapData
	if oldSnap > 0 && oldSnap != snapVersion {
		remove = append(remove, tufmeta.Versioned(oldSnap, metadata.SNAPSHOT))
	}

	r.timestamp.Signed.Version = tsVersion
	r.timestamp.Signed.Expires = expiry(now, exp.Timestamp)
	r.timestamp.Signed.Meta["snapshot.json"] = metaFor(r.snapshot.Signed.Version, snapData)
	ids, threshold = r.RoleKeyIDs(metadata.TIMESTAMP)
	if err := signWith(ctx, r.timestamp, metadata.TIMESTAMP, ids, threshold, keys); err != nil {
		return err
	}
	tsData, err := r.timestamp.ToBytes(false)
	if err != nil {
		return fmt.Errorf("encoding timestamp: %w", err)
	}
	put["timestamp.json"] = tsData

	if err := r.view.Publish(ctx, put, remove); err != nil {
		return fmt.Errorf("publishing trust data: %w", err)
	}
	return nil
}

// onlineKeysRotated tells whether the timestamp and the snapshot being
// replaced are no longer signed by the keys the root names now: their keys
// were rotated. TUF clients then drop the ones they trusted (fast-forward
// recovery), so versions start again from 1: the timestamp's whenever its
// keys changed, the snapshot's only when both keys changed (a client that
// still trusts the old timestamp would take a lower snapshot version for a
// rollback).
func (r *Repo) onlineKeysRotated() (snapshot, timestamp bool) {
	if r.timestamp.Signed.Version == 0 {
		return false, false // a new repository
	}
	timestamp = !r.signedByRole(metadata.TIMESTAMP, r.timestamp.Signatures)
	snapshot = timestamp && !r.signedByRole(metadata.SNAPSHOT, r.snapshot.Signatures)
	return snapshot, timestamp
}

// signedByRole tells whether sigs, verified when the file was loaded,
// come from a threshold of the keys the root names for role now. (The
// file's content may have changed since it was loaded; its signatures
// have not.)
func (r *Repo) signedByRole(role string, sigs []metadata.Signature) bool {
	rr, ok := r.root.Signed.Roles[role]
	if !ok {
		return false
	}
	seen := map[string]bool{}
	for _, s := range sigs {
		if slices.Contains(rr.KeyIDs, s.KeyID) {
			seen[s.KeyID] = true
		}
	}
	return len(seen) >= rr.Threshold
}

// metaFor describes one metadata file for snapshot or timestamp: version,
// length and SHA-256, so a client can tell a file from a mixed-in other one.
func metaFor(version int64, data []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(data)
	return &metadata.MetaFiles{
		Version: version,
		Length:  int64(len(data)),
		Hashes:  metadata.Hashes{"sha256": sum[:]},
	}
}

// snapshotMeta describes a targets role for snapshot. A hash bin (not the
// `_bins` role itself) is listed by version only: the snapshot of a large
// repository lists hundreds of bins, and every verify parses it, so its
// entries stay small (a third of the size with length and hash). A bin is
// still bound to that version by its versioned file name and the version
// inside it, and to the targets keys by its signature; what the hash would
// add, pinning the exact bytes of a version, only matters against a holder
// of the targets keys, who can sign any bin anyway. Optional in TUF
// (https://theupdateframework.github.io/specification/latest/#file-formats-snapshot),
// and what python-tuf's own repository writes.
func snapshotMeta(role string, version int64, data []byte) *metadata.MetaFiles {
	if _, bin := tufmeta.BinOwner(role); bin {
		return &metadata.MetaFiles{Version: version}
	}
	return metaFor(version, data)
}

// signRoot signs a new root with a threshold of its own keys and, for a
// root that replaces another, a threshold of the previous root's keys.
// Distinct keys are counted per threshold, and no key signs unless both
// thresholds can be met (so a missing key costs no YubiKey touch). Too few
// keys at hand is a *MissingKeysError.
func (r *Repo) signRoot(ctx context.Context, keys Keyring) error {
	prev, err := r.previousRoot(ctx)
	if err != nil {
		return err
	}
	r.root.ClearSignatures()
	plan, after, err := signingPlan(ctx, keys, rootThresholds(r.root, prev))
	if err != nil {
		return err
	}
	if err := missing(after); err != nil {
		return err
	}
	return signPlanned(ctx, r.root, metadata.ROOT, plan)
}

// signWith signs m with the first threshold keys of ids that the keyring
// holds. Keys it does not hold are skipped; fewer than threshold is an
// error naming how many are missing.
//
// By default every existing signature is cleared first. With keepValid,
// signatures by keys of ids that still verify over m's content are kept
// and count towards the threshold (a second holder adds its signature to
// content that is unchanged); when the content changed they no longer
// verify, so the role is signed from scratch. With allowPartial, fewer
// than threshold signatures (but at least its minimum) are accepted.
func signWith[T metadata.Roles](ctx context.Context, m *metadata.Metadata[T], role string, ids []string, threshold int, keys Keyring, opts ...signOption) error {
	var p signPolicy
	for _, o := range opts {
		o(&p)
	}
	have := map[string]bool{}
	if p.keep != nil {
		have = keepSignatures(m, ids, p.keep)
	} else {
		m.ClearSignatures()
	}
	signed := len(have)
	for _, id := range ids {
		if signed >= threshold {
			break
		}
		if have[id] {
			continue
		}
		s, err := keys.Signer(ctx, id, role)
		if errors.Is(err, ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("signing %s: %w", role, err)
		}
		if err := signMetadata(ctx, m, s); err != nil {
			return errkind.Mark(errkind.Key, fmt.Errorf("signing %s with key %s: %w", role, keyid.Short(id), err))
		}
		have[id] = true
		signed++
	}
	if signed < threshold && !(p.partial && signed >= p.min) {
		if p.partial {
			return notAllowedToSign(role, ids)
		}
		return errkind.Mark(errkind.Key, fmt.Errorf("signing %s: %d of %d required keys at hand (key IDs %s)", role, signed, threshold, strings.Join(keyid.Shorts(ids), ", ")))
	}
	return nil
}
