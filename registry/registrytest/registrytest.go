// Package registrytest holds what tests of signet's registry client, and of
// the layers above it, need of a registry: the in-process registry
// (package registry/serve) on loopback, the real distribution registry that
// scripts/test.sh starts, repository names no other test uses, random
// images and a keychain without credentials. It does not import package
// registry, so that the client's own tests can use it.
package registrytest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/serve"
)

// RegistryEnv names the environment variable holding host:port of the
// distribution registry that scripts/test.sh starts.
const RegistryEnv = "SIGNET_TEST_REGISTRY"

// Anonymous is a keychain without credentials, so that tests do not depend
// on the Docker config of the machine.
type Anonymous struct{}

// Resolve implements authn.Keychain: anonymous access for every registry.
func (Anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

// Serve serves h on loopback until the test ends and returns its host:port.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// InProcess serves a new in-memory registry (serve.New) until the test
// ends and returns its host:port.
func InProcess(t testing.TB) string {
	t.Helper()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	return Serve(t, h)
}

// EachRegistry runs f as the subtest "ggcr" against a new in-process
// registry and as "distribution" against the real registry of
// RegistryEnv (skipped without it, an error under make test; see testenv).
func EachRegistry(t *testing.T, f func(t *testing.T, host string)) {
	t.Run("ggcr", func(t *testing.T) { f(t, InProcess(t)) })
	t.Run("distribution", func(t *testing.T) { f(t, testenv.Need(t, RegistryEnv)) })
}

// UniqueRepo returns a repository on host that no other test uses: named
// after the test, with random hex.
func UniqueRepo(t testing.TB, host string) name.Repository {
	t.Helper()
	path := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	r, err := name.NewRepository(fmt.Sprintf("%s/signet-test/%s-%x", host, path, rnd))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RandomImage returns an image of layers random layers of byteSize bytes
// each (go-containerregistry's random.Image).
func RandomImage(t testing.TB, byteSize, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(byteSize, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// refNameAnnotation is the OCI image spec's annotation naming an image of
// a layout (registry.RefNameAnnotation).
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes img into a new OCI image layout and returns its
// directory. A refName other than "" names the image in the layout's index.
func WriteLayout(t testing.TB, img v1.Image, refName string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{refNameAnnotation: refName}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		t.Fatal(err)
	}
	return dir
}
