package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

const testManifestJSON = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`

// testManifest returns the image manifest the tests sign.
func testManifest() []byte { return []byte(testManifestJSON) }

func testDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// mustVerify verifies tag and fails the test on error.
func mustVerify(t *testing.T, view tufmeta.View, tag string, opts ...Option) *Result {
	t.Helper()
	got, err := Target(context.Background(), view, tag, opts...)
	if err != nil {
		t.Fatalf("Target(%s): %v", tag, err)
	}
	return got
}

// wantVerificationError verifies tag, expecting errkind.Verification with
// a message containing want.
func wantVerificationError(t *testing.T, view tufmeta.View, tag, want string, opts ...Option) error {
	t.Helper()
	_, err := Target(context.Background(), view, tag, opts...)
	if err == nil {
		t.Fatalf("Target(%s) succeeded, want an error containing %q", tag, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Target(%s) error = %q, want it to contain %q", tag, err, want)
	}
	if got := errkind.Of(err); got != errkind.Verification {
		t.Fatalf("Target(%s) error kind = %d, want Verification: %v", tag, got, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line: %q", err)
	}
	return err
}

func TestVerifyReturnsSignedDigestLengthMediaTypeAndRole(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()

	got := mustVerify(t, view, "v1", WithTrustDir(t.TempDir()))
	if got.Name != "v1" || got.SHA256 != testDigest(testManifest()) || got.Length != int64(len(testManifest())) {
		t.Fatalf("got %+v, want v1 with digest %s and length %d", got, testDigest(testManifest()), len(testManifest()))
	}
	if got.Digest() != "sha256:"+testDigest(testManifest()) {
		t.Fatalf("Digest() = %s", got.Digest())
	}
	if got.MediaType != "application/vnd.oci.image.manifest.v1+json" || !strings.Contains(string(got.Custom), "mediaType") {
		t.Fatalf("media type %q, custom %s", got.MediaType, got.Custom)
	}
	if got.Role != metadata.TARGETS || got.RootVersion != 1 {
		t.Fatalf("role %q root version %d, want targets and 1", got.Role, got.RootVersion)
	}
}

func TestVerifyTrustsOnFirstUseOnlyTheFirstTime(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	dir := t.TempDir()

	if got := mustVerify(t, view, "v1", WithTrustDir(dir)); !got.TOFU {
		t.Fatal("first contact: TOFU = false, want true")
	}
	if v, err := TrustedRootVersion(dir); err != nil || v != 1 {
		t.Fatalf("TrustedRootVersion = %d, %v; want 1", v, err)
	}
	if got := mustVerify(t, view, "v1", WithTrustDir(dir)); got.TOFU {
		t.Fatal("second contact: TOFU = true, want false")
	}
}

func TestVerifyFirstUseRecordsNoTrustWhenVerificationFails(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	view := fx.publish()
	dir := t.TempDir()

	wantVerificationError(t, view, "v1", "tag v1 is not signed", WithTrustDir(dir))
	if v, err := TrustedRootVersion(dir); err != nil || v != 0 {
		t.Fatalf("TrustedRootVersion after failed first use = %d, %v; want 0", v, err)
	}
}

func TestVerifyPinnedRootWalksForwardThroughTwoRotations(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	pinned := fx.rootJSON(1)
	fx.rotateRootKey()
	fx.rotateRootKey()
	view := fx.publish()
	dir := t.TempDir()

	got := mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(pinned))
	if got.RootVersion != 3 || got.TOFU {
		t.Fatalf("root version %d TOFU %v, want 3 and false", got.RootVersion, got.TOFU)
	}
	if v, err := TrustedRootVersion(dir); err != nil || v != 3 {
		t.Fatalf("TrustedRootVersion = %d, %v; want 3", v, err)
	}
}

func TestVerifyKeepsTheTrustDirRootWhenNewerThanThePin(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	fx.publish()
	pinned := fx.rootJSON(1)
	// Root 2 also replaces the timestamp key: root 1 does not trust the
	// new timestamps.
	r := &fx.root.Signed
	if err := r.RevokeKey(fx.keys[metadata.TIMESTAMP].id, metadata.TIMESTAMP); err != nil {
		t.Fatal(err)
	}
	fx.keys[metadata.TIMESTAMP] = newFixKey(t, false)
	if err := r.AddKey(fx.keys[metadata.TIMESTAMP].key, metadata.TIMESTAMP); err != nil {
		t.Fatal(err)
	}
	fx.rotateRootKey()
	view := fx.publish()
	dir := t.TempDir()
	mustVerify(t, view, "v1", WithTrustDir(dir), WithRoot(pinned))

	// Without 2.root.json, only a client starting from root 2 verifies.
	noChain := view.with("2.root.json", nil)
	if got := mustVerify(t, noChain, "v1", WithTrustDir(dir), WithRoot(pinned)); got.RootVersion != 2 {
		t.Fatalf("root version %d, want the trust dir's 2", got.RootVersion)
	}
	wantVerificationError(t, noChain, "v1", "untrusted signature: timestamp", WithTrustDir(t.TempDir()), WithRoot(pinned))
}

func TestVerifyResolvesADelegatedTargetToItsRole(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.delegate("ci", []string{"ci-*"}, false)
	fx.addTarget("ci", "ci-42", testManifest())
	fx.addTarget(metadata.TARGETS, "v1", []byte("other"))
	view := fx.publish()
	dir := t.TempDir()

	if got := mustVerify(t, view, "ci-42", WithTrustDir(dir)); got.Role != "ci" || got.SHA256 != testDigest(testManifest()) {
		t.Fatalf("got role %q digest %s, want ci and %s", got.Role, got.SHA256, testDigest(testManifest()))
	}
	if got := mustVerify(t, view, "v1", WithTrustDir(dir)); got.Role != metadata.TARGETS {
		t.Fatalf("got role %q, want targets", got.Role)
	}
}

func TestVerifyHonoursTerminatingDelegations(t *testing.T) {
	t.Parallel()
	for _, terminating := range []bool{false, true} {
		fx := newFixture(t)
		fx.delegate("first", []string{"*"}, terminating)
		fx.delegate("second", []string{"*"}, false)
		fx.addTarget("second", "v1", testManifest())
		view := fx.publish()
		if terminating {
			wantVerificationError(t, view, "v1", "tag v1 is not signed", WithTrustDir(t.TempDir()))
			continue
		}
		if got := mustVerify(t, view, "v1", WithTrustDir(t.TempDir())); got.Role != "second" {
			t.Fatalf("non-terminating: role %q, want second", got.Role)
		}
	}
}

func TestVerifyReportsAnAbsentTagAsNotSigned(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	err := wantVerificationError(t, view, "v2", "tag v2 is not signed", WithTrustDir(t.TempDir()))
	if err.Error() != "tag v2 is not signed" {
		t.Fatalf("error = %q", err)
	}
}

func TestVerifyKeepsTheKindOfViewReadErrors(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	for _, name := range []string{"1.root.json", "timestamp.json", "1.targets.json"} {
		view := fx.publish()
		view = view.with(name, view.files[name])
		view.readErr[name] = errkind.Mark(errkind.Registry, errors.New("registry unreachable"))
		_, err := Target(context.Background(), view, "v1", WithTrustDir(t.TempDir()))
		if errkind.Of(err) != errkind.Registry || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: error %v of kind %d, want Registry naming the file", name, err, errkind.Of(err))
		}
	}
}

func TestVerifyStopsWhenTheContextIsCancelled(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.addTarget(metadata.TARGETS, "v1", testManifest())
	view := fx.publish()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Target(ctx, view, "v1", WithTrustDir(t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestVerifyRejectsMissingOrBadOptions(t *testing.T) {
	t.Parallel()
	view := newFixture(t).publish()
	cases := map[string][]Option{
		"no trust dir": nil,
		"empty root":   {WithTrustDir(t.TempDir()), WithRoot(nil)},
		"bad root":     {WithTrustDir(t.TempDir()), WithRoot([]byte(`{"signed":{}}`))},
		"nil clock":    {WithTrustDir(t.TempDir()), WithClock(nil)},
	}
	for name, opts := range cases {
		if _, err := Target(context.Background(), view, "v1", opts...); errkind.Of(err) != errkind.Input {
			t.Errorf("%s: error %v of kind %d, want Input", name, err, errkind.Of(err))
		}
	}
}

func TestFetcherReportsMissingFilesAsHTTPNotFound(t *testing.T) {
	t.Parallel()
	f := newFetchView(context.Background(), newMemView(map[string][]byte{"2.ci/x.json": []byte("{}"), "1.ci.json": []byte("{}")}))
	_, err := f.DownloadFile(fetchBaseURL+"2.root.json", 100, 0)
	var httpErr *metadata.ErrDownloadHTTP
	if !errors.As(err, &httpErr) || httpErr.StatusCode != http.StatusNotFound {
		t.Fatalf("missing file: %v, want ErrDownloadHTTP 404", err)
	}
	if data, err := f.DownloadFile(fetchBaseURL+"1.ci.json", 100, 0); err != nil || string(data) != "{}" {
		t.Fatalf("present file: %q, %v", data, err)
	}
	if _, err := f.DownloadFile(fetchBaseURL+"2.ci%2Fx.json", 100, 0); err == nil {
		t.Fatal("a name with a slash was served")
	}
	if _, err := f.DownloadFile("https://example.com/1.ci.json", 100, 0); err == nil {
		t.Fatal("a foreign url was served")
	}
}
