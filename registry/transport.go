package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

// guardTransport sits under ggcr's authentication. It refuses plain HTTP
// to registries that were not allowed it, fails a request when nothing
// moves for timeout or when, grace after the answer came, its body moved
// fewer than minRate bytes a second on average, and bounds every manifest
// response to maxManifest bytes before it is read.
type guardTransport struct {
	next        http.RoundTripper
	insecure    bool
	timeout     time.Duration
	minRate     TransferRate
	maxManifest int64
}

// timeoutError is the cause of a request cancelled by the watchdog.
type timeoutError struct {
	host    string
	timeout time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no response from %s within %s", e.host, e.timeout)
}

func (e *timeoutError) Timeout() bool { return true }

// slowError is the cause of a request cancelled for moving data slower
// than the minimum rate. It is not retried: a registry that drips bytes
// to keep a request alive does not get faster by being asked again.
type slowError struct {
	host  string
	moved int64
	after time.Duration
	rate  TransferRate
}

func (e *slowError) Error() string {
	return fmt.Sprintf("%s sent %d bytes in %s, slower than the minimum of %d bytes/s",
		e.host, e.moved, e.after.Round(time.Second), e.rate.BytesPerSecond)
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !t.insecure && !isLoopback(req.URL.Host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errkind.Mark(errkind.Registry, fmt.Errorf("plain HTTP to %s refused: the registry must be marked insecure to allow it", req.URL.Host))
	}

	ctx, cancel := context.WithCancelCause(req.Context())
	w := &watchdog{ctx: ctx, cancel: cancel, timeout: t.timeout, rate: t.minRate, host: req.URL.Host,
		cause: &timeoutError{host: req.URL.Host, timeout: t.timeout}}
	w.arm()
	req = req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &watchedBody{rc: req.Body, w: w, limit: -1}
	}

	resp, err := t.next.RoundTrip(req)
	if err != nil {
		w.stop()
		if cause := w.err(err); cause != err {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Host, cause)
		}
		return nil, err
	}

	var limit int64 = -1
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/manifests/") {
		limit = t.maxManifest
		if resp.ContentLength > limit {
			resp.Body.Close()
			w.stop()
			return nil, tooLarge("manifest", req.URL.Host, resp.ContentLength, limit)
		}
	}
	resp.Body = &watchedBody{rc: resp.Body, w: w, limit: limit, host: req.URL.Host, closeStops: true}
	w.answered()
	return resp, nil
}

func tooLarge(what, host string, size, limit int64) error {
	if size >= 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s from %s is %d bytes, more than the limit of %d", ErrTooLarge, what, host, size, limit))
	}
	return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s from %s is more than the limit of %d bytes", ErrTooLarge, what, host, limit))
}

// watchdog cancels a request when it is not kicked for timeout, and when
// the bytes it was kicked with fall below rate.
type watchdog struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timeout time.Duration
	rate    TransferRate
	host    string
	cause   error

	mu        sync.Mutex
	timer     *time.Timer
	rateTimer *time.Timer
	start     time.Time
	moved     int64
	done      bool
}

func (w *watchdog) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.timeout, func() { w.cancel(w.cause) })
}

// answered starts the rate check of the answer's body: the answer came,
// so what moves from now on is the registry's doing. (Until it comes,
// timeout bounds the wait: nothing kicks the watchdog then.)
func (w *watchdog) answered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.rate.BytesPerSecond <= 0 {
		return
	}
	w.start = time.Now()
	w.moved = 0
	w.rateTimer = time.AfterFunc(w.rate.Grace, w.checkRate)
}

// checkRate cancels the request when less than rate moved on average
// since the answer came, and checks again a second later otherwise.
func (w *watchdog) checkRate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	after := time.Since(w.start)
	if float64(w.moved) < float64(w.rate.BytesPerSecond)*after.Seconds() {
		w.cancel(&slowError{host: w.host, moved: w.moved, after: after, rate: w.rate})
		return
	}
	w.rateTimer.Reset(time.Second)
}

func (w *watchdog) kick(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.moved += int64(n)
	if !w.done {
		w.timer.Reset(w.timeout)
	}
}

// finish stops the timers without cancelling the request.
func (w *watchdog) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer.Stop()
	if w.rateTimer != nil {
		w.rateTimer.Stop()
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.done = true
		w.timer.Stop()
		if w.rateTimer != nil {
			w.rateTimer.Stop()
		}
		w.cancel(nil)
	}
}

// err replaces a cancellation error by the watchdog's cause: no data
// moving for timeout, or data moving too slowly.
func (w *watchdog) err(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var slow *slowError
	if cause := context.Cause(w.ctx); cause == w.cause || errors.As(cause, &slow) {
		return cause
	}
	return err
}

// watchedBody kicks the watchdog as data moves and, with a limit, fails
// once more than limit bytes arrive.
type watchedBody struct {
	rc         io.ReadCloser
	w          *watchdog
	limit      int64 // -1: none
	read       int64
	host       string
	closeStops bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.limit >= 0 && int64(len(p)) > b.limit-b.read+1 {
		p = p[:b.limit-b.read+1]
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if n > 0 {
		b.w.kick(n)
	}
	if b.limit >= 0 && b.read > b.limit {
		return 0, tooLarge("manifest", b.host, -1, b.limit)
	}
	if err == io.EOF && b.closeStops {
		b.w.finish() // the answer is all here: how fast the caller reads it is not the registry's doing
	}
	return n, b.w.err(err)
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	if b.closeStops {
		b.w.stop()
	}
	return err
}
