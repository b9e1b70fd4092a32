package verify

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// tamper returns data with old replaced by new, failing when old is absent.
func tamper(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%q not found in %s", old, data)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

func TestVerifyRejectsTargetsChangedAfterSigning(t *testing.T) {
	t.Parallel()
	for _, hashes := range []bool{true, false} {
		fx := newFixture(t)
		fx.hashes = hashes
		fx.addTarget(metadata.TARGETS, "v1", testManifest())
		view := fx.publish()
		digest := testDigest(testManifest())
		forged := strings.Repeat("0", len(digest))
		view = view.with("1.targets.json", tamper(t, view.files["1.targets.json"], digest, forged))

		want := "tampered metadata: 1.targets.json was changed after it was signed"
		if hashes {
			want = "tampered metadata: 1.targets.json does not match the length and hash that snapshot lists for it"
		}
		wantVerificationError(t, view, "v1", want, WithTrustDir(t.TempDir()))
	}
}

func TestVerifyRejectsTargetsSignedByAnUntrustedKey(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.keys[metadata.TARGETS] = newFixKey(t, false) // not in root
	view := fx.publish()
	wantVerificationError(t, view, "v1", "untrusted signature: targets is not signed by a threshold of trusted keys (0 of 1)", WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsADelegatedRoleSignedByAnUntrustedKey(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.delegate("ci", []string{"*"}, false)
	fx.addTarget("ci", "v1", testManifest())
	fx.keys["ci"] = newFixKey(t, false) // not the key targets delegates to
	view := fx.publish()
	wantVerificationError(t, view, "v1", "untrusted signature: ci is not signed by a threshold of trusted keys (0 of 1)", WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsAnOlderPublishAsRollback(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	older := fx.publish()
	fx.addTarget(metadata.TARGETS, "v2", testManifest())
	newer := fx.publish()
	dir := t.TempDir()

	mustVerify(t, newer, "v1", WithTrustDir(dir))
	wantVerificationError(t, older, "v1", "rollback attack: remote timestamp version 1 is older than trusted version 2", WithTrustDir(dir))
}

func TestVerifyRejectsAnExpiredTimestampAsFreeze(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	expired := fx.now.Add(-time.Hour)
	fx.expires[metadata.TIMESTAMP] = expired
	view := fx.publish()
	err := wantVerificationError(t, view, "v1", "freeze attack: timestamp expired at "+expired.Format(time.RFC3339), WithTrustDir(t.TempDir()))
	if !errors.Is(err, &metadata.ErrExpiredMetadata{}) {
		t.Fatalf("error %v does not wrap go-tuf's ErrExpiredMetadata", err)
	}
}

func TestVerifyRejectsAFrozenRepositoryOnceItsTimestampExpires(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir))

	// The same view, served unchanged eight days later.
	later := func() time.Time { return fx.now.Add(8 * 24 * time.Hour) }
	want := "freeze attack: timestamp expired at " + fx.timestamp.Signed.Expires.Format(time.RFC3339)
	wantVerificationError(t, view, "v1", want, WithTrustDir(dir), WithClock(later))
}

func TestVerifyRejectsAnExpiredDelegationAsFreeze(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.delegate("ci", []string{"*"}, false)
	fx.addTarget("ci", "v1", testManifest())
	fx.expires["ci"] = fx.now.Add(-time.Minute)
	view := fx.publish()
	wantVerificationError(t, view, "v1", "freeze attack: ci expired at "+fx.expires["ci"].Format(time.RFC3339), WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsTargetsFromAnotherPublishAsMixAndMatch(t *testing.T) {
	t.Parallel()
	for _, hashes := range []bool{true, false} {
		fx := newFixture(t)
		fx.hashes = hashes
		fx.addTarget(metadata.TARGETS, "v1", testManifest())
		first := fx.publish()
		fx.addTarget(metadata.TARGETS, "v2", testManifest())
		second := fx.publish()
		mixed := second.with("2.targets.json", first.files["1.targets.json"])
		wantVerificationError(t, mixed, "v1", "mix-and-match attack: targets version 1 does not match snapshot's 2", WithTrustDir(t.TempDir()))
	}
}

func TestVerifyRejectsASnapshotFromAnotherPublishAsMixAndMatch(t *testing.T) {
	t.Parallel()
	for _, hashes := range []bool{true, false} {
		fx := newFixture(t)
		fx.hashes = hashes
		fx.addTarget(metadata.TARGETS, "v1", testManifest())
		first := fx.publish()
		fx.addTarget(metadata.TARGETS, "v2", testManifest())
		second := fx.publish()
		mixed := second.with("2.snapshot.json", first.files["1.snapshot.json"])
		wantVerificationError(t, mixed, "v1", "mix-and-match attack: snapshot version 1 does not match timestamp's 2", WithTrustDir(t.TempDir()))
	}
}

func TestVerifyRejectsARootSignedOnlyByItsNewKeyAsKeyRemoval(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	pinned := fx.rootJSON(1)
	attacker := newFixKey(t, true)
	fx.rotateRoot([]fixKey{attacker}, attacker)
	view := fx.publish()
	wantVerificationError(t, view, "v1", "key removal attack: 2.root.json replaces the root keys without a threshold of signatures from trusted root version 1 (0 of 1)", WithTrustDir(t.TempDir()), WithRoot(pinned))
}

func TestVerifyRejectsARootNotSignedByItsOwnNewKey(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	pinned := fx.rootJSON(1)
	old := fx.rootKeys
	fx.rotateRoot([]fixKey{newFixKey(t, true)}, old...)
	view := fx.publish()
	wantVerificationError(t, view, "v1", "untrusted signature: 2.root.json is not signed by a threshold of its own root keys (0 of 1)", WithTrustDir(t.TempDir()), WithRoot(pinned))
}

func TestVerifyRejectsAReplayedRootUnderTheNextVersionAsRollback(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	view = view.with("2.root.json", fx.rootJSON(1))
	wantVerificationError(t, view, "v1", "rollback attack: 2.root.json holds root version 1 instead of 2", WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsAMissingTimestamp(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish().with("timestamp.json", nil)
	wantVerificationError(t, view, "v1", "incomplete trust data: timestamp.json is missing", WithTrustDir(t.TempDir()))
}

func TestVerifyBoundsTheSizeOfTheTimestamp(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	// Trailing spaces keep the JSON and its signature valid.
	huge := append(bytes.Clone(view.files["timestamp.json"]), bytes.Repeat([]byte(" "), timestampMaxLength)...)

	bounded := view.with("timestamp.json", huge)
	_, err := Target(context.Background(), bounded, "v1", WithTrustDir(t.TempDir()))
	if !errors.Is(err, errMemTooLarge) {
		t.Fatalf("error %v, want the view's size refusal", err)
	}
	if got := bounded.readBound("timestamp.json"); got != timestampMaxLength {
		t.Fatalf("timestamp.json read with bound %d, want %d", got, timestampMaxLength)
	}

	// A view that ignores the bound is caught by the fetcher.
	unbounded := view.with("timestamp.json", huge)
	unbounded.unbounded = true
	wantVerificationError(t, unbounded, "v1", "endless data attack: timestamp.json is larger than the 16384 bytes allowed", WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsTargetsLongerThanSnapshotLists(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	padded := append(bytes.Clone(view.files["1.targets.json"]), ' ')
	view = view.with("1.targets.json", padded)
	wantVerificationError(t, view, "v1", "tampered metadata: 1.targets.json does not match the length and hash that snapshot lists for it", WithTrustDir(t.TempDir()))
}

func TestVerifyRejectsAnExpiredRootAsFreeze(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	later := func() time.Time { return fx.now.Add(400 * 24 * time.Hour) }
	want := "freeze attack: root expired at " + fx.root.Signed.Expires.Format(time.RFC3339)
	wantVerificationError(t, view, "v1", want, WithTrustDir(t.TempDir()), WithClock(later))
}

func TestVerifyRejectsASnapshotListingOlderTargetsAsRollback(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	fx.addTarget(metadata.TARGETS, "v2", testManifest())
	dir := t.TempDir()
	mustVerify(t, fx.publish(), "v1", WithTrustDir(dir))

	// Snapshot and timestamp move on, but list targets version 1 again.
	fx.targets.Signed.Version = 0
	fx.dirty[metadata.TARGETS] = true
	wantVerificationError(t, fx.publish(), "v1", "rollback attack: snapshot lists targets.json version 1, older than trusted version 2", WithTrustDir(dir))
}

func TestVerifyRejectsATimestampListingAnOlderSnapshotAsRollback(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	dir := t.TempDir()
	mustVerify(t, fx.publish(), "v1", WithTrustDir(dir))

	// Timestamp version 3 lists snapshot version 1 where 2 was trusted.
	fx.snapshot.Signed.Version = 0
	wantVerificationError(t, fx.publish(), "v1", "rollback attack: timestamp version 3 lists an older snapshot than trusted timestamp version 2", WithTrustDir(dir))
}

func TestVerifyRejectsASignedTimestampWithoutSnapshotMetaWithoutPanicking(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	fx.timestamp.Signed.Meta = map[string]*metadata.MetaFiles{}
	view = view.with("timestamp.json", fixSign(t, fx.timestamp, fx.keys[metadata.TIMESTAMP]))
	wantVerificationError(t, view, "v1", "invalid metadata: timestamp.json is malformed", WithTrustDir(t.TempDir()))
}
