package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestVerifyWithAPinWalksTheChainToANewerTrustDirRootOnceAndRemembersIt(t *testing.T) {
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	pinned := fx.rootJSON(1)
	fx.rotateRootKey()
	fx.rotateRootKey()
	view := fx.publish()
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir)) // first use, up to root 3

	got := mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(pinned))
	if got.RootVersion != 3 {
		t.Fatalf("root version %d, want the trust dir's 3", got.RootVersion)
	}
	if _, err := os.Stat(filepath.Join(dir, originFile)); err != nil {
		t.Fatalf("the walk from the pin was not remembered: %v", err)
	}
	// Remembered: a view without the chain no longer needs it.
	if got := mustVerify(t, view.with("2.root.json", nil), "v1", WithTrustDir(dir), WithRoot(pinned)); got.RootVersion != 3 {
		t.Fatalf("root version %d after the walk was remembered, want 3", got.RootVersion)
	}
}

func TestVerifyDiscardsATrustDirRootThatDoesNotDescendFromThePinAndSaysSo(t *testing.T) {
	other := newFixture(t)
	other.addTarget(metadata.TARGETS, "v1", testManifest())
	other.rotateRootKey()
	other.rotateRootKey()
	dir := t.TempDir()
	mustVerify(t, other.publish(), "v1", WithTrustDir(dir)) // root 3 of another repository

	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	var discarded []int64
	got := mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(fx.rootJSON(1)),
		OnDiscardedRoot(func(v int64) { discarded = append(discarded, v) }))
	if len(discarded) != 1 || discarded[0] != 3 {
		t.Fatalf("discarded roots %v, want [3]", discarded)
	}
	if got.RootVersion != 1 {
		t.Fatalf("root version %d, want the pinned 1", got.RootVersion)
	}
	if v, err := TrustedRootVersion(dir); err != nil || v != 1 {
		t.Fatalf("TrustedRootVersion = %d, %v; want 1", v, err)
	}
}

func TestVerifyRefusesAPinnedRootNotSignedByItsOwnKeys(t *testing.T) {
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	unsigned := fixSign(t, fx.root)
	_, err := Target(t.Context(), view, "v1", WithTrustDir(t.TempDir()), WithRoot(unsigned))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "is not signed by a threshold of its own root keys") {
		t.Fatalf("unsigned pinned root: %v (kind %d)", err, errkind.Of(err))
	}
}

func TestAnAbsentTagMatchesErrNotSigned(t *testing.T) {
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	_, err := Target(t.Context(), fx.publish(), "v2", WithTrustDir(t.TempDir()))
	if !errors.Is(err, ErrNotSigned) {
		t.Fatalf("error %v does not match ErrNotSigned", err)
	}
}
