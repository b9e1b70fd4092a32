package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/signet-dev/signet/internal/ctxsleep"
)

// RetryPolicy says how a request that failed for a reason that may pass
// (429 Too Many Requests, a 5xx answer, a reset or dropped connection, no
// answer within the request timeout) is tried again. Only requests that
// are safe to repeat are retried by the transport: GET and HEAD, PUT of a
// manifest, and any request answered 429 (the registry did not act on
// it). Blob uploads restart from scratch as a whole; the move of the
// metadata tag is retried by Publish itself, which checks the tag again
// before every try.
type RetryPolicy struct {
	// Attempts bounds the tries of one request, the first included; 1
	// disables retries.
	Attempts int
	// MinDelay is the first backoff. Each retry doubles it, up to
	// MaxDelay, and waits a random time between half of it and all of it
	// (jitter), so that clients that failed together do not retry together.
	MinDelay time.Duration
	// MaxDelay caps one backoff, and the wait a Retry-After header asks for.
	MaxDelay time.Duration
	// Budget bounds the time one request spends in tries and backoffs: no
	// retry starts after it.
	Budget time.Duration
}

// DefaultRetryPolicy is what a Client uses without WithRetry: 5 attempts,
// backoff from 200ms to 10s, at most 2 minutes per request.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 5, MinDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second, Budget: 2 * time.Minute}
}

// WithRetry sets how failed requests are retried (default
// DefaultRetryPolicy()).
func WithRetry(p RetryPolicy) Option {
	return func(o *options) error {
		switch {
		case p.Attempts < 1:
			return fmt.Errorf("retry attempts %d is less than 1", p.Attempts)
		case p.MinDelay <= 0 || p.MaxDelay < p.MinDelay:
			return fmt.Errorf("retry delays %s..%s are not a positive range", p.MinDelay, p.MaxDelay)
		case p.Budget <= 0:
			return fmt.Errorf("retry budget %s is not positive", p.Budget)
		}
		o.retry = p
		return nil
	}
}

// backoff is the wait before try number attempt+1 (attempt >= 1).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.MinDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// ggcrBackoff is the policy in go-containerregistry's terms, for the
// restarts of whole blob uploads that its remote package does.
func (p RetryPolicy) ggcrBackoff() remote.Backoff {
	return remote.Backoff{Duration: p.MinDelay, Factor: 2, Jitter: 1, Steps: min(p.Attempts, 3), Cap: p.MaxDelay}
}

// noRetryKey marks a request context whose requests the transport must
// not repeat: Publish retries the tag move itself, after checking again.
type noRetryKey struct{}

func withoutRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

// retryTransport repeats requests that are safe to repeat when they fail
// for a reason that may pass. It sits above guardTransport, so every try
// has its own timeout, and below authentication.
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.policy.Attempts <= 1 || req.Context().Value(noRetryKey{}) != nil || !replayable(req) {
		return t.next.RoundTrip(req)
	}
	deadline := time.Now().Add(t.policy.Budget)
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 {
			try = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				try.Body = body
			}
		}
		resp, err := t.next.RoundTrip(try)
		wait, again := t.retryable(req, resp, err, attempt)
		if !again || req.Context().Err() != nil {
			return resp, err
		}
		if attempt >= t.policy.Attempts || time.Now().Add(wait).After(deadline) {
			if err != nil {
				// Nobody above should repeat this request again.
				return nil, &exhaustedError{err: err, attempts: attempt}
			}
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := ctxsleep.Sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// exhaustedError is a request error the transport retried as often as
// its policy allows.
type exhaustedError struct {
	err      error
	attempts int
}

func (e *exhaustedError) Error() string {
	return fmt.Sprintf("%v (tried %d times)", e.err, e.attempts)
}

func (e *exhaustedError) Unwrap() error { return e.err }

// retryable says whether the outcome of try number attempt of req may
// pass with another try, and how long to wait before it.
func (t *retryTransport) retryable(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	wait := t.policy.backoff(attempt)
	if err != nil {
		return wait, idempotent(req) && transientError(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		if ra, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			wait = min(max(ra, t.policy.MinDelay/2), t.policy.MaxDelay)
		}
		return wait, true
	case http.StatusServiceUnavailable:
		if ra, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			wait = min(max(ra, t.policy.MinDelay/2), t.policy.MaxDelay)
		}
		return wait, idempotent(req)
	}
	return wait, idempotent(req) && transientStatus(resp.StatusCode)
}

// replayable reports whether req's body can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// idempotent reports whether repeating req cannot change the outcome:
// reads, and the put of a manifest (the same bytes to the same name).
// Blob upload sessions (POST, PATCH, PUT to /blobs/uploads/) are not.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPut:
		return strings.Contains(req.URL.Path, "/manifests/")
	}
	return false
}

// transientStatus reports whether an HTTP status may pass on its own.
func transientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transientError reports whether a request error may pass on its own: a
// reset, refused or dropped connection, an answer cut short, no answer
// in time, or one of the transient statuses above. A cancelled context,
// a refused certificate or plain HTTP are not.
func transientError(err error) bool {
	var ex *exhaustedError
	if err == nil || errors.Is(err, context.Canceled) || errors.As(err, &ex) {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return transientStatus(te.StatusCode)
	}
	var to *timeoutError
	if errors.As(err, &to) {
		return true
	}
	var slow *slowError
	if errors.As(err, &slow) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's deadline, not one try's
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, net.ErrClosed):
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// retryOp runs op until it succeeds, fails for good, or the client's
// policy runs out; op returns whether its error may pass with another
// try. It is for work the transport cannot repeat by itself: blob uploads
// (a new session each time) and reads whose body broke off.
func (c *Client) retryOp(ctx context.Context, op func(attempt int) (again bool, err error)) error {
	p := c.opts.retry
	deadline := time.Now().Add(p.Budget)
	for attempt := 1; ; attempt++ {
		again, err := op(attempt)
		if err == nil || !again || attempt >= p.Attempts || ctx.Err() != nil {
			return err
		}
		wait := p.backoff(attempt)
		if time.Now().Add(wait).After(deadline) {
			return err
		}
		if serr := ctxsleep.Sleep(ctx, wait); serr != nil {
			return err
		}
	}
}
