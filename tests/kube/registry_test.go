package kube

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// countingProxy is a reverse proxy on 127.0.0.1 in front of the real
// registry that counts the requests it passes on. Everything in the test,
// signet and the webhook included, reaches the registry through it, so
// image references name the proxy's host.
type countingProxy struct {
	host string

	mu       sync.Mutex
	requests []string
}

func newCountingProxy(t *testing.T, registry string) *countingProxy {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: registry}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	// The Host header stays the proxy's, so the registry's upload
	// locations lead back through it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// mark returns the number of requests so far, for since.
func (p *countingProxy) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests)
}

// since returns the requests made after mark.
func (p *countingProxy) since(mark int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests[mark:]...)
}

// pushRandom writes a new random image to REF (a tag) the way any registry
// client does, signed or not, and returns its digest.
func pushRandom(t *testing.T, ref string) v1.Hash {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
