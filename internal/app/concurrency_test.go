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
// distribution registry at the same time; all 40 tags must verify.
//
// Thirteen repositories: ten straight to the registry, three through a
// proxy on 127.0.0.1 that holds every request for a random time up to
// 25ms, as a registry across a network would (the settle after each move
// is then sized from those slower requests, and the jitter reorders the
// publishers' checks and puts). The direct and the delayed repositories
// are two parallel subtests, each racing its repositories one after the
// other: two races at a time, sixteen signers.
func TestEightConcurrentSignersLoseNoTag(t *testing.T) {
	// Not parallel with the package's other tests: the races run on their
	// own, as on a CI machine that only publishes, so that their retries
	// are not starved by unrelated work. More races at once make every
	// request slower and the retries longer, not the test shorter: the
	// registry's own CPU is most of a race's cost.
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	p, err := faultproxy.Start(host, faultproxy.Config{Seed: 18, Slow: 1, SlowDelay: 25 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	var direct, delayed raceTotals
	t.Run("repositories", func(t *testing.T) {
		raceRepositories(t, "direct", host, 10, &direct)
		raceRepositories(t, "delayed", p.Addr(), 3, &delayed)
	})
	direct.log(t, "direct")
	delayed.log(t, "delayed")
	if s := p.Stats(); s.Slowed != s.Requests || s.Requests == 0 {
		t.Errorf("%d of %d requests were delayed", s.Slowed, s.Requests)
	}
}

// raceTotals adds up the repositories of one kind of race.
type raceTotals struct {
	mu                       sync.Mutex
	publishes, retries, lost int
	wall                     time.Duration
}

func (r *raceTotals) log(t *testing.T, kind string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Logf("%s: %d publishes, %d attempts (%d re-signed after a conflict), %d lost, sum of race walls %s",
		kind, r.publishes, r.publishes+r.retries, r.retries, r.lost, r.wall.Round(time.Millisecond))
}

// raceRepositories runs a parallel subtest kind whose subtests kind/0 to
// kind/n-1 race one after the other, each a raceRound on its own
// repository of the registry at host.
func raceRepositories(t *testing.T, kind, host string, n int, total *raceTotals) {
	t.Run(kind, func(t *testing.T) {
		t.Parallel()
		for round := range n {
			t.Run(fmt.Sprintf("%d", round), func(t *testing.T) {
				raceRound(t, host, round, total)
			})
		}
	})
}

// raceRound is one repository of raceSigners: 8 signers sign 5 tags each
// at the same time, then every tag must verify for a consumer.
func raceRound(t *testing.T, host string, round int, total *raceTotals) {
	const signers, tags = 8, 5
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
	for err := range errs {
		t.Errorf("round %d: a signer failed: %v", round, err)
	}

	var mu sync.Mutex
	lost := 0
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
					lost++
					mu.Unlock()
					t.Errorf("round %d: %s does not verify: %v", round, tag, err)
				}
			}
		})
	}
	check.Wait()
	retries := 0
	for _, p := range ci {
		retries += p.noticesWith("re-signing because another publisher")
	}
	t.Logf("round %d: %d publishes, %d re-signed after a conflict, %d lost, %s", round, signers*tags, retries, lost, took.Round(time.Millisecond))
	total.mu.Lock()
	defer total.mu.Unlock()
	total.publishes += signers * tags
	total.retries += retries
	total.lost += lost
	total.wall += took
}
