package admission_test

// Minimal copies of internal/app's test helpers (a publisher's home, a
// pushed image, the root it hands out): registry/registrytest is where
// they will live once it exists.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ggcrrandom "github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/signet-dev/signet/admission"
	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
)

type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

const passphrase = "correct horse battery staple"

// publisher is a signet home with a root key that initialised repo.
type publisher struct {
	t    *testing.T
	repo string
	deps *app.Deps
}

func newPublisher(t *testing.T) *publisher {
	t.Helper()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	base := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	p := &publisher{t: t, repo: fmt.Sprintf("%s/signet-admission/%s-%x", host, base, rnd)}
	client, err := registry.New(registry.WithKeychain(anonymous{}))
	if err != nil {
		t.Fatal(err)
	}
	pass := func(context.Context, keystore.PassphraseRequest) ([]byte, error) { return []byte(passphrase), nil }
	home := filepath.Join(t.TempDir(), "publisher")
	ks := sync.OnceValues(func() (*keystore.Store, error) {
		return keystore.Open(home, keystore.WithPassphrase(pass), keystore.WithKDFStrength(encrypted.Legacy))
	})
	res := sync.OnceValues(func() (*signer.Resolver, error) {
		s, err := ks()
		if err != nil {
			return nil, err
		}
		return signer.NewResolver(s, signer.WithPassphrase(pass), signer.WithEnv(func(string) string { return "" }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy)))
	})
	p.deps = &app.Deps{Registry: client, Keystore: ks, Resolver: res}
	s, err := ks()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generate(context.Background(), "root", keystore.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Init(context.Background(), p.deps, app.InitRequest{Repository: p.repo, RootKeys: []string{"root"}}); err != nil {
		t.Fatalf("init: %v", err)
	}
	return p
}

// push pushes a new random image as repo:tag and signs it; it returns the
// signed digest.
func (p *publisher) push(tag string) string {
	p.t.Helper()
	res, err := app.Push(context.Background(), p.deps, app.PushRequest{Source: ociLayout(p.t), Tag: p.repo + ":" + tag})
	if err != nil {
		p.t.Fatalf("push %s: %v", tag, err)
	}
	return res.Signed[0].Digest
}

// pushUnsigned puts a new random image at repo:tag without signing it and
// returns its digest.
func (p *publisher) pushUnsigned(tag string) string {
	p.t.Helper()
	img, err := ggcrrandom.Image(256, 1)
	if err != nil {
		p.t.Fatal(err)
	}
	ref, err := name.NewTag(p.repo+":"+tag, name.Insecure)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		p.t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		p.t.Fatal(err)
	}
	return d.String()
}

// moveTag points repo:tag at digest, as someone with write access to the
// registry but no keys can.
func (p *publisher) moveTag(tag, digest string) {
	p.t.Helper()
	ref, err := name.NewTag(p.repo+":"+tag, name.Insecure)
	if err != nil {
		p.t.Fatal(err)
	}
	d, err := remote.Get(ref.Context().Digest(digest))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := remote.Put(ref, d); err != nil {
		p.t.Fatal(err)
	}
}

// writeRoot writes the repository's root version 1, as a publisher hands
// it out, to file.
func (p *publisher) writeRoot(file string) {
	p.t.Helper()
	r, err := registry.ParseRepository(p.repo)
	if err != nil {
		p.t.Fatal(err)
	}
	m, err := p.deps.Registry.Metadata(context.Background(), registry.MetadataRef(r))
	if err != nil {
		p.t.Fatal(err)
	}
	data, err := m.ReadFile(context.Background(), "1.root.json", 1<<20)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

func ociLayout(t *testing.T) string {
	t.Helper()
	img, err := ggcrrandom.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

// counting counts the requests that reach the registry.
type counting struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// webhook is the handler over a policy that pins p's root for p.repo,
// served by httptest, with its own signet home.
type webhook struct {
	url      string
	requests *counting
	log      *bytes.Buffer
}

func newWebhook(t *testing.T, p *publisher, unmatched string) *webhook {
	t.Helper()
	dir := t.TempDir()
	p.writeRoot(filepath.Join(dir, "roots", "app.json"))
	return startWebhook(t, dir, p.repo, unmatched)
}

// startWebhook serves a policy pinning DIR/roots/app.json for repo.
func startWebhook(t *testing.T, dir, repo, unmatched string, opts ...admission.Option) *webhook {
	t.Helper()
	policy := fmt.Sprintf("rules:\n  - repositories: [%q]\n    root: roots/app.json\nunmatched: %s\n", repo, unmatched)
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := admission.LoadPolicy(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	w := &webhook{requests: &counting{next: http.DefaultTransport}, log: &bytes.Buffer{}}
	reg, err := registry.New(registry.WithKeychain(anonymous{}), registry.WithTransport(w.requests),
		registry.WithManifestCache(filepath.Join(home, "cache", "manifests")))
	if err != nil {
		t.Fatal(err)
	}
	ks := sync.OnceValues(func() (*keystore.Store, error) { return keystore.Open(home) })
	var mu sync.Mutex
	c, err := admission.NewChecker(pol, reg, ks, append([]admission.Option{admission.WithLog(func(line string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w.log, line)
	})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admission.NewHandler(c))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// post sends body to the webhook's path and returns the status and body.
func (w *webhook) post(t *testing.T, path string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(w.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// review sends an AdmissionReview creating obj and returns the response.
func (w *webhook) review(t *testing.T, path string, kind admissionKind, obj any) *admissionv1.AdmissionResponse {
	t.Helper()
	return w.update(t, path, kind, nil, obj)
}

// update sends an AdmissionReview changing old into obj (creating obj when
// old is nil) and returns the response.
func (w *webhook) update(t *testing.T, path string, kind admissionKind, old, obj any) *admissionv1.AdmissionResponse {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	in := admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{
		UID: "uid-1", Kind: kind.gvk, Operation: admissionv1.Create, Namespace: "default", Name: "x",
	}}
	in.APIVersion, in.Kind = "admission.k8s.io/v1", "AdmissionReview"
	in.Request.Object.Raw = raw
	if old != nil {
		in.Request.Operation = admissionv1.Update
		if in.Request.OldObject.Raw, err = json.Marshal(old); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	code, data := w.post(t, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", path, code, data)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil || out.Response == nil {
		t.Fatalf("%s: not an AdmissionReview response (%v): %s", path, err, data)
	}
	if out.Response.UID != "uid-1" {
		t.Fatalf("response uid %q, want the request's", out.Response.UID)
	}
	return out.Response
}
