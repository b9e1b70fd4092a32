package registry

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/registry/registrytest"
)

// basicKeychain has one user and password for every registry.
type basicKeychain struct{ user, password string }

func (k basicKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.password}), nil
}

func newClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithKeychain(registrytest.Anonymous{})}, opts...)...)
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
