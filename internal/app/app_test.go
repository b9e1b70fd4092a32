package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/signer"
)

const passphrase = "correct horse battery staple"

// person is one signet home: a publisher or a consumer of a repository.
type person struct {
	t       *testing.T
	home    string
	deps    *app.Deps
	notices []string
	mu      sync.Mutex
	clock   time.Time // zero: real time
}

func newPerson(t *testing.T) *person {
	t.Helper()
	p := &person{t: t, home: filepath.Join(t.TempDir(), "home")}
	// One publisher per repository: no settle floor, only the wait sized
	// from the registry's latency (registry.WithSettleDelay). The races
	// (concurrency_test.go, robust_test.go) use the product's default.
	client, err := registry.New(registry.WithKeychain(registrytest.Anonymous{}), registry.WithSettleDelay(0))
	if err != nil {
		t.Fatal(err)
	}
	pass := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		return []byte(passphrase), nil
	}
	ksOpts := []keystore.Option{keystore.WithPassphrase(pass), keystore.WithKDFStrength(encrypted.Legacy)}
	ks := sync.OnceValues(func() (*keystore.Store, error) { return keystore.Open(p.home, ksOpts...) })
	res := sync.OnceValues(func() (*signer.Resolver, error) {
		s, err := ks()
		if err != nil {
			return nil, err
		}
		return signer.NewResolver(s, signer.WithPassphrase(pass), signer.WithEnv(func(string) string { return "" }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy)))
	})
	p.deps = &app.Deps{
		Registry: client,
		Keystore: ks,
		Resolver: res,
		Notice: func(msg string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.notices = append(p.notices, msg)
		},
		Now: func() time.Time {
			if p.clock.IsZero() {
				return time.Now()
			}
			return p.clock
		},
	}
	return p
}

func (p *person) generate(name string) {
	p.t.Helper()
	ks, err := p.deps.Keystore()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := ks.Generate(context.Background(), name, keystore.ECDSAP256); err != nil {
		p.t.Fatal(err)
	}
}

// uniqueRepo is registrytest.UniqueRepo as the string the requests take.
func uniqueRepo(t *testing.T, host string) string {
	return registrytest.UniqueRepo(t, host).Name()
}

// ociLayout writes a new random image as an OCI layout and returns oci:DIR.
func ociLayout(t *testing.T) string {
	t.Helper()
	return "oci:" + registrytest.WriteLayout(t, registrytest.RandomImage(t, 512, 1), "")
}

// initRepo makes a publisher with a root key and initialises repo.
func initRepo(t *testing.T, repo string) *person {
	t.Helper()
	pub := newPerson(t)
	pub.generate("root")
	if _, err := app.Init(context.Background(), pub.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root"}}); err != nil {
		t.Fatalf("init: %v", err)
	}
	return pub
}

func push(t *testing.T, p *person, tag string) *app.SignResult {
	t.Helper()
	res, err := app.Push(context.Background(), p.deps, app.PushRequest{Source: ociLayout(t), Tag: tag})
	if err != nil {
		t.Fatalf("push %s: %v", tag, err)
	}
	return res
}

// rootFile writes the repository's root version 1, as a publisher hands it out.
func rootFile(t *testing.T, repo string) string {
	t.Helper()
	r, err := registry.ParseRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := registry.New(registry.WithKeychain(registrytest.Anonymous{}))
	m, err := c.Metadata(context.Background(), registry.MetadataRef(r))
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.ReadFile(context.Background(), "1.root.json", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "root.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantFail(t *testing.T, err error, kind errkind.Kind, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want a failure naming %q", words)
	}
	if got := errkind.Of(err); got != kind {
		t.Fatalf("exit code %d, want %d: %v", got, kind, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), passphrase) {
		t.Fatalf("error shows the passphrase: %v", err)
	}
}

// rawTag moves tag to another manifest digest of the same repository, as
// someone with write access to the registry but no keys can.
func rawTag(t *testing.T, tag string, to v1.Hash) {
	t.Helper()
	tg, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(tg.Context().Digest(to.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(tg, d); err != nil {
		t.Fatal(err)
	}
}

func tufTag(t *testing.T, repo string) string { return repo + ":_tuf" }

func currentDigest(t *testing.T, tag string) v1.Hash {
	t.Helper()
	tg, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(tg)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

// republish changes the trust data's files directly in the registry.
func republish(t *testing.T, repo string, change func(files map[string][]byte) (put map[string][]byte, remove []string)) {
	t.Helper()
	r, _ := registry.ParseRepository(repo)
	c, _ := registry.New(registry.WithKeychain(registrytest.Anonymous{}))
	m, err := c.Metadata(context.Background(), registry.MetadataRef(r))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range m.Files() {
		data, err := m.ReadFile(context.Background(), f, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = data
	}
	put, remove := change(files)
	if err := m.Publish(context.Background(), put, remove); err != nil {
		t.Fatal(err)
	}
}

// pin keeps rootPath as p's trusted root of repo, as `signet trust pin`.
func pin(t *testing.T, p *person, repo, rootPath string) {
	t.Helper()
	r, err := registry.ParseRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.PinRoot(r.RegistryStr(), r.RepositoryStr(), data); err != nil {
		t.Fatal(err)
	}
}
