package keystore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/errkind"
)

// prewarmCounter counts, safely across goroutines, the passphrase requests
// (and of them those with NoPrompt) and scrypt derivations of one Store.
type prewarmCounter struct {
	asks, noPrompt, derives atomic.Int32
}

// openCounted opens home with passphrase pass; with envOnly false the
// passphrase function answers NoPrompt requests with ErrPromptNeeded, as
// cmd/signet does on a terminal without SIGNET_PASSPHRASE.
func openCounted(t *testing.T, home, pass string, envOnly bool) (*Store, *prewarmCounter) {
	t.Helper()
	return openWithNoPrompt(t, home, pass, func() error {
		if !envOnly {
			return fmt.Errorf("no SIGNET_PASSPHRASE: %w", ErrPromptNeeded)
		}
		return nil
	})
}

// openWithNoPrompt opens home with passphrase pass, counting; a NoPrompt
// request first calls noPrompt, whose error is the answer.
func openWithNoPrompt(t *testing.T, home, pass string, noPrompt func() error) (*Store, *prewarmCounter) {
	t.Helper()
	c := &prewarmCounter{}
	s, err := Open(home,
		WithKDFStrength(encrypted.Legacy),
		WithDeriveHook(func() { c.derives.Add(1) }),
		WithPassphrase(func(_ context.Context, r PassphraseRequest) ([]byte, error) {
			if r.NoPrompt {
				c.noPrompt.Add(1)
				if err := noPrompt(); err != nil {
					return nil, err
				}
			}
			c.asks.Add(1)
			return []byte(pass), nil
		}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func threeKeyHome(t *testing.T) (string, []string) {
	t.Helper()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	names := []string{"r/targets", "r/snapshot", "r/timestamp"}
	for _, n := range names {
		if _, err := s.Generate(context.Background(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return home, names
}

func TestPrewarmRacingPrivateKeysDerivesOnce(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, c := openCounted(t, home, "pw", true)
	ctx := context.Background()
	var wg sync.WaitGroup
	var prewarmErr error
	wg.Go(func() { prewarmErr = s.Prewarm(ctx) })
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Go(func() { _, errs[i] = s.PrivateKey(ctx, n) })
	}
	wg.Wait()
	if prewarmErr != nil {
		t.Fatalf("Prewarm: %v", prewarmErr)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PrivateKey(%s): %v", names[i], err)
		}
	}
	if c.derives.Load() != 1 || c.asks.Load() != 1 {
		t.Fatalf("derives=%d asks=%d, want 1 and 1", c.derives.Load(), c.asks.Load())
	}
}

func TestPrewarmUnlocksSoPrivateKeyDoesNotAskAgain(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, c := openCounted(t, home, "pw", true)
	ctx := context.Background()
	if err := s.Prewarm(ctx); err != nil {
		t.Fatal(err)
	}
	if c.derives.Load() != 1 || c.noPrompt.Load() != 1 {
		t.Fatalf("after Prewarm: derives=%d NoPrompt requests=%d, want 1 and 1", c.derives.Load(), c.noPrompt.Load())
	}
	for _, n := range names {
		if _, err := s.PrivateKey(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Prewarm(ctx); err != nil {
		t.Fatal(err)
	}
	if c.derives.Load() != 1 || c.asks.Load() != 1 {
		t.Fatalf("derives=%d asks=%d, want 1 and 1", c.derives.Load(), c.asks.Load())
	}
}

func TestPrewarmLeavesThePromptToTheFirstPrivateKey(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, c := openCounted(t, home, "pw", false)
	ctx := context.Background()
	if err := s.Prewarm(ctx); err != nil {
		t.Fatalf("Prewarm without the passphrase at hand: %v, want nil", err)
	}
	if c.derives.Load() != 0 || c.asks.Load() != 0 {
		t.Fatalf("Prewarm without the passphrase at hand: derives=%d asks=%d, want 0 and 0", c.derives.Load(), c.asks.Load())
	}
	if _, err := s.PrivateKey(ctx, names[0]); err != nil {
		t.Fatal(err)
	}
	if c.derives.Load() != 1 || c.asks.Load() != 1 {
		t.Fatalf("PrivateKey: derives=%d asks=%d, want 1 and 1", c.derives.Load(), c.asks.Load())
	}
}

func TestPrewarmWithWrongPassphraseIsNotRemembered(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, _ := openCounted(t, home, "wrong", true)
	ctx := context.Background()
	if err := s.Prewarm(ctx); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Prewarm with a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	_, err := s.PrivateKey(ctx, names[0])
	if !errors.Is(err, ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
		t.Fatalf("PrivateKey after a failed Prewarm: %v (kind %d), want ErrWrongPassphrase", err, errkind.Of(err))
	}
}

func TestPrewarmDoesNotDeriveWithoutSoftwareKeys(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := PublicKeyPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fill func(t *testing.T, s *Store)
	}{
		{"hardware only", func(t *testing.T, s *Store) {
			if _, err := s.PutHardware(HardwareKey{Name: "yk", Public: &k.PublicKey, Serial: 12345678, Slot: "9c"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"public only", func(t *testing.T, s *Store) {
			if _, err := s.Import(context.Background(), "theirs", pubPEM, nil); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A master key exists (a software key was generated and
			// deleted), so only the kinds of the keys left tell.
			home := newHome(t)
			s, _ := openStore(t, home, "pw")
			if _, err := s.Generate(context.Background(), "gone", ""); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete("gone"); err != nil {
				t.Fatal(err)
			}
			tc.fill(t, s)
			s.Close()
			s2, c := openCounted(t, home, "pw", true)
			if err := s2.Prewarm(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c.derives.Load() != 0 || c.asks.Load() != 0 || c.noPrompt.Load() != 0 {
				t.Fatalf("derives=%d asks=%d NoPrompt requests=%d, want none", c.derives.Load(), c.asks.Load(), c.noPrompt.Load())
			}
		})
	}
}

// blockedPrewarm starts Prewarm on a Store whose passphrase function holds
// the background request until release is closed; it returns once that
// request has arrived, and Prewarm's result on done.
func blockedPrewarm(t *testing.T, home string) (s *Store, c *prewarmCounter, release chan struct{}, done chan error) {
	t.Helper()
	arrived, release := make(chan struct{}), make(chan struct{})
	s, c = openWithNoPrompt(t, home, "pw", func() error {
		close(arrived)
		<-release
		return nil
	})
	done = make(chan error, 1)
	go func() { done <- s.Prewarm(context.Background()) }()
	<-arrived
	return s, c, release, done
}

func TestPrivateKeyWaitsForPrewarmInFlightAndReusesItsKey(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, c, release, done := blockedPrewarm(t, home)
	got := make(chan error, 1)
	go func() { _, err := s.PrivateKey(context.Background(), names[0]); got <- err }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Prewarm: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("PrivateKey: %v", err)
	}
	if c.derives.Load() != 1 || c.asks.Load() != 1 || c.noPrompt.Load() != 1 {
		t.Fatalf("derives=%d asks=%d NoPrompt requests=%d, want 1, 1 and 1: PrivateKey must reuse the background unlock",
			c.derives.Load(), c.asks.Load(), c.noPrompt.Load())
	}
}

func TestCloseDoesNotWaitForPrewarmAndDropsItsKey(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, _, release, done := blockedPrewarm(t, home)
	if err := s.Close(); err != nil { // returns although Prewarm is stuck
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Prewarm: %v", err)
	}
	s.mu.Lock()
	kept := s.master != nil
	s.mu.Unlock()
	if kept {
		t.Fatal("a closed Store kept the master key Prewarm derived")
	}
	if _, err := s.PrivateKey(context.Background(), names[0]); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("PrivateKey after Close: %v, want keystore is closed", err)
	}
}

func TestPrivateKeyWaitingForPrewarmStopsWithItsContext(t *testing.T) {
	t.Parallel()
	home, names := threeKeyHome(t)
	s, _, release, done := blockedPrewarm(t, home)
	defer func() { close(release); <-done }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.PrivateKey(ctx, names[0]); !errors.Is(err, context.Canceled) {
		t.Fatalf("PrivateKey with a cancelled context while Prewarm is in flight: %v, want context.Canceled", err)
	}
}
