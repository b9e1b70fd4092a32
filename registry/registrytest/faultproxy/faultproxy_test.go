package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend counts the requests that reach it and answers "hello world".
func backend(t *testing.T) (string, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "hello world from "+r.Host)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &hits
}

func start(t *testing.T, target string, cfg Config) *Proxy {
	t.Helper()
	p, err := Start(target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// get fetches path through the proxy with a client that never reuses a
// connection, so that a dropped one does not affect the next request.
func get(p *Proxy) (int, string, http.Header, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.Addr() + "/v2/")
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func TestWithoutFaultsRequestsPassAndKeepTheirHost(t *testing.T) {
	t.Parallel()
	target, hits := backend(t)
	p := start(t, target, Config{})
	code, body, _, err := get(p)
	if err != nil || code != 200 || body != "hello world from "+p.Addr() {
		t.Fatalf("got %d %q %v", code, body, err)
	}
	if hits.Load() != 1 || p.Stats().Requests != 1 {
		t.Fatalf("hits %d, stats %+v", hits.Load(), p.Stats())
	}
}

func TestErrorsAndTooManyAreAnsweredWithoutReachingTheRegistry(t *testing.T) {
	t.Parallel()
	target, hits := backend(t)
	code, _, _, err := get(start(t, target, Config{Error: 1}))
	if err != nil || code < 500 {
		t.Fatalf("Error=1: got %d %v, want a 5xx", code, err)
	}
	code, _, h, err := get(start(t, target, Config{TooMany: 1}))
	if err != nil || code != 429 || (h.Get("Retry-After") != "0" && h.Get("Retry-After") != "1") {
		t.Fatalf("TooMany=1: got %d %v %v", code, h, err)
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached the registry", hits.Load())
	}
}

func TestDroppedConnectionsFailTheClientSomeAfterTheRegistryActed(t *testing.T) {
	t.Parallel()
	target, hits := backend(t)
	p := start(t, target, Config{Seed: 7, Drop: 1})
	for range 30 {
		code, body, _, err := get(p)
		if err == nil {
			t.Fatalf("a dropped request succeeded: %d %q", code, body)
		}
	}
	if s := p.Stats(); s.Dropped != 30 || hits.Load() == 0 || hits.Load() == 30 {
		t.Fatalf("stats %+v, %d reached the registry: want some drops before and some after forwarding", s, hits.Load())
	}
}

func TestSlowRequestsAreHeldAndStillAnswered(t *testing.T) {
	t.Parallel()
	target, _ := backend(t)
	p := start(t, target, Config{Slow: 1, SlowDelay: 20 * time.Millisecond})
	if code, _, _, err := get(p); err != nil || code != 200 || p.Stats().Slowed != 1 {
		t.Fatalf("got %d %v, stats %+v", code, err, p.Stats())
	}
}

func TestTheSameSeedInjectsTheSameFaults(t *testing.T) {
	t.Parallel()
	target, _ := backend(t)
	run := func(seed uint64) string {
		p := start(t, target, Config{Seed: seed, Error: 0.3, TooMany: 0.3})
		var out strings.Builder
		for range 20 {
			code, _, _, _ := get(p)
			out.WriteString(http.StatusText(code)[:1])
		}
		return out.String()
	}
	a, b, c := run(1), run(1), run(2)
	if a != b || a == c {
		t.Fatalf("seed 1: %s and %s; seed 2: %s", a, b, c)
	}
}

func TestHooksSeeEveryRequestNumberAndCanDropIt(t *testing.T) {
	t.Parallel()
	target, hits := backend(t)
	var before, after []int
	p := start(t, target, Config{
		BeforeForward: func(n int, r *http.Request) bool { before = append(before, n); return n != 2 },
		AfterForward:  func(n int, r *http.Request) bool { after = append(after, n); return n != 3 },
	})
	for i := 1; i <= 4; i++ {
		_, _, _, err := get(p)
		if (err != nil) != (i == 2 || i == 3) {
			t.Fatalf("request %d: err = %v", i, err)
		}
	}
	if len(before) != 4 || len(after) != 3 || after[1] != 3 || hits.Load() != 3 {
		t.Fatalf("before %v, after %v, %d reached the registry", before, after, hits.Load())
	}
}
