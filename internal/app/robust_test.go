package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/registrytest/faultproxy"
)

// TestPushesThroughAFaultyNetworkSucceedOrFailCleanlyAndLoseNothing puts
// a seeded fault-injecting proxy (500s, 429s, dropped connections, slow
// answers) between a publisher and the distribution registry: every push
// succeeds or fails as one line of registry error, and after each one
// every tag signed so far verifies.
func TestPushesThroughAFaultyNetworkSucceedOrFailCleanlyAndLoseNothing(t *testing.T) {
	// Not parallel: its retry budget is sized for a registry and a
	// machine that other tests do not load at the same time.
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	ctx := context.Background()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p, err := faultproxy.Start(host, faultproxy.Config{Seed: seed, Error: 0.06, TooMany: 0.05, Drop: 0.06, Slow: 0.05, SlowDelay: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			path := strings.TrimPrefix(uniqueRepo(t, host), host+"/")
			direct, faulty := host+"/"+path, p.Addr()+"/"+path

			pub := initRepo(t, direct)
			root := rootFile(t, direct)
			pin(t, pub, faulty, root) // the same repository under the proxy's name
			// The publisher pushes through the proxy to the same repository.
			client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}),
				registry.WithRetry(registry.RetryPolicy{Attempts: 4, MinDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Budget: 10 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			pub.deps.Registry = client
			consumer := newPerson(t)

			var signed []string
			ok, failed := 0, 0
			for i := range 8 {
				tag := fmt.Sprintf("v%d", i)
				_, err := app.Push(ctx, pub.deps, app.PushRequest{Source: ociLayout(t), Tag: faulty + ":" + tag})
				switch {
				case err == nil:
					ok++
					signed = append(signed, tag)
				case errkind.Is(err, errkind.Registry) && !strings.Contains(err.Error(), "\n"):
					failed++
				default:
					t.Fatalf("push %s: %v (kind %v), want success or one line of registry error", tag, err, errkind.Of(err))
				}
				for _, s := range signed {
					if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: direct + ":" + s, RootFile: root}); err != nil {
						t.Fatalf("after push %s, %s does not verify: %v", tag, s, err)
					}
				}
			}
			t.Logf("seed %d: %d pushes succeeded, %d failed cleanly; proxy %+v", seed, ok, failed, p.Stats())
			if ok == 0 {
				t.Fatal("no push got through")
			}
		})
	}
}
