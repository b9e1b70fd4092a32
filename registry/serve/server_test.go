package serve_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/serve"
)

func TestPersistentServerKeepsManifestsAndBlobsAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	start := func() string {
		h, err := serve.New(serve.WithDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return registrytest.Serve(t, h)
	}
	host := start()
	c := newClient(t)
	repo := registrytest.UniqueRepo(t, host)
	img := registrytest.RandomImage(t, 1024, 2)
	pushed, err := c.PushImage(ctx, "oci:"+registrytest.WriteLayout(t, img, "v1"), repo.Tag("v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := loadEmpty(t, c, registry.MetadataRef(repo))
	if err := m.Publish(ctx, map[string][]byte{"1.root.json": []byte("one")}, nil); err != nil {
		t.Fatal(err)
	}
	m, err = c.Metadata(ctx, registry.MetadataRef(repo))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Publish(ctx, map[string][]byte{"timestamp.json": []byte("ts")}, nil); err != nil {
		t.Fatal(err)
	}

	// A new server on the same directory: same repository path, new port.
	host2 := start()
	repo2 := uniqueRepoAt(t, host2, repo)
	got, err := c.Resolve(ctx, repo2.Tag("v1"))
	if err != nil || got.Digest != pushed.Digest {
		t.Fatalf("after restart Resolve = %+v, %v; want %s", got, err, pushed.Digest)
	}
	if err := c.PullImage(ctx, repo2.Digest(got.Digest.String()), filepath.Join(t.TempDir(), "out")); err != nil {
		t.Fatalf("pulling after restart: %v", err)
	}
	m2, err := c.Metadata(ctx, registry.MetadataRef(repo2))
	if err != nil {
		t.Fatal(err)
	}
	if m2.Digest() == m.Digest() || len(m2.Files()) != 2 {
		t.Fatalf("after restart the metadata has %v (digest %s), want the second publish", m2.Files(), m2.Digest())
	}
	if b, err := m2.ReadFile(ctx, "timestamp.json", 0); err != nil || string(b) != "ts" {
		t.Fatalf("after restart timestamp.json = %q, %v", b, err)
	}
}

func TestPersistentServerIgnoresATornLastJournalLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, err := serve.New(serve.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	host := registrytest.Serve(t, h)
	c := newClient(t)
	repo := registrytest.UniqueRepo(t, host)
	if err := loadEmpty(t, c, registry.MetadataRef(repo)).Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"put","repo":"x`)
	f.Close()
	h, err = serve.New(serve.WithDir(dir))
	if err != nil {
		t.Fatalf("restart with a torn journal: %v", err)
	}
	repo2 := uniqueRepoAt(t, registrytest.Serve(t, h), repo)
	m, err := c.Metadata(context.Background(), registry.MetadataRef(repo2))
	if err != nil {
		t.Fatalf("metadata after restart: %v", err)
	}
	// The next change is journalled cleanly after the dropped line.
	if err := m.Publish(context.Background(), map[string][]byte{"timestamp.json": []byte("t")}, nil); err != nil {
		t.Fatal(err)
	}
	h, err = serve.New(serve.WithDir(dir))
	if err != nil {
		t.Fatalf("second restart: %v", err)
	}
	m, err = c.Metadata(context.Background(), registry.MetadataRef(uniqueRepoAt(t, registrytest.Serve(t, h), repo)))
	if err != nil || len(m.Files()) != 2 {
		t.Fatalf("after the second restart: %v, %v", m, err)
	}
}

// uniqueRepoAt is repo on another host.
func uniqueRepoAt(t *testing.T, host string, repo interface{ RepositoryStr() string }) name.Repository {
	t.Helper()
	r, err := registry.ParseRepository(host + "/" + repo.RepositoryStr())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestServeStopsWhenTheContextIsCancelled(t *testing.T) {
	t.Parallel()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, h) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ = %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/v2/"); err == nil {
		t.Fatal("server still answers after cancel")
	}
}

func TestListenAndServeReportsABadAddress(t *testing.T) {
	t.Parallel()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	err = serve.ListenAndServe(context.Background(), "127.0.0.1:not-a-port", h)
	var ne *net.OpError
	if err == nil || !errors.As(err, &ne) {
		t.Fatalf("ListenAndServe on a bad address = %v", err)
	}
}

func TestServerLogGetsALinePerRequest(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	h, err := serve.New(serve.WithLog(&buf))
	if err != nil {
		t.Fatal(err)
	}
	host := registrytest.Serve(t, h)
	if _, err := newClient(t).Resolve(context.Background(), registrytest.UniqueRepo(t, host).Tag("missing")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "/manifests/missing") {
		t.Fatalf("log %q does not show the request", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newClient(t *testing.T) *registry.Client {
	t.Helper()
	c, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loadEmpty reads metadata at a tag that must not exist yet.
func loadEmpty(t *testing.T, c *registry.Client, tag name.Tag) *registry.Metadata {
	t.Helper()
	m, err := c.Metadata(context.Background(), tag)
	if err == nil || m == nil {
		t.Fatalf("Metadata(%s) = %v, %v; want an empty Metadata and ErrNoMetadata", tag, m, err)
	}
	return m
}
