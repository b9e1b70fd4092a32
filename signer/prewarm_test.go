package signer

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

// prewarmCounts counts passphrase requests (those with NoPrompt apart)
// and derivations; mu guards them, since Prewarm runs in the background.
type prewarmCounts struct {
	mu                      sync.Mutex
	asks, noPrompt, derives int
}

func (c *prewarmCounts) resolver(t *testing.T, bundle []byte, pass func(req keystore.PassphraseRequest) ([]byte, error)) *Resolver {
	t.Helper()
	r, err := NewResolver(nil, WithEnv(env(map[string]string{EnvKey: string(bundle)})),
		WithPassphrase(func(_ context.Context, req keystore.PassphraseRequest) ([]byte, error) {
			c.mu.Lock()
			c.asks++
			if req.NoPrompt {
				c.noPrompt++
			}
			c.mu.Unlock()
			return pass(req)
		}),
		WithBundleOptions(keystore.WithDeriveHook(func() { c.mu.Lock(); c.derives++; c.mu.Unlock() })))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPrewarmOpensTheSIGNETKEYBundleOnceWhileKeysAreResolved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	infos, bundle := exportBundle(t, "ci", "snap")
	c := &prewarmCounts{}
	r := c.resolver(t, bundle, func(keystore.PassphraseRequest) ([]byte, error) { return []byte("pw"), nil })
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Prewarm(ctx); err != nil {
			t.Errorf("Prewarm: %v", err)
		}
	})
	k, err := r.ByKeyID(ctx, infos["snap"].KeyID)
	if err != nil || k.Name != "snap" {
		t.Fatalf("ByKeyID(snap) while prewarming: %v, %v", k, err)
	}
	wg.Wait()
	if err := r.Prewarm(ctx); err != nil {
		t.Fatal(err)
	}
	if k, err := r.Resolve(ctx, "ci"); err != nil || k.ID != infos["ci"].KeyID {
		t.Fatalf("Resolve(ci): %v", err)
	}
	if c.asks != 1 || c.derives != 1 {
		t.Fatalf("asks=%d derives=%d, want one of each however Prewarm and the keys interleave", c.asks, c.derives)
	}
}

func TestPrewarmLeavesAPromptToTheFirstKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, bundle := exportBundle(t, "ci")
	c := &prewarmCounts{}
	r := c.resolver(t, bundle, func(req keystore.PassphraseRequest) ([]byte, error) {
		if req.NoPrompt {
			return nil, keystore.ErrPromptNeeded
		}
		return []byte("pw"), nil
	})
	if err := r.Prewarm(ctx); err != nil {
		t.Fatalf("Prewarm without the passphrase at hand: %v, want nothing done", err)
	}
	if c.derives != 0 || c.noPrompt != 1 {
		t.Fatalf("Prewarm asked %d times without a prompt and derived %d times, want 1 and 0", c.noPrompt, c.derives)
	}
	if _, err := r.Resolve(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if c.asks != 2 || c.derives != 1 {
		t.Fatalf("asks=%d derives=%d, want the first key to ask (2 in all) and derive once", c.asks, c.derives)
	}
}

func TestPrewarmWithAWrongPassphraseLeavesTheErrorToTheFirstKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, bundle := exportBundle(t, "ci")
	c := &prewarmCounts{}
	r := c.resolver(t, bundle, func(keystore.PassphraseRequest) ([]byte, error) { return []byte("nope"), nil })
	err := r.Prewarm(ctx)
	if !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("Prewarm with a wrong passphrase: %v", err)
	}
	_, err = r.Resolve(ctx, "ci")
	if !errors.Is(err, keystore.ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
		t.Fatalf("Resolve after a failed Prewarm: %v, want the wrong passphrase as a key error", err)
	}
}

func TestPrewarmWithoutSIGNETKEYDoesNothing(t *testing.T) {
	t.Parallel()
	c := &prewarmCounts{}
	r := c.resolver(t, nil, func(keystore.PassphraseRequest) ([]byte, error) { return []byte("pw"), nil })
	if err := r.Prewarm(context.Background()); err != nil || c.asks != 0 {
		t.Fatalf("Prewarm without SIGNET_KEY: %v, %d passphrase requests", err, c.asks)
	}
}
