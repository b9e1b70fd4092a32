package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/serve"
)

func TestParseRepositoryAndTagRejectDigestsAndGarbage(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"registry.example.com/team/app": "registry.example.com/team/app",
		"127.0.0.1:5000/app":            "127.0.0.1:5000/app",
		"alpine":                        "index.docker.io/library/alpine",
	}
	for in, want := range good {
		r, err := ParseRepository(in)
		if err != nil || r.Name() != want {
			t.Errorf("ParseRepository(%q) = %q, %v; want %q", in, r.Name(), err, want)
		}
	}
	for _, in := range []string{"", "UPPER/case", "example.com/app:v1", "example.com/app@sha256:" + strings.Repeat("a", 64), "a b"} {
		if _, err := ParseRepository(in); err == nil || !errkind.Is(err, errkind.Input) {
			t.Errorf("ParseRepository(%q) = %v, want an Input error", in, err)
		}
	}
	if tag, err := ParseTag("127.0.0.1:5000/team/app:v1.2"); err != nil || tag.TagStr() != "v1.2" || tag.RepositoryStr() != "team/app" {
		t.Errorf("ParseTag = %v, %v", tag, err)
	}
	for _, in := range []string{"example.com/app", "127.0.0.1:5000/app", "example.com/app@sha256:" + strings.Repeat("a", 64),
		"example.com/app:v1@sha256:" + strings.Repeat("a", 64), "example.com/app:", "example.com/app:bad tag"} {
		if _, err := ParseTag(in); err == nil || !errkind.Is(err, errkind.Input) {
			t.Errorf("ParseTag(%q) = %v, want an Input error", in, err)
		}
	}
	if got := MetadataRef(name.MustParseReference("example.com/app").Context()).String(); got != "example.com/app:_tuf" {
		t.Errorf("MetadataRef = %s", got)
	}
}

func TestUnreachableRegistryIsARegistryError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newClient(t, fastRetry)
	tag := parseTag(t, host+"/app:v1")
	if _, err := c.Resolve(context.Background(), tag); !errkind.Is(err, errkind.Registry) {
		t.Fatalf("Resolve on a closed port: err = %v, want errkind.Registry", err)
	}
	if _, err := c.Metadata(context.Background(), tag); !errkind.Is(err, errkind.Registry) || errors.Is(err, ErrNoMetadata) {
		t.Fatalf("Metadata on a closed port: err = %v, want errkind.Registry", err)
	}
}

func TestServerErrorsAreRegistryErrors(t *testing.T) {
	t.Parallel()
	host := registrytest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	c := newClient(t, fastRetry)
	tag := parseTag(t, host+"/app:v1")
	if _, err := c.Resolve(context.Background(), tag); !errkind.Is(err, errkind.Registry) {
		t.Fatalf("Resolve against a 500: err = %v, want errkind.Registry", err)
	}
	if _, err := c.Metadata(context.Background(), MetadataRef(tag.Context())); !errkind.Is(err, errkind.Registry) {
		t.Fatalf("Metadata against a 500: err = %v, want errkind.Registry", err)
	}
}

func TestAuthRequiredWithoutCredentialsSaysToLogIn(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY_AUTH")
	ctx := context.Background()
	repo := registrytest.UniqueRepo(t, host)
	anon := newClient(t)
	_, err := anon.Resolve(ctx, repo.Tag("v1"))
	if !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "authentication required: run `docker login "+host+"`") {
		t.Fatalf("Resolve without credentials: err = %v, want a registry error with a login hint", err)
	}
	_, err = anon.Metadata(ctx, MetadataRef(repo))
	if !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "docker login") {
		t.Fatalf("Metadata without credentials: err = %v", err)
	}

	wrong := newClient(t, WithKeychain(basicKeychain{"signet", "wrong-password"}))
	if _, err := wrong.Resolve(ctx, repo.Tag("v1")); !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "rejected") ||
		strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("Resolve with a wrong password: err = %v", err)
	}

	user := testenv.Need(t, "SIGNET_TEST_REGISTRY_USER")
	pw := testenv.Need(t, "SIGNET_TEST_REGISTRY_PASSWORD")
	c := newClient(t, WithKeychain(basicKeychain{user, pw}))
	m, err := c.Metadata(ctx, MetadataRef(repo))
	if !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("Metadata with credentials: err = %v, want ErrNoMetadata", err)
	}
	if err := m.Publish(ctx, map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatalf("Publish with credentials: %v", err)
	}
	if _, err := c.Resolve(ctx, MetadataRef(repo)); err != nil {
		t.Fatalf("Resolve with credentials: %v", err)
	}
}

func TestRequestWithoutAnswerFailsAfterTheTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	host := registrytest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		select { // never answers a manifest request
		case <-release:
		case <-r.Context().Done():
		}
	}))
	c := newClient(t, WithRequestTimeout(200*time.Millisecond), fastRetry)
	_, err := c.Resolve(context.Background(), parseTag(t, host+"/app:v1"))
	if !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "no response from") {
		t.Fatalf("Resolve against a silent registry: err = %v, want a registry timeout", err)
	}
}

// refuseAll is a transport that records the schemes it was asked for and
// fails every request.
type refuseAll struct {
	mu      sync.Mutex
	schemes []string
}

func (r *refuseAll) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.schemes = append(r.schemes, req.URL.Scheme)
	r.mu.Unlock()
	return nil, errors.New("no network in this test")
}

func TestPlainHTTPIsRefusedOutsideLoopbackUnlessInsecure(t *testing.T) {
	t.Parallel()
	ref := name.MustParseReference("10.1.2.3:5000/app:v1") // ggcr would try http
	rt := &refuseAll{}
	c := newClient(t, WithTransport(rt))
	if _, err := c.Resolve(context.Background(), ref); !errkind.Is(err, errkind.Registry) {
		t.Fatalf("Resolve: err = %v, want errkind.Registry", err)
	}
	for _, s := range rt.schemes {
		if s != "https" {
			t.Fatalf("a %s request reached the network without WithInsecure", s)
		}
	}

	rt = &refuseAll{}
	c = newClient(t, WithTransport(rt), WithInsecure(true))
	c.Resolve(context.Background(), ref)
	if !contains(rt.schemes, "http") {
		t.Fatalf("WithInsecure(true) made requests %v, want plain http among them", rt.schemes)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestLoopbackNamesUsePlainHTTP(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000", "[::1]", "[::1]:5000"} {
		if !isLoopback(host) {
			t.Errorf("isLoopback(%q) = false", host)
		}
		rt := &refuseAll{}
		c := newClient(t, WithTransport(rt))
		c.Resolve(context.Background(), parseTag(t, host+"/app:v1"))
		if !contains(rt.schemes, "http") {
			t.Errorf("%s: requests %v, want plain http", host, rt.schemes)
		}
	}
	for _, host := range []string{"example.com", "10.0.0.1:5000", "localhost.example.com"} {
		if isLoopback(host) {
			t.Errorf("isLoopback(%q) = true", host)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithKeychain(nil), WithTransport(nil), WithMaxMetadataSize(0), WithMaxManifestSize(-1), WithRequestTimeout(0)} {
		if _, err := New(opt); err == nil || !errkind.Is(err, errkind.Input) {
			t.Errorf("New with a bad option = %v, want an Input error", err)
		}
	}
}

func parseTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func TestUserAgentIsSentWithEveryRequest(t *testing.T) {
	t.Parallel()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var agents []string
	host := registrytest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	c := newClient(t, WithUserAgent("signet-test/1.0"))
	ctx := context.Background()
	repo := registrytest.UniqueRepo(t, host)
	if err := c.EmptyMetadata(MetadataRef(repo)).Publish(ctx, map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushImage(ctx, "oci:"+registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1"), repo.Tag("v1"), nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agents) == 0 {
		t.Fatal("no requests")
	}
	for _, ua := range agents {
		if !strings.Contains(ua, "signet-test/1.0") {
			t.Fatalf("request with User-Agent %q", ua)
		}
	}
}

// TestSlowDripRegistryFailsAtTheMinimumRateAndIsNotRetried: a registry
// that sends a byte now and then defeats the request timeout, which every
// byte resets; the minimum transfer rate ends the request anyway, once.
func TestSlowDripRegistryFailsAtTheMinimumRateAndIsNotRetried(t *testing.T) {
	t.Parallel()
	var manifestRequests atomic.Int32
	host := registrytest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		manifestRequests.Add(1)
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", "1862")
		w.WriteHeader(http.StatusOK)
		for range 1862 {
			if _, err := w.Write([]byte{'{'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}))
	c := newClient(t, WithRequestTimeout(5*time.Second), fastRetry,
		WithMinTransferRate(TransferRate{BytesPerSecond: 1 << 10, Grace: 500 * time.Millisecond}))
	_, err := c.Resolve(context.Background(), parseTag(t, host+"/app:v1"))
	if !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "slower than the minimum") {
		t.Fatalf("Resolve against a slow-drip registry: err = %v, want a registry error about the transfer rate", err)
	}
	if n := manifestRequests.Load(); n != 1 {
		t.Fatalf("%d manifest requests, want 1: a slow registry is not asked again", n)
	}
}
