package tuf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/ctxsleep"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// maxPublishAttempts bounds how often Update reloads and re-applies a
// change that lost a race with another publisher.
const maxPublishAttempts = 20

// Backoff between attempts of Update: a random wait up to a ceiling that
// starts at the time the failed attempt took and doubles with every
// attempt, up to 16 times that time and at most retryMaxDelay, so that
// publishers that collided spread out over a few times the length of a
// publish, whatever the registry's speed.
const (
	retryMinDelay = 5 * time.Millisecond
	retryMaxDelay = time.Second
)

// Retrier may be implemented by a Keyring that wants to know why it is
// asked for keys again: Update calls Retrying before it signs once more
// because another publisher moved the store on (attempt counts from 2,
// cause is the conflict). A hardware keyring says so before the touch.
type Retrier interface {
	Retrying(attempt, maxAttempts int, cause error)
}

// Update applies change to the repository in store and publishes it: it
// opens the current metadata, calls change, signs what changed plus
// snapshot and timestamp, and publishes. When another publisher moved the
// store on in between, or overwrote this publish right after it (the
// store's read-back sees it), it waits a random backoff and starts again
// from the new metadata, up to 20 attempts, so that no publish is lost.
// On a retry it publishes nothing when the store already holds the change
// (another publisher built on top of it). change must be safe to call again.
//
// When the change is not published, because the attempts ran out or a
// publish failed, the error is a *NotPublishedError naming the targets
// whose change is missing; its kind is the cause's (errkind.Registry for
// a registry that fails or keeps being overwritten).
func Update(ctx context.Context, store tufmeta.Store, keys Keyring, change func(*Repo) error, opts ...RepoOption) (*Repo, error) {
	store = cachingStore{store}
	var last *Repo
	var lastErr error
	var took time.Duration
	for attempt := 1; attempt <= maxPublishAttempts; attempt++ {
		if attempt > 1 {
			if err := ctxsleep.Sleep(ctx, updateBackoff(attempt-1, took)); err != nil {
				return nil, notPublished(ctx, last, attempt-1, lastErr)
			}
		}
		start := time.Now()
		r, err := Open(ctx, store, opts...)
		if err != nil {
			if last != nil {
				return nil, notPublished(ctx, last, attempt-1, err)
			}
			return nil, err
		}
		if change != nil {
			if err := change(r); err != nil {
				return nil, err
			}
		}
		if attempt > 1 {
			if done, _ := alreadyPublished(ctx, r); done {
				r.changed = map[string]bool{}
				return r, nil
			}
			if rt, ok := keys.(Retrier); ok {
				rt.Retrying(attempt, maxPublishAttempts, lastErr)
			}
		}
		err = r.Publish(ctx, keys)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, tufmeta.ErrConflict) {
			if errkind.Of(err) == errkind.Registry {
				return nil, notPublished(ctx, r, attempt, err)
			}
			return nil, err
		}
		last, lastErr, took = r, err, time.Since(start)
	}
	// The last read-back may have seen a publish built on top of ours.
	if r, err := Open(ctx, store, opts...); err == nil {
		if change == nil || change(r) == nil {
			if done, _ := alreadyPublished(ctx, r); done {
				r.changed = map[string]bool{}
				return r, nil
			}
		}
	}
	return nil, notPublished(ctx, last, maxPublishAttempts,
		errkind.Mark(errkind.Registry, fmt.Errorf("gave up after %d attempts: %w", maxPublishAttempts, lastErr)))
}

// updateBackoff is the random wait after n failed attempts, the last of
// which took took.
func updateBackoff(n int, took time.Duration) time.Duration {
	took = max(took, retryMinDelay)
	ceiling := took
	for i := 1; i < n && ceiling < 16*took; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, 16*took, retryMaxDelay)
	return rand.N(ceiling + 1)
}

// NotPublishedError is Update's error when a change did not make it into
// the store. Targets are the names whose addition, change or removal is
// missing (empty when they could not be worked out, or when the change
// touched no target).
type NotPublishedError struct {
	Targets  []string
	Attempts int
	Err      error
}

func (e *NotPublishedError) Error() string {
	if len(e.Targets) == 0 {
		return fmt.Sprintf("not published: %v", e.Err)
	}
	return fmt.Sprintf("not published: tags %s: %v", strings.Join(e.Targets, ", "), e.Err)
}

func (e *NotPublishedError) Unwrap() error { return e.Err }

func notPublished(ctx context.Context, r *Repo, attempts int, err error) error {
	e := &NotPublishedError{Attempts: attempts, Err: err}
	if r != nil {
		e.Targets, _ = pendingTargets(ctx, r)
	}
	return errkind.Mark(errkind.Of(err), e)
}

// alreadyPublished reports whether the store's current metadata, which r
// was opened from, already holds what change did to r: the same targets
// and delegations in every changed role, and no new root.
func alreadyPublished(ctx context.Context, r *Repo) (bool, error) {
	if r.rootChanged {
		return false, nil
	}
	base, err := r.reopen(ctx)
	if err != nil {
		return false, err
	}
	for role := range r.changed {
		same, err := sameRole(ctx, r, base, role)
		if err != nil || !same {
			return false, err
		}
	}
	return true, nil
}

// pendingTargets lists the targets of r's changed roles that differ from
// the metadata r was opened from: what r would publish.
func pendingTargets(ctx context.Context, r *Repo) ([]string, error) {
	base, err := r.reopen(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for role := range r.changed {
		if err := base.loadDelegatedIfAny(ctx, role); err != nil {
			return nil, err
		}
		now, was := r.targetsRole(role), base.targetsRole(role)
		if now == nil || was == nil {
			continue
		}
		for name, f := range now.Signed.Targets {
			if g, ok := was.Signed.Targets[name]; !ok || !sameJSON(f, g) {
				names = append(names, name)
			}
		}
		for name := range was.Signed.Targets {
			if _, ok := now.Signed.Targets[name]; !ok {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// reopen loads the metadata r was opened from again, without r's changes.
func (r *Repo) reopen(ctx context.Context) (*Repo, error) {
	return Open(ctx, viewStore{r.view}, func(o *repoOptions) error {
		*o = r.opts
		return nil
	})
}

// viewStore is a Store whose current view is always one view.
type viewStore struct{ v tufmeta.View }

func (s viewStore) Load(context.Context) (tufmeta.View, error) { return s.v, nil }

// sameRole reports whether role has the same targets and delegations in
// a and b.
func sameRole(ctx context.Context, a, b *Repo, role string) (bool, error) {
	if err := b.loadDelegatedIfAny(ctx, role); err != nil {
		return false, err
	}
	x, y := a.targetsRole(role), b.targetsRole(role)
	if x == nil || y == nil {
		return x == y, nil
	}
	if !sameJSON(x.Signed.Targets, y.Signed.Targets) {
		return false, nil
	}
	return sameJSON(x.Signed.Delegations, y.Signed.Delegations), nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// cachingStore keeps what its views read, so that reopening a view (to
// compare a change with what it was made on) reads nothing twice. A View
// is immutable, so its files never go stale.
type cachingStore struct{ tufmeta.Store }

func (s cachingStore) Load(ctx context.Context) (tufmeta.View, error) {
	v, err := s.Store.Load(ctx)
	if err != nil {
		return nil, err
	}
	return &cachedView{View: v, files: map[string][]byte{}}, nil
}

type cachedView struct {
	tufmeta.View
	mu    sync.Mutex
	files map[string][]byte
}

func (v *cachedView) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	v.mu.Lock()
	data, ok := v.files[name]
	v.mu.Unlock()
	if ok && int64(len(data)) <= maxSize {
		return data, nil
	}
	data, err := v.View.ReadFile(ctx, name, maxSize)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.files[name] = data
	v.mu.Unlock()
	return data, nil
}
