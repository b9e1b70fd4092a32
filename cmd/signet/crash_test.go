package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/registrytest/faultproxy"
	"github.com/signet-dev/signet/signer"
)

// killer runs signet processes and kills the current one when the proxy
// reaches the request it was armed for.
type killer struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	at     int  // proxy request number to kill at, 0: none
	after  bool // kill once the registry answered request at, instead of before forwarding it
	killed bool
}

func (k *killer) hook(after bool) func(n int, r *http.Request) bool {
	return func(n int, r *http.Request) bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.at == 0 || n != k.at || k.after != after || k.cmd == nil || k.cmd.Process == nil {
			return true
		}
		_ = k.cmd.Process.Kill()
		k.killed = true
		return false
	}
}

// run runs signet with args and returns its exit code and output.
func (k *killer) run(t *testing.T, env []string, args ...string) (int, string, bool) {
	t.Helper()
	bin, err := exec.LookPath("signet")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	k.mu.Lock()
	k.cmd, k.killed = cmd, false
	err = cmd.Start()
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cmd, k.at = nil, 0
	return cmd.ProcessState.ExitCode(), out.String(), k.killed
}

// consumer verifies tags the way a user with the pinned root does.
func consumer(t *testing.T, home string) *app.Deps {
	t.Helper()
	client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}))
	if err != nil {
		t.Fatal(err)
	}
	pass := func(context.Context, keystore.PassphraseRequest) ([]byte, error) { return []byte(testPassphrase), nil }
	ks := sync.OnceValues(func() (*keystore.Store, error) {
		return keystore.Open(home, keystore.WithPassphrase(pass), keystore.WithKDFStrength(encrypted.Legacy))
	})
	return &app.Deps{
		Registry: client,
		Keystore: ks,
		Resolver: func() (*signer.Resolver, error) {
			s, err := ks()
			if err != nil {
				return nil, err
			}
			return signer.NewResolver(s, signer.WithPassphrase(pass), signer.WithEnv(func(string) string { return "" }))
		},
	}
}

// TestKilledAtAnyPointOfAPushTheRepositoryVerifiesAndARerunCompletes
// kills `signet push` at a random request of its publish (before the
// registry sees it, or after the registry acted but before signet heard),
// 50 seeded trials: every tag signed before still verifies and the same
// command run again signs the trial's tag.
func TestKilledAtAnyPointOfAPushTheRepositoryVerifiesAndARerunCompletes(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	ctx := context.Background()
	k := &killer{}
	p, err := faultproxy.Start(host, faultproxy.Config{BeforeForward: k.hook(false), AfterForward: k.hook(true)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	work := t.TempDir()
	home := filepath.Join(work, "home")
	env := []string{"SIGNET_HOME=" + home, "SIGNET_PASSPHRASE=" + testPassphrase, "HOME=" + work, "PATH=" + os.Getenv("PATH")}
	// A keystore with a fast KDF, so that each signet run derives quickly.
	pass := func(context.Context, keystore.PassphraseRequest) ([]byte, error) { return []byte(testPassphrase), nil }
	ks, err := keystore.Open(home, keystore.WithPassphrase(pass), keystore.WithKDFStrength(encrypted.Legacy))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Generate(ctx, "root", keystore.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	ks.Close()

	repo := fmt.Sprintf("%s/signet-crash/r%d", p.Addr(), time.Now().UnixNano())
	if code, out, _ := k.run(t, env, "init", repo, "--root-key", "root"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, out)
	}
	src := "oci:" + randomLayout(t)

	// The first push, whole, counts the requests of one push.
	before := p.Stats().Requests
	if code, out, _ := k.run(t, env, "push", src, repo+":t0"); code != 0 {
		t.Fatalf("push t0: exit %d: %s", code, out)
	}
	perPush := p.Stats().Requests - before

	verifier := consumer(t, filepath.Join(work, "consumer"))
	rootPin := filepath.Join(work, "root.json")
	writeRoot(t, verifier, repo, rootPin)

	rnd := rand.New(rand.NewPCG(8, 50))
	signed := []string{"t0"}
	var diedBeforeCommit, diedAfterCommit int
	for trial := 1; trial <= 50; trial++ {
		tag := fmt.Sprintf("t%d", trial)
		at := 1 + rnd.IntN(perPush)
		after := rnd.IntN(2) == 1
		k.mu.Lock()
		k.at, k.after = p.Stats().Requests+at, after
		k.mu.Unlock()
		code, out, killed := k.run(t, env, "push", src, repo+":"+tag)
		if !killed && code != 0 {
			t.Fatalf("trial %d: push not killed failed: exit %d: %s", trial, code, out)
		}

		// Everything signed before still verifies, the trust data opens.
		ins, err := app.Inspect(ctx, verifier, repo)
		if err != nil {
			t.Fatalf("trial %d (killed at request %d of %d, after=%v): trust data does not open: %v", trial, at, perPush, after, err)
		}
		listed := map[string]bool{}
		for _, tg := range ins.Targets {
			listed[tg.Name] = true
		}
		for _, s := range signed {
			if !listed[s] {
				t.Fatalf("trial %d: %s was lost (killed at request %d, after=%v)", trial, s, at, after)
			}
		}
		prev := signed[rnd.IntN(len(signed))]
		if _, err := app.Verify(ctx, verifier, app.VerifyRequest{Tag: repo + ":" + prev, RootFile: rootPin}); err != nil {
			t.Fatalf("trial %d: %s does not verify after the kill: %v", trial, prev, err)
		}
		if listed[tag] {
			diedAfterCommit++
		} else {
			diedBeforeCommit++
		}

		// The same command again completes the work.
		if code, out, _ := k.run(t, env, "push", src, repo+":"+tag); code != 0 {
			t.Fatalf("trial %d: rerun: exit %d: %s", trial, code, out)
		}
		if _, err := app.Verify(ctx, verifier, app.VerifyRequest{Tag: repo + ":" + tag, RootFile: rootPin}); err != nil {
			t.Fatalf("trial %d: %s does not verify after the rerun: %v", trial, tag, err)
		}
		signed = append(signed, tag)
	}
	for _, s := range signed {
		if _, err := app.Verify(ctx, verifier, app.VerifyRequest{Tag: repo + ":" + s, RootFile: rootPin}); err != nil {
			t.Errorf("%s does not verify at the end: %v", s, err)
		}
	}
	t.Logf("50 kills in a push of %d requests: %d before the trust data moved, %d after; all %d tags verify", perPush, diedBeforeCommit, diedAfterCommit, len(signed))
}

func randomLayout(t *testing.T) string {
	t.Helper()
	return registrytest.WriteLayout(t, registrytest.RandomImage(t, 512, 1), "")
}

// writeRoot saves the repository's 1.root.json, as a publisher hands it out.
func writeRoot(t *testing.T, d *app.Deps, repo, path string) {
	t.Helper()
	r, err := registry.ParseRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Registry.Metadata(context.Background(), registry.MetadataRef(r))
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.ReadFile(context.Background(), "1.root.json", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
