package tuf_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// lockedKeyring makes a testKeyring safe for concurrent publishers and
// records Update's retry notices.
type lockedKeyring struct {
	mu      sync.Mutex
	k       *testKeyring
	retries []int
}

func (l *lockedKeyring) Signer(ctx context.Context, keyID, role string) (signature.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.k.Signer(ctx, keyID, role)
}

func (l *lockedKeyring) Retrying(attempt, max int, cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if max != 20 || !errors.Is(cause, tufmeta.ErrConflict) {
		panic(fmt.Sprintf("Retrying(%d, %d, %v)", attempt, max, cause))
	}
	l.retries = append(l.retries, attempt)
}

// scriptedStore wraps a store's views: publish decides what a publish
// does (nil: publish normally).
type scriptedStore struct {
	tufmeta.Store
	publish func(v tufmeta.View, put map[string][]byte, remove []string) error
}

func (s scriptedStore) Load(ctx context.Context) (tufmeta.View, error) {
	v, err := s.Store.Load(ctx)
	if err != nil {
		return nil, err
	}
	return scriptedView{View: v, s: s}, nil
}

type scriptedView struct {
	tufmeta.View
	s scriptedStore
}

func (v scriptedView) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	return v.s.publish(v.View, put, remove)
}

func addTwo(r *tuf.Repo) error {
	return r.AddTargets(context.Background(), "targets", []tuf.Target{target("b", 2), target("a", 1)})
}

func TestUpdateConvergesWithEightConcurrentPublishers(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	keys := &lockedKeyring{k: f.keys}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for p := range 8 {
		wg.Go(func() {
			for i := range 5 {
				tg := target(fmt.Sprintf("p%d-t%d", p, i), byte(p*5+i))
				_, err := tuf.Update(context.Background(), f.store, keys, func(r *tuf.Repo) error {
					return r.AddTargets(context.Background(), "targets", []tuf.Target{tg})
				}, tuf.TrustStoredRoot())
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a publisher failed: %v", err)
		}
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	list, _ := r.ListTargets(context.Background())
	if len(list) != 40 {
		t.Fatalf("%d targets after 40 concurrent publishes, want 40", len(list))
	}
	t.Logf("%d retries", len(keys.retries))
}

func TestUpdateGivesUpAfterTwentyAttemptsNamingTheTagsNotPublished(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	keys := &lockedKeyring{k: f.keys}
	store := scriptedStore{Store: f.store, publish: func(tufmeta.View, map[string][]byte, []string) error {
		return errkind.Mark(errkind.Registry, fmt.Errorf("moved: %w", tufmeta.ErrConflict))
	}}
	_, err := tuf.Update(context.Background(), store, keys, addTwo, tuf.TrustStoredRoot())
	var np *tuf.NotPublishedError
	if !errors.As(err, &np) || !errkind.Is(err, errkind.Registry) || !errors.Is(err, tufmeta.ErrConflict) {
		t.Fatalf("err = %v, want a registry NotPublishedError wrapping ErrConflict", err)
	}
	if !slices.Equal(np.Targets, []string{"a", "b"}) || np.Attempts != 20 || err.Error() != "not published: tags a, b: gave up after 20 attempts: publishing trust data: moved: trust data changed while publishing" {
		t.Fatalf("err = %q (%+v)", err, np)
	}
	if len(keys.retries) != 19 || keys.retries[0] != 2 || keys.retries[18] != 20 {
		t.Fatalf("keyring told of retries %v, want attempts 2 to 20", keys.retries)
	}
}

func TestUpdateThatFindsItsChangeAlreadyPublishedDoesNotPublishAgain(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	keys := &lockedKeyring{k: f.keys}
	tripped := false
	store := scriptedStore{Store: f.store, publish: func(v tufmeta.View, put map[string][]byte, remove []string) error {
		if err := v.Publish(context.Background(), put, remove); err != nil {
			return err
		}
		if !tripped { // the read-back saw someone build on top of it
			tripped = true
			return tufmeta.ErrConflict
		}
		return nil
	}}
	before := len(f.store.History())
	if _, err := tuf.Update(context.Background(), store, keys, addTwo, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.store.History()) - before; n != 1 || len(keys.retries) != 0 {
		t.Fatalf("%d publishes and retries %v, want 1 publish and no re-signing", n, keys.retries)
	}
}

func TestUpdateWhosePublishFailsNamesTheTagsAndKeepsTheKind(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	store := scriptedStore{Store: f.store, publish: func(tufmeta.View, map[string][]byte, []string) error {
		return errkind.Mark(errkind.Registry, errors.New("PUT: 503 service unavailable"))
	}}
	_, err := tuf.Update(context.Background(), store, f.keys, func(r *tuf.Repo) error {
		if err := addTwo(r); err != nil {
			return err
		}
		_, err := r.RemoveTargets(context.Background(), "targets", []string{"gone"})
		return err
	}, tuf.TrustStoredRoot())
	var np *tuf.NotPublishedError
	if !errors.As(err, &np) || !errkind.Is(err, errkind.Registry) || !slices.Equal(np.Targets, []string{"a", "b"}) {
		t.Fatalf("err = %v, want a registry NotPublishedError naming a and b", err)
	}
	r, _ := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if list, _ := r.ListTargets(context.Background()); len(list) != 0 {
		t.Fatalf("a failed publish left targets %v", list)
	}
}
