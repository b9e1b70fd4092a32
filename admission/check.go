package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
)

// Defaults of a Checker.
const (
	// DefaultCheckTimeout is the deadline of one image check: below the
	// API server's default webhook timeout of 10 s, so that a slow
	// registry gives a denial that says why, not a timed-out call.
	DefaultCheckTimeout = 8 * time.Second
	// DefaultParallel is how many images of one request are checked at
	// once.
	DefaultParallel = 8
)

// Option configures NewChecker.
type Option func(*options) error

type options struct {
	timeout  time.Duration
	parallel int
	log      func(string)
	now      func() time.Time
}

// WithCheckTimeout sets the deadline of each image check (default
// DefaultCheckTimeout).
func WithCheckTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("check timeout %s: want more than 0", d)
		}
		o.timeout = d
		return nil
	}
}

// WithParallel sets how many images of one request are checked at once
// (default DefaultParallel).
func WithParallel(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("parallel checks %d: want at least 1", n)
		}
		o.parallel = n
		return nil
	}
}

// WithLog sets where the one-line notices and the request log go (the
// caller escapes nothing: lines are escaped already). Default: nowhere.
func WithLog(f func(line string)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("nil log")
		}
		o.log = f
		return nil
	}
}

// WithClock sets the clock expiry is checked against (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	}
}

// Checker checks images against a Policy. It is safe for concurrent use;
// checks of one repository run one at a time, since they share that
// repository's trust directory.
type Checker struct {
	policy *Policy
	deps   *app.Deps
	o      options

	mu    sync.Mutex
	locks map[string]*repoLock // by repository name, while a check holds or awaits it
}

// repoLock lets one check of a repository run at a time.
type repoLock struct {
	slot  chan struct{}
	users int // checks holding or awaiting slot: at 0 the entry goes
}

// NewChecker returns a Checker verifying through reg, with the trust data
// in the signet home that ks opens (one trust directory per repository,
// and the warm-verify memo in it).
func NewChecker(p *Policy, reg *registry.Client, ks func() (*keystore.Store, error), opts ...Option) (*Checker, error) {
	o := options{timeout: DefaultCheckTimeout, parallel: DefaultParallel, log: func(string) {}, now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Checker{policy: p, o: o, locks: map[string]*repoLock{}}
	c.deps = &app.Deps{Registry: reg, Keystore: ks, Now: o.now, ReadRoot: p.readRule,
		Notice: func(msg string) { c.logf("notice: %s", line(msg)) }}
	return c, nil
}

// Verdict is the outcome of one image check.
type Verdict struct {
	// Image is the image field as the object has it.
	Image string
	// Covered is false when no rule covers the image.
	Covered bool
	// Pin is REPO:TAG@sha256:… for a tag reference that verified, "" else.
	Pin string
	// Err says why the image is refused; nil when it is admitted.
	Err error
}

// Check checks one image, within the check deadline.
func (c *Checker) Check(ctx context.Context, image string) Verdict {
	v := Verdict{Image: image}
	ref, err := parseImage(image)
	if err != nil {
		v.Err = err // whatever unmatched says: a reference signet reads otherwise than the node is not let through
		return v
	}
	rule := c.policy.Match(ref.repo.Name())
	if rule == nil {
		if c.policy.Unmatched == Deny {
			v.Err = fmt.Errorf("no rule of the policy covers %s, and unmatched is deny", ref.repo.Name())
		}
		return v
	}
	v.Covered = true
	ctx, cancel := context.WithTimeout(ctx, c.o.timeout)
	defer cancel()
	unlock, err := c.lock(ctx, ref.repo.Name())
	if err != nil {
		v.Err = deadline(err, c.o.timeout)
		return v
	}
	defer unlock()
	v.Pin, v.Err = c.verify(ctx, ref, rule.Root)
	if v.Err != nil && ctx.Err() != nil {
		v.Err = deadline(v.Err, c.o.timeout)
	}
	return v
}

func (c *Checker) verify(ctx context.Context, ref imageRef, root string) (string, error) {
	switch {
	case ref.digest == "":
		res, err := app.Verify(ctx, c.deps, app.VerifyRequest{Tag: ref.tagRef(), RootFile: root})
		if err != nil {
			return "", err
		}
		return pinned(ref, res.Digest), nil
	case ref.tag != "":
		res, err := app.VerifySigned(ctx, c.deps, app.VerifyRequest{Tag: ref.tagRef(), RootFile: root})
		if err != nil {
			return "", err
		}
		if res.Digest != ref.digest {
			return "", fmt.Errorf("%s is not the digest signed for %s (%s)", ref.digest, ref.tagRef(), res.Digest)
		}
		return "", nil
	default:
		tag, err := app.SignedTag(ctx, c.deps, ref.repo.Name(), ref.digest, root)
		if err != nil {
			return "", err
		}
		if tag == "" {
			return "", fmt.Errorf("%s is not signed for any tag of %s", ref.digest, ref.repo.Name())
		}
		return "", nil
	}
}

// lock takes the repository's slot, or gives up with ctx.
func (c *Checker) lock(ctx context.Context, repo string) (func(), error) {
	c.mu.Lock()
	l, ok := c.locks[repo]
	if !ok {
		l = &repoLock{slot: make(chan struct{}, 1)}
		c.locks[repo] = l
	}
	l.users++
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.locks, repo)
		}
		c.mu.Unlock()
	}
	select {
	case l.slot <- struct{}{}:
		return func() { <-l.slot; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// deadline says that a check ran out of time, keeping its cause.
func deadline(err error, d time.Duration) error {
	return fmt.Errorf("not checked within %s: %w", d, err)
}

func (c *Checker) logf(format string, args ...any) {
	c.o.log(fmt.Sprintf(format, args...))
}
