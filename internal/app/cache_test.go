package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
)

// countingTransport counts requests by method and path kind.
type countingTransport struct {
	mu    sync.Mutex
	blobs int
	all   int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.all++
	if strings.Contains(req.URL.Path, "/blobs/") && req.Method == http.MethodGet {
		c.blobs++
	}
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (c *countingTransport) take() (blobs, all int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	blobs, all = c.blobs, c.all
	c.blobs, c.all = 0, 0
	return
}

func TestWarmVerifyDownloadsNoMetadataFileTwice(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		c := newPerson(t)
		counter := &countingTransport{}
		client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}), registry.WithTransport(counter))
		if err != nil {
			t.Fatal(err)
		}
		c.deps.Registry = client
		req := app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)}
		if _, err := app.Verify(ctx, c.deps, req); err != nil {
			t.Fatal(err)
		}
		coldBlobs, coldAll := counter.take()
		if coldBlobs < 3 {
			t.Fatalf("cold verify fetched %d blobs; want timestamp, snapshot and targets at least", coldBlobs)
		}
		if _, err := app.Verify(ctx, c.deps, req); err != nil {
			t.Fatal(err)
		}
		warmBlobs, warmAll := counter.take()
		if warmBlobs != 0 {
			t.Fatalf("warm verify fetched %d metadata blobs again", warmBlobs)
		}
		// The _tuf manifest and the tag: no ping, no metadata file.
		if warmAll > 2 {
			t.Fatalf("warm verify made %d requests, want at most 2 (cold made %d)", warmAll, coldAll)
		}

		// A new publish changes timestamp, snapshot and targets: those are
		// fetched, and the unchanged root is not.
		push(t, pub, repo+":v2")
		if _, err := app.Verify(ctx, c.deps, app.VerifyRequest{Tag: repo + ":v2"}); err != nil {
			t.Fatal(err)
		}
		if b, _ := counter.take(); b != 3 {
			t.Fatalf("after one publish verify fetched %d blobs, want 3 (timestamp, snapshot, targets)", b)
		}
	})
}

func TestAPublisherReadsNoMetadataItWroteItself(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		counter := &countingTransport{}
		client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}), registry.WithTransport(counter))
		if err != nil {
			t.Fatal(err)
		}
		pub.deps.Registry = client
		push(t, pub, repo+":v2")
		if blobs, _ := counter.take(); blobs != 0 {
			t.Fatalf("a push after a push downloaded %d metadata blobs, want 0", blobs)
		}
	})
}
