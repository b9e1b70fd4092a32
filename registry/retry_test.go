package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/registrytest/faultproxy"
	"github.com/signet-dev/signet/registry/serve"
)

// fastRetry is a retry policy for tests: quick backoffs, few attempts.
func fastRetry(o *options) error {
	return WithRetry(RetryPolicy{Attempts: 3, MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Budget: 5 * time.Second})(o)
}

// scripted serves the in-process registry behind a hook that may answer
// a request itself; it records every request as "METHOD KIND".
type scripted struct {
	mu   sync.Mutex
	seen []string
}

func (s *scripted) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.seen {
		if k == key {
			n++
		}
	}
	return n
}

func serveScripted(t *testing.T, hook func(n int, kind string, w http.ResponseWriter, r *http.Request) bool) (string, *scripted) {
	t.Helper()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{}
	host := registrytest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/blobs/uploads/"):
			kind = "uploads"
		case strings.Contains(r.URL.Path, "/blobs/"):
			kind = "blobs"
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = "manifests"
		}
		key := r.Method + " " + kind
		s.mu.Lock()
		s.seen = append(s.seen, key)
		n := 0
		for _, k := range s.seen {
			if k == key {
				n++
			}
		}
		s.mu.Unlock()
		if hook(n, key, w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	return host, s
}

func TestTooManyRequestsIsRetriedAfterTheRetryAfterItAsks(t *testing.T) {
	t.Parallel()
	host, s := serveScripted(t, func(n int, key string, w http.ResponseWriter, r *http.Request) bool {
		if key == "HEAD manifests" && n == 1 {
			w.Header().Set("Retry-After", "3600") // capped by MaxDelay
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := newClient(t, fastRetry)
	tag := MetadataRef(registrytest.UniqueRepo(t, host))
	if err := loadEmpty(t, c, tag).Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatalf("publish through one 429: %v", err)
	}
	if s.count("HEAD manifests") < 3 { // the 429, its retry, the read-back
		t.Fatalf("HEAD manifests %d times", s.count("HEAD manifests"))
	}
}

func TestServerErrorsAreRetriedAtMostTheAttemptsOfThePolicy(t *testing.T) {
	t.Parallel()
	host, s := serveScripted(t, func(n int, key string, w http.ResponseWriter, r *http.Request) bool {
		if key == "GET manifests" {
			http.Error(w, "boom", http.StatusBadGateway)
			return true
		}
		return false
	})
	c := newClient(t, fastRetry)
	_, err := c.Metadata(context.Background(), MetadataRef(registrytest.UniqueRepo(t, host)))
	if !errkind.Is(err, errkind.Registry) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("Metadata against 502s: err = %v, want a registry error naming the status", err)
	}
	if got := s.count("GET manifests"); got != 3 {
		t.Fatalf("GET manifests %d times, want the policy's 3 attempts", got)
	}
}

func TestAFailedBlobUploadStartsAgainWithANewSession(t *testing.T) {
	t.Parallel()
	host, s := serveScripted(t, func(n int, key string, w http.ResponseWriter, r *http.Request) bool {
		if key == "PUT uploads" && n == 1 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}
		return false
	})
	c := newClient(t, fastRetry)
	tag := MetadataRef(registrytest.UniqueRepo(t, host))
	if err := loadEmpty(t, c, tag).Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatalf("publish through a failed upload: %v", err)
	}
	// Two blobs (the file and the empty config), one of them twice.
	if got := s.count("POST uploads"); got != 3 {
		t.Fatalf("POST uploads %d times, want 3: a failed session is not reused", got)
	}
}

func TestATagMoveWhoseAnswerWasLostIsConfirmedNotRepeated(t *testing.T) {
	t.Parallel()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	target := registrytest.Serve(t, h)
	p, err := faultproxy.Start(target, faultproxy.Config{
		AfterForward: func(n int, r *http.Request) bool {
			return !(r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/_tuf"))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := newClient(t, fastRetry)
	tag := MetadataRef(registrytest.UniqueRepo(t, p.Addr()))
	if err := loadEmpty(t, c, tag).Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatalf("publish whose tag move was not answered: %v", err)
	}
	m, err := c.Metadata(context.Background(), tag)
	if err != nil || len(m.Files()) != 1 {
		t.Fatalf("after the publish: %v, %v", m, err)
	}
}

// TestAnOverwriteRightAfterTheMoveIsSeenByTheReadBack is the lost update
// registries allow: another publisher checked the tag before our move
// and moves it after. The read-back, after the settle delay, sees it.
func TestAnOverwriteRightAfterTheMoveIsSeenByTheReadBack(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		c := newClient(t)
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		if err := loadEmpty(t, c, tag).Publish(ctx, map[string][]byte{"1.root.json": []byte("base")}, nil); err != nil {
			t.Fatal(err)
		}
		base, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		var bobErr error
		p, err := faultproxy.Start(host, faultproxy.Config{
			AfterForward: func(n int, r *http.Request) bool {
				if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/_tuf") {
					// Bob checked before alice's put; his put lands after it.
					once.Do(func() { bobErr = rawPut(ctx, c, base, "bob") })
				}
				return true
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		alice := newClient(t)
		aliceTag := MetadataRef(mustRepo(t, p.Addr()+"/"+tag.RepositoryStr()))
		ma, err := alice.Metadata(ctx, aliceTag)
		if err != nil {
			t.Fatal(err)
		}
		err = ma.Publish(ctx, map[string][]byte{"timestamp.json": []byte("alice")}, nil)
		if bobErr != nil {
			t.Fatal(bobErr)
		}
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "after the update") {
			t.Fatalf("alice's publish overwritten right after: err = %v, want ErrConflict after the update", err)
		}
	})
}

// rawPut moves base's tag to base plus one file, without any check, as a
// publisher whose check passed before the tag moved would.
func rawPut(ctx context.Context, c *Client, base *Metadata, content string) error {
	files, blobs, err := base.next(map[string][]byte{"timestamp.json": []byte(content)}, nil)
	if err != nil {
		return err
	}
	cn, err := c.connect(ctx, base.tag.Context(), true)
	if err != nil {
		return err
	}
	for h, b := range blobs {
		if err := cn.putBlob(ctx, h, b); err != nil {
			return err
		}
	}
	manifest, err := buildArtifact(files)
	if err != nil {
		return err
	}
	return cn.putManifest(ctx, base.tag.TagStr(), "application/vnd.oci.image.manifest.v1+json", manifest)
}

func mustRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := ParseRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRetryPolicyIsChecked(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{
		{Attempts: 0, MinDelay: time.Millisecond, MaxDelay: time.Second, Budget: time.Second},
		{Attempts: 2, MinDelay: time.Second, MaxDelay: time.Millisecond, Budget: time.Second},
		{Attempts: 2, MinDelay: time.Millisecond, MaxDelay: time.Second},
	} {
		if _, err := New(WithRetry(p)); !errkind.Is(err, errkind.Input) {
			t.Errorf("New(WithRetry(%+v)): err = %v, want bad input", p, err)
		}
	}
	if _, err := New(WithSettleDelay(-time.Second)); err == nil {
		t.Error("a negative settle delay was accepted")
	}
}

func TestBackoffGrowsWithJitterAndStaysUnderTheCap(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Attempts: 10, MinDelay: 100 * time.Millisecond, MaxDelay: time.Second, Budget: time.Minute}
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 8; attempt++ {
		for range 50 {
			d := p.backoff(attempt)
			ceiling := min(p.MinDelay<<(attempt-1), p.MaxDelay)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, ceiling/2, ceiling)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct backoffs in 400: no jitter", len(seen))
	}
}

func TestRetryAfterParsesSecondsAndDates(t *testing.T) {
	t.Parallel()
	if d, ok := retryAfter("7"); !ok || d != 7*time.Second {
		t.Errorf("retryAfter(7) = %s %v", d, ok)
	}
	if d, ok := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); !ok || d < 59*time.Minute {
		t.Errorf("retryAfter(date) = %s %v", d, ok)
	}
	for _, bad := range []string{"", "soon", "-3"} {
		if _, ok := retryAfter(bad); ok {
			t.Errorf("retryAfter(%q) accepted", bad)
		}
	}
}

func TestOnlyRequestsSafeToRepeatAreRetriedAfterAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/v2/r/manifests/_tuf", true},
		{"HEAD", "/v2/r/blobs/sha256:00", true},
		{"PUT", "/v2/r/manifests/v1", true},
		{"POST", "/v2/r/blobs/uploads/", false},
		{"PATCH", "/v2/r/blobs/uploads/x", false},
		{"PUT", "/v2/r/blobs/uploads/x", false},
	} {
		req, _ := http.NewRequest(tc.method, "http://h"+tc.path, nil)
		if got := idempotent(req); got != tc.want {
			t.Errorf("%s %s: idempotent = %v", tc.method, tc.path, got)
		}
	}
	for err, want := range map[error]bool{
		fmt.Errorf("x: %w", context.Canceled):             false,
		fmt.Errorf("x: %w", io.ErrUnexpectedEOF):          true,
		&exhaustedError{err: io.ErrUnexpectedEOF}:         false,
		fmt.Errorf("x: %w", syscall.ECONNRESET):           true,
		errors.New("x509: certificate signed by unknown"): false,
	} {
		if got := transientError(err); got != want {
			t.Errorf("transientError(%v) = %v", err, got)
		}
	}
}
