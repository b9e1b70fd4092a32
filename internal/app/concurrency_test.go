package app_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/registrytest/faultproxy"
)

// cloneHome copies a signet home (keystore, pinned roots) into p's, as a
// CI job gets the publisher's keys; modes are kept.
func cloneHome(t *testing.T, from string, p *person) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(p.home, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *person) noticesWith(word string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.notices {
		if strings.Contains(m, word) {
			n++
		}
	}
	return n
}

// newRacer is a person whose registry client has the product's default
// settle delay, as every publisher in a race must: newPerson's has none.
func newRacer(t *testing.T) *person {
	t.Helper()
	p := newPerson(t)
	client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}))
	if err != nil {
		t.Fatal(err)
	}
	p.deps.Registry = client
	return p
}

// TestEightConcurrentSignersLoseNoTag runs 8 CI-style signers, each with
// its own copy of the publisher's keys and its own registry client, that
// sign 5 tags each, one after the other, into one repository of the
// distribution registry at the same time; all 40 tags must verify. Ten
// repositories, one after the other.
func TestEightConcurrentSignersLoseNoTag(t *testing.T) {
	// Not parallel: the race runs alone, as on a CI machine that only
	// publishes, so that its retries are not starved by other tests.
	raceSigners(t, testenv.Need(t, "SIGNET_TEST_REGISTRY"), 10)
}

// TestEightConcurrentSignersLoseNoTagWhenEveryRequestIsDelayed is the
// same race through a proxy on 127.0.0.1 that holds every request for a
// random time up to 25ms, as a registry across a network would: the
// settle after each move is sized from those slower requests, and the
// jitter reorders the publishers' checks and puts. Three repositories.
func TestEightConcurrentSignersLoseNoTagWhenEveryRequestIsDelayed(t *testing.T) {
	// Not parallel: the race runs alone, as on a CI machine that only
	// publishes, so that its retries are not starved by other tests.
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	p, err := faultproxy.Start(host, faultproxy.Config{Seed: 18, Slow: 1, SlowDelay: 25 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	raceSigners(t, p.Addr(), 3)
	if s := p.Stats(); s.Slowed != s.Requests {
		t.Errorf("%d of %d requests were delayed", s.Slowed, s.Requests)
	}
}

// raceSigners runs the race of TestEightConcurrentSignersLoseNoTag on
// rounds repositories of the registry at host, one after the other.
func raceSigners(t *testing.T, host string, rounds int) {
	const signers, tags = 8, 5
	var publishes, retries, lost int
	var wall time.Duration
	for round := range rounds {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		root := rootFile(t, repo)
		ci := make([]*person, signers)
		for i := range ci {
			ci[i] = newRacer(t)
			cloneHome(t, pub.home, ci[i])
		}
		// Each signer's image is in the registry at its 5 tags (pushed
		// before the race); the signers race on the trust data only.
		descs := make([]v1.Descriptor, signers)
		var setup sync.WaitGroup
		for i := range descs {
			src := ociLayout(t)
			setup.Go(func() {
				for j := range tags {
					tg, err := registry.ParseTag(fmt.Sprintf("%s:s%d-t%d", repo, i, j))
					if err == nil {
						descs[i], err = pub.deps.Registry.PushImage(context.Background(), src, tg, nil)
					}
					if err != nil {
						t.Error(err)
					}
				}
			})
		}
		setup.Wait()
		if t.Failed() {
			t.FailNow()
		}

		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, signers*tags)
		for i, p := range ci {
			wg.Go(func() {
				for j := range tags {
					tag := fmt.Sprintf("%s:s%d-t%d", repo, i, j)
					_, err := app.Sign(context.Background(), p.deps, app.SignRequest{Tags: []string{tag}, Descriptors: map[string]v1.Descriptor{tag: descs[i]}})
					if err != nil {
						errs <- fmt.Errorf("%s: %w", tag, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		took := time.Since(start)
		wall += took
		for err := range errs {
			t.Errorf("round %d: a signer failed: %v", round, err)
		}

		var mu sync.Mutex
		roundLost := 0
		var check sync.WaitGroup
		for i := range signers {
			consumer := newPerson(t)
			check.Go(func() {
				for j := range tags {
					tag := fmt.Sprintf("%s:s%d-t%d", repo, i, j)
					got, err := app.Verify(context.Background(), consumer.deps, app.VerifyRequest{Tag: tag, RootFile: root})
					if err == nil && got.Digest != descs[i].Digest.String() {
						err = fmt.Errorf("verified %s, pushed %s", got.Digest, descs[i].Digest)
					}
					if err != nil {
						mu.Lock()
						roundLost++
						mu.Unlock()
						t.Errorf("round %d: %s does not verify: %v", round, tag, err)
					}
				}
			})
		}
		check.Wait()
		roundRetries := 0
		for _, p := range ci {
			roundRetries += p.noticesWith("re-signing because another publisher")
		}
		publishes += signers * tags
		retries += roundRetries
		lost += roundLost
		t.Logf("round %d: %d publishes, %d re-signed after a conflict, %d lost, %s", round, signers*tags, roundRetries, roundLost, took.Round(time.Millisecond))
		if t.Failed() {
			break
		}
	}
	t.Logf("total: %d publishes, %d attempts (%d re-signed after a conflict), %d lost, wall %s", publishes, publishes+retries, retries, lost, wall.Round(time.Millisecond))
}
