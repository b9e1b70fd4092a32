package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// idView is a memView that names its content, as signet's registry view
// does with the manifest digest, and counts the files read from it.
type idView struct {
	*memView
	id string

	mu    sync.Mutex
	reads int
}

var _ IdentifiedView = (*idView)(nil)

// identified wraps v with an identity derived from its files.
func identified(v *memView) *idView {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(v.files)) {
		sum := sha256.Sum256(v.files[name])
		h.Write([]byte(name + "=" + hex.EncodeToString(sum[:]) + "\n"))
	}
	return &idView{memView: v, id: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

func (v *idView) Identity() string { return v.id }

func (v *idView) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	v.mu.Lock()
	v.reads++
	v.mu.Unlock()
	return v.memView.ReadFile(ctx, name, maxSize)
}

func (v *idView) readCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.reads
}

// verifiedOnce publishes a repository signing v1, as an identified view,
// and verifies v1 once from a fresh trust directory, leaving a memo there.
func verifiedOnce(t *testing.T) (*fixture, *idView, string) {
	t.Helper()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := identified(fx.publish())
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir))
	return fx, view, dir
}

func TestVerifyAnswersARepeatedLookupInAnUnchangedViewWithoutReadingIt(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := identified(fx.publish())
	dir := t.TempDir()
	clock := WithClock(func() time.Time { return fx.now })

	first := mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(fx.rootJSON(1)), clock)
	if view.readCount() == 0 {
		t.Fatal("the first verify read nothing")
	}
	before := view.readCount()
	again := mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(fx.rootJSON(1)), clock)
	if n := view.readCount() - before; n != 0 {
		t.Fatalf("the second verify of an unchanged view read %d files, want 0", n)
	}
	if again.SHA256 != first.SHA256 || again.Length != first.Length || again.Role != first.Role ||
		again.RootVersion != first.RootVersion || again.MediaType != first.MediaType || again.TOFU {
		t.Fatalf("remembered lookup %+v differs from the verified one %+v", again, first)
	}
}

func TestVerifyRunsTheFullUpdateForATagNotLookedUpYet(t *testing.T) {
	t.Parallel()
	_, view, dir := verifiedOnce(t)
	wantVerificationError(t, view, "v2", "tag v2 is not signed", WithTrustDir(dir))
}

func TestVerifyDoesNotAnswerFromMemoryOnceMetadataExpires(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := identified(fx.publish())
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir), WithClock(func() time.Time { return fx.now }))

	// The same view, served unchanged after the timestamp expired: a
	// freeze, which only the full update can tell.
	expires := fx.timestamp.Signed.Expires
	want := "freeze attack: timestamp expired at " + expires.Format(time.RFC3339)
	wantVerificationError(t, view, "v1", want, WithTrustDir(dir), WithClock(func() time.Time { return expires.Add(time.Second) }))
}

func TestVerifyDoesNotAnswerFromMemoryForAnOlderViewAfterANewerOne(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	older := identified(fx.publish())
	fx.addTarget(metadata.TARGETS, "v2", testManifest())
	newer := identified(fx.publish())
	dir := t.TempDir()

	mustVerify(t, older, "v1", WithTrustDir(dir))
	mustVerify(t, newer, "v1", WithTrustDir(dir))
	wantVerificationError(t, older, "v1", "rollback attack: remote timestamp version 1 is older than trusted version 2", WithTrustDir(dir))
}

func TestVerifyDoesNotAnswerFromMemoryAfterAFailedUpdateMovedTrustOn(t *testing.T) {
	t.Parallel()
	fx, good, dir := verifiedOnce(t)

	// A newer publish whose snapshot is tampered with: the update trusts
	// and keeps its timestamp (version 2), then fails on the snapshot.
	fx.addTarget(metadata.TARGETS, "v2", testManifest())
	next := fx.publish()
	snap := slices.Clone(next.files["2.snapshot.json"])
	snap[len(snap)-3] ^= 1
	broken := identified(next.with("2.snapshot.json", snap))
	if _, err := Target(context.Background(), broken, "v1", WithTrustDir(dir)); err == nil {
		t.Fatal("a tampered snapshot verified")
	}
	if _, err := os.Stat(filepath.Join(dir, memoFile)); err == nil {
		t.Fatal("the memo survived a failed update")
	}
	// The first view again is now a rollback of the trusted timestamp.
	wantVerificationError(t, good, "v1", "rollback attack: remote timestamp version 1 is older than trusted version 2", WithTrustDir(dir))
}

func TestVerifyIgnoresAMemoWhenTheTrustedFilesChanged(t *testing.T) {
	t.Parallel()
	_, view, dir := verifiedOnce(t)

	// Another verify with the same home moved the trusted timestamp on.
	ts := filepath.Join(dir, "timestamp.json")
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ts, append(data, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	before := view.readCount()
	mustVerify(t, view, "v1", WithTrustDir(dir))
	if view.readCount() == before {
		t.Fatal("a memo bound to other trusted files answered the lookup")
	}
}

func TestVerifyIgnoresACorruptMemo(t *testing.T) {
	t.Parallel()
	_, view, dir := verifiedOnce(t)
	if err := os.WriteFile(filepath.Join(dir, memoFile), []byte(`{"view":`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := view.readCount()
	got := mustVerify(t, view, "v1", WithTrustDir(dir))
	if view.readCount() == before || got.SHA256 == "" {
		t.Fatal("a corrupt memo answered the lookup")
	}
}

func TestVerifyStartsFromANewerPinnedRootRatherThanTheMemo(t *testing.T) {
	t.Parallel()
	fx, view, dir := verifiedOnce(t)

	// Root version 2 is pinned but the view never published it: only the
	// full update notices that the pinned root does not sign this view's
	// chain (the trusted root is older than the pinned one).
	fx.rotateRootKey()
	before := view.readCount()
	_, err := Target(context.Background(), view, "v1", WithTrustDir(dir), WithRoot(fx.rootJSON(2)))
	if view.readCount() == before {
		t.Fatalf("the memo answered although a newer root was pinned (err %v)", err)
	}
}

func TestVerifyKeepsNoMemoForAViewWithoutIdentity(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir))
	if _, err := os.Stat(filepath.Join(dir, memoFile)); err == nil {
		t.Fatal("a memo was written for a view that cannot name its content")
	}
}

func TestVerifyKeepsNoMemoOfAnUpdateThatAnotherVerifyOvertook(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	older := identified(fx.publish())
	fx.addTarget(metadata.TARGETS, "v2", testManifest())
	newer := identified(fx.publish())

	// One verify of the older view runs in its own directory and ends
	// after another verify, sharing the home, trusted the newer view.
	slow := options{trustDir: t.TempDir(), now: time.Now}
	res, set, err := update(newFetchView(context.Background(), older), slow, fx.rootJSON(1), "root", "v1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustVerify(t, newer, "v1", WithTrustDir(dir), WithRoot(fx.rootJSON(1)))
	rememberLookup(dir, older, set, res)

	wantVerificationError(t, older, "v1", "rollback attack: remote timestamp version 1 is older than trusted version 2", WithTrustDir(dir))
}
