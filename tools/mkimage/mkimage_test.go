package mkimage

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/signet-dev/signet/registry/registrytest"
)

func TestEachImageIsNewAndWritesToALayoutATarballAndARegistry(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da == db {
		t.Fatalf("two new images share the digest %s", da)
	}

	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, a); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := idx.IndexManifest(); err != nil || len(m.Manifests) != 1 || m.Manifests[0].Digest != da {
		t.Fatalf("layout index = %+v, %v; want the one image %s", m, err, da)
	}

	file := filepath.Join(t.TempDir(), "image.tar")
	if err := WriteTarball(file, "example.com/app:v1", a); err != nil {
		t.Fatal(err)
	}
	// docker-save keeps the config and layers, not the manifest.
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := img.ConfigName()
	want, _ := a.ConfigName()
	if got != want {
		t.Fatalf("tarball image config %s, want %s", got, want)
	}

	ref := registrytest.UniqueRepo(t, registrytest.InProcess(t)).Tag("v1")
	if err := Push(context.Background(), ref.String(), a); err != nil {
		t.Fatal(err)
	}
	if d, err := remote.Head(ref); err != nil || d.Digest != da {
		t.Fatalf("pushed %s: %+v, %v", ref, d, err)
	}
}
