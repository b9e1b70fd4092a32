package notary_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/notary"
	"github.com/signet-dev/signet/notary/notarytest"
)

const gun = "registry.example.com/team/app"

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sign(role, tag, content string) string {
	return fmt.Sprintf("%s:%s=%s:%d", role, tag, digest(content), len(content))
}

// released is a repository shaped like `docker trust` leaves one: tags in
// targets/releases, one also (differently) in targets, one only in
// targets, one only in another signer's delegation.
func released(t *testing.T) *notarytest.Fixture {
	return notarytest.Generate(t, gun,
		sign("targets/releases", "v1", "manifest-v1"),
		sign("targets", "v1", "older-v1"),
		sign("targets", "v2", "manifest-v2"),
		sign("targets/alice", "v3", "manifest-v3"),
		sign("targets/alice", "v1", "manifest-v1"),
	)
}

func fetch(t *testing.T, url string, opts ...notary.Option) (*notary.Repository, error) {
	t.Helper()
	c, err := notary.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c.Fetch(context.Background(), gun)
}

func TestTagsResolveReleasesFirstThenTargetsAsDockerTrustDoes(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	repo, err := fetch(t, srv.URL, notary.WithRootCert(fx.RootCert))
	if err != nil {
		t.Fatal(err)
	}
	if !repo.Pinned || len(repo.RootKeyIDs) != 1 {
		t.Fatalf("pinned %v, root keys %v", repo.Pinned, repo.RootKeyIDs)
	}
	if r := repo.Role("targets/releases"); r == nil || len(r.Signers) != 1 || r.Threshold != 1 {
		t.Fatalf("targets/releases not verified: %+v", r)
	}
	tags := repo.Tags()
	want := []struct{ name, role, digest, signers string }{
		{"v1", "targets/releases", digest("manifest-v1"), "targets/alice,targets/releases"},
		{"v2", "targets", digest("manifest-v2"), "targets"},
		{"v3", "", digest("manifest-v3"), "targets/alice"},
	}
	if len(tags) != len(want) {
		t.Fatalf("tags %+v", tags)
	}
	for i, w := range want {
		got := tags[i]
		signers := strings.Join(sortedCopy(got.Signers), ",")
		if got.Name != w.name || got.Role != w.role || got.Digest() != "sha256:"+w.digest || signers != w.signers {
			t.Errorf("tag %d = %s role %q digest %s signers %s; want %+v", i, got.Name, got.Role, got.Digest(), signers, w)
		}
	}
	if tags[0].Length != int64(len("manifest-v1")) {
		t.Errorf("v1 length %d", tags[0].Length)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestWithoutAPinnedCertTheRootIsTrustedOnFirstUse(t *testing.T) {
	t.Parallel()
	fx := released(t)
	repo, err := fetch(t, notarytest.Serve(t, fx).URL)
	if err != nil {
		t.Fatal(err)
	}
	if repo.Pinned {
		t.Fatal("a root fetched without a pin says it was pinned")
	}
	if len(repo.RootCerts) != 1 || !bytes.Equal(repo.RootCerts[0].Raw, fx.RootCert.Raw) {
		t.Fatal("the root certificate reported is not the root key's")
	}
}

func wantRefused(t *testing.T, err error, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want %v", err, sentinel)
	}
	if errkind.Of(err) != errkind.Verification {
		t.Fatalf("error %v is kind %d, want a verification failure", err, errkind.Of(err))
	}
}

func TestARootNotSignedByThePinnedCertificateIsRefused(t *testing.T) {
	t.Parallel()
	// Another repository of the same GUN stands for a substituted root, or
	// an old one served again after the owner rotated to the pinned key.
	served := released(t)
	pinned := notarytest.Generate(t, gun, sign("targets", "v1", "x"))
	_, err := fetch(t, notarytest.Serve(t, served).URL, notary.WithRootCert(pinned.RootCert))
	wantRefused(t, err, notary.ErrRootMismatch)
}

func TestARootForAnotherGUNIsRefused(t *testing.T) {
	t.Parallel()
	other := notarytest.Generate(t, "registry.example.com/team/other", sign("targets", "v1", "x"))
	srv := notarytest.Serve(t, other)
	// Serve other's files under gun's URL.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.Replace(r.URL.Path, gun, other.GUN, 1)
		http.Redirect(w, r, srv.URL+r.URL.Path, http.StatusFound)
	})
	front := httptest.NewServer(mux)
	defer front.Close()
	_, err := fetch(t, front.URL)
	wantRefused(t, err, notary.ErrInvalid)
	if !strings.Contains(err.Error(), "not "+gun) {
		t.Fatalf("error does not say the certificate is for another GUN: %v", err)
	}
}

// rewrite replaces old with new in a role's file once, failing if absent.
func rewrite(t *testing.T, srv *notarytest.Server, fx *notarytest.Fixture, role, old, new string) {
	t.Helper()
	b := fx.Files[role]
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", role, old)
	}
	srv.Set(role, bytes.Replace(b, []byte(old), []byte(new), 1))
}

func b64(hexDigest string) string {
	b, _ := hex.DecodeString(hexDigest)
	return base64.StdEncoding.EncodeToString(b)
}

func TestATargetsFileAlteredOnTheWayFailsItsSnapshotHash(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	rewrite(t, srv, fx, "targets", b64(digest("manifest-v2")), b64(digest("evil")))
	_, err := fetch(t, srv.URL)
	wantRefused(t, err, notary.ErrHashMismatch)
}

func TestADelegationAlteredOnTheWayIsRefused(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	rewrite(t, srv, fx, "targets/releases", b64(digest("manifest-v1")), b64(digest("evil")))
	_, err := fetch(t, srv.URL)
	wantRefused(t, err, notary.ErrHashMismatch)
}

func TestATimestampWithABrokenSignatureIsRefused(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	rewrite(t, srv, fx, "timestamp", `"version":`, `"version":1`)
	_, err := fetch(t, srv.URL)
	wantRefused(t, err, notary.ErrBadSignature)
}

func TestARootWithABrokenSignatureIsRefused(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	rewrite(t, srv, fx, "root", `"consistent_snapshot":false`, `"consistent_snapshot":true`)
	_, err := fetch(t, srv.URL, notary.WithRootCert(fx.RootCert))
	wantRefused(t, err, notary.ErrBadSignature)
}

func TestExpiredMetadataIsRefused(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	// The generator's timestamp lasts 14 days, its root certificate a year.
	later := time.Now().Add(30 * 24 * time.Hour)
	_, err := fetch(t, srv.URL, notary.WithClock(func() time.Time { return later }))
	wantRefused(t, err, notary.ErrExpired)
	muchLater := time.Now().AddDate(2, 0, 0)
	_, err = fetch(t, srv.URL, notary.WithClock(func() time.Time { return muchLater }))
	wantRefused(t, err, notary.ErrExpired)
}

func TestAMissingDelegationListedInSnapshotIsRefused(t *testing.T) {
	t.Parallel()
	fx := released(t)
	srv := notarytest.Serve(t, fx)
	srv.Set("targets/releases", nil)
	_, err := fetch(t, srv.URL)
	wantRefused(t, err, notary.ErrInvalid)
}

func TestAnUnknownGUNIsBadInput(t *testing.T) {
	t.Parallel()
	srv := notarytest.Serve(t, &notarytest.Fixture{GUN: "other/repo", Files: map[string][]byte{}})
	_, err := fetch(t, srv.URL)
	if !errors.Is(err, notary.ErrNotFound) || errkind.Of(err) != errkind.Input {
		t.Fatalf("error %v (kind %d), want ErrNotFound as input", err, errkind.Of(err))
	}
}

func TestAnOversizedRootIsRefusedWithoutReadingItAll(t *testing.T) {
	t.Parallel()
	srv := notarytest.Serve(t, &notarytest.Fixture{GUN: gun, Files: map[string][]byte{"root": bytes.Repeat([]byte(" "), 2<<20)}})
	_, err := fetch(t, srv.URL)
	wantRefused(t, err, notary.ErrHashMismatch)
}

func TestPlainHTTPIsOnlyForLoopbackAndGUNsAreChecked(t *testing.T) {
	t.Parallel()
	if _, err := notary.New("http://notary.example.com"); errkind.Of(err) != errkind.Input {
		t.Fatalf("plain HTTP to a remote host: %v", err)
	}
	if _, err := notary.New("http://notary.example.com", notary.WithInsecure()); err != nil {
		t.Fatalf("--insecure: %v", err)
	}
	if _, err := notary.New("ftp://x"); err == nil {
		t.Fatal("ftp accepted")
	}
	c, err := notary.New("https://notary.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../etc", "a//b", "/a", "a b", "a?b"} {
		if _, err := c.Fetch(context.Background(), bad); errkind.Of(err) != errkind.Input {
			t.Errorf("GUN %q: %v", bad, err)
		}
	}
	if got := c.URL("docker.io/team/app", "targets/releases"); got != "https://notary.example.com/v2/docker.io/team/app/_trust/tuf/targets/releases.json" {
		t.Errorf("URL %s", got)
	}
}

func TestAServerThatAsksForABearerTokenIsReadWithAnAnonymousOne(t *testing.T) {
	t.Parallel()
	fx := released(t)
	files := notarytest.NewServer(fx)
	var tokenAsks int
	var front *httptest.Server
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokenAsks++
			if r.URL.Query().Get("scope") != "repository:"+gun+":pull" || r.URL.Query().Get("service") != "notary" || r.Header.Get("Authorization") != "" {
				http.Error(w, "bad token request", http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, `{"token":"anon-token"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer anon-token" {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="notary",scope="repository:%s:pull"`, front.URL, gun))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer front.Close()
	repo, err := fetch(t, front.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Tags()) != 3 || tokenAsks != 1 {
		t.Fatalf("%d tags with %d token requests", len(repo.Tags()), tokenAsks)
	}
}

func TestAServerThatRefusesAccessIsARegistryProblem(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := fetch(t, srv.URL)
	if errkind.Of(err) != errkind.Registry || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("error %v (kind %d)", err, errkind.Of(err))
	}
}
