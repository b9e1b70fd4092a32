package registry

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// latencies keeps the slowest request a Metadata's reads and its publish
// made: the settle after moving the tag is sized from it.
type latencies struct{ slowest atomic.Int64 }

func (l *latencies) observe(d time.Duration) {
	for {
		old := l.slowest.Load()
		if int64(d) <= old || l.slowest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// max is the slowest request observed so far.
func (l *latencies) max() time.Duration { return time.Duration(l.slowest.Load()) }

type latenciesKey struct{}

// withLatencies makes the requests sent with ctx report their time to l.
func withLatencies(ctx context.Context, l *latencies) context.Context {
	return context.WithValue(ctx, latenciesKey{}, l)
}

// timedTransport reports to the latencies of a request's context (if any)
// how long each try took until the registry's answer began: one round
// trip and the registry's work, not a download's length. Failed tries are
// left out: their time says nothing about a working registry.
type timedTransport struct{ next http.RoundTripper }

func (t *timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	l, _ := req.Context().Value(latenciesKey{}).(*latencies)
	if l == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		l.observe(time.Since(start))
	}
	return resp, err
}
