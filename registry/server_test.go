package registry

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
)

func TestPersistentServerKeepsManifestsAndBlobsAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	start := func() string {
		h, err := NewServer(WithServerDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, h)
	}
	host := start()
	c := newClient(t)
	repo := uniqueRepo(t, host)
	img := randomImage(t)
	pushed, err := c.PushImage(ctx, "oci:"+writeLayout(t, img, "v1"), repo.Tag("v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := loadEmpty(t, c, MetadataRef(repo))
	if err := m.Publish(ctx, map[string][]byte{"1.root.json": []byte("one")}, nil); err != nil {
		t.Fatal(err)
	}
	m, err = c.Metadata(ctx, MetadataRef(repo))
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
	m2, err := c.Metadata(ctx, MetadataRef(repo2))
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
	h, err := NewServer(WithServerDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	host := serve(t, h)
	c := newClient(t)
	repo := uniqueRepo(t, host)
	if err := loadEmpty(t, c, MetadataRef(repo)).Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"put","repo":"x`)
	f.Close()
	h, err = NewServer(WithServerDir(dir))
	if err != nil {
		t.Fatalf("restart with a torn journal: %v", err)
	}
	repo2 := uniqueRepoAt(t, serve(t, h), repo)
	m, err := c.Metadata(context.Background(), MetadataRef(repo2))
	if err != nil {
		t.Fatalf("metadata after restart: %v", err)
	}
	// The next change is journalled cleanly after the dropped line.
	if err := m.Publish(context.Background(), map[string][]byte{"timestamp.json": []byte("t")}, nil); err != nil {
		t.Fatal(err)
	}
	h, err = NewServer(WithServerDir(dir))
	if err != nil {
		t.Fatalf("second restart: %v", err)
	}
	m, err = c.Metadata(context.Background(), MetadataRef(uniqueRepoAt(t, serve(t, h), repo)))
	if err != nil || len(m.Files()) != 2 {
		t.Fatalf("after the second restart: %v, %v", m, err)
	}
}

// uniqueRepoAt is repo on another host.
func uniqueRepoAt(t *testing.T, host string, repo interface{ RepositoryStr() string }) name.Repository {
	t.Helper()
	r, err := ParseRepository(host + "/" + repo.RepositoryStr())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestServeStopsWhenTheContextIsCancelled(t *testing.T) {
	t.Parallel()
	h, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h) }()

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
	h, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	err = ListenAndServe(context.Background(), "127.0.0.1:not-a-port", h)
	var ne *net.OpError
	if err == nil || !errors.As(err, &ne) {
		t.Fatalf("ListenAndServe on a bad address = %v", err)
	}
}

func TestServerLogGetsALinePerRequest(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	h, err := NewServer(WithServerLog(&buf))
	if err != nil {
		t.Fatal(err)
	}
	host := serve(t, h)
	if _, err := newClient(t).Resolve(context.Background(), uniqueRepo(t, host).Tag("missing")); !errors.Is(err, ErrNotFound) {
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
