package registry

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/internal/testenv"
)

// anonymous is a keychain without credentials, so that tests do not
// depend on the Docker config of the machine.
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

// basicKeychain has one user and password for every registry.
type basicKeychain struct{ user, password string }

func (k basicKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.password}), nil
}

// inProcess serves NewServer() for the test and returns its host:port.
func inProcess(t *testing.T) string {
	t.Helper()
	h, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, h)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// eachRegistry runs f against the in-process registry and, when
// scripts/test.sh started it, the real distribution registry.
func eachRegistry(t *testing.T, f func(t *testing.T, host string)) {
	t.Run("ggcr", func(t *testing.T) { f(t, inProcess(t)) })
	t.Run("distribution", func(t *testing.T) { f(t, testenv.Need(t, "SIGNET_TEST_REGISTRY")) })
}

// uniqueRepo returns a repository on host that no other test uses.
func uniqueRepo(t *testing.T, host string) name.Repository {
	t.Helper()
	path := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	r, err := name.NewRepository(fmt.Sprintf("%s/signet-test/%s-%x", host, path, rnd))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithKeychain(anonymous{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counter is a transport that counts requests by "METHOD KIND" (KIND is
// blobs, uploads, manifests or other) and the bytes read from responses.
type counter struct {
	next http.RoundTripper

	mu       sync.Mutex
	requests map[string]int
	read     int64
}

func newCounter() *counter {
	return &counter{next: http.DefaultTransport, requests: map[string]int{}}
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := "other"
	switch {
	case strings.Contains(req.URL.Path, "/blobs/uploads/"):
		kind = "uploads"
	case strings.Contains(req.URL.Path, "/blobs/"):
		kind = "blobs"
	case strings.Contains(req.URL.Path, "/manifests/"):
		kind = "manifests"
	}
	c.mu.Lock()
	c.requests[req.Method+" "+kind]++
	c.mu.Unlock()
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

func (c *counter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[key]
}

func (c *counter) bytesRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = map[string]int{}
	c.read = 0
}

type countingBody struct {
	io.ReadCloser
	c *counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.read += int64(n)
	b.c.mu.Unlock()
	return n, err
}

// loadEmpty reads metadata at a tag that must not exist yet.
func loadEmpty(t *testing.T, c *Client, tag name.Tag) *Metadata {
	t.Helper()
	m, err := c.Metadata(context.Background(), tag)
	if err == nil || m == nil {
		t.Fatalf("Metadata(%s) = %v, %v; want an empty Metadata and ErrNoMetadata", tag, m, err)
	}
	return m
}
