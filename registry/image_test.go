package registry

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
)

func mustTag(t *testing.T, repo name.Repository, tag string) name.Tag {
	t.Helper()
	return repo.Tag(tag)
}

// pulledDigests returns the digests of the manifests in layout dir.
func pulledDigests(t *testing.T, dir string) []v1.Hash {
	t.Helper()
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, d := range im.Manifests {
		out = append(out, d.Digest)
	}
	return out
}

// checkPushResolvePull resolves dst, compares it with pushed and with
// want, pulls it by digest and checks the layout has exactly it.
func checkPushResolvePull(t *testing.T, c *Client, dst name.Tag, pushed v1.Descriptor, want v1.Hash) {
	t.Helper()
	ctx := context.Background()
	if pushed.Digest != want || pushed.Size <= 0 || pushed.MediaType == "" {
		t.Fatalf("pushed descriptor %+v, want digest %s", pushed, want)
	}
	got, err := c.Resolve(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != pushed.Digest || got.Size != pushed.Size || got.MediaType != pushed.MediaType {
		t.Fatalf("Resolve(%s) = %+v, pushed %+v", dst, got, pushed)
	}
	out := filepath.Join(t.TempDir(), "pulled")
	if err := c.PullImage(ctx, dst.Context().Digest(got.Digest.String()), out); err != nil {
		t.Fatal(err)
	}
	if ds := pulledDigests(t, out); len(ds) != 1 || ds[0] != pushed.Digest {
		t.Fatalf("pulled layout has %v, want [%s]", ds, pushed.Digest)
	}
}

func TestPushOCILayoutThenResolveAndPullByDigest(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		img := registrytest.RandomImage(t, 1024, 2)
		want, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		dir := registrytest.WriteLayout(t, img, "v1")
		dst := mustTag(t, registrytest.UniqueRepo(t, host), "v1")
		for _, src := range []string{"oci:" + dir, "oci:" + dir + ":v1", "oci:" + dir + ":" + want.String()} {
			progress := make(chan v1.Update, 100)
			pushed, err := c.PushImage(context.Background(), src, dst, progress)
			if err != nil {
				t.Fatalf("PushImage(%s): %v", src, err)
			}
			for range progress { // closed by the push
			}
			checkPushResolvePull(t, c, dst, pushed, want)
		}
	})
}

func TestUploadImageMovesNoTagUntilTagImage(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		c := newClient(t)
		dst := mustTag(t, registrytest.UniqueRepo(t, host), "v1")
		old, err := c.PushImage(ctx, "oci:"+registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1"), dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		img, err := c.OpenImage("oci:" + registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.UploadImage(ctx, img, dst.Context(), nil); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Resolve(ctx, dst); err != nil || got.Digest != old.Digest {
			t.Fatalf("after the upload %s points to %v (%v); want it still at %s", dst, got.Digest, err, old.Digest)
		}
		if err := c.PullImage(ctx, dst.Context().Digest(img.Descriptor().Digest.String()), filepath.Join(t.TempDir(), "pulled")); err != nil {
			t.Fatalf("the uploaded image cannot be pulled by digest: %v", err)
		}
		if err := c.TagImage(ctx, img, dst); err != nil {
			t.Fatal(err)
		}
		checkPushResolvePull(t, c, dst, img.Descriptor(), img.Descriptor().Digest)
	})
}

func TestPushDockerSaveTarballThenResolveAndPull(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		img := registrytest.RandomImage(t, 1024, 2)
		file := filepath.Join(t.TempDir(), "image.tar")
		saved, _ := name.NewTag("example.com/app:1")
		if err := tarball.WriteToFile(file, saved, img); err != nil {
			t.Fatal(err)
		}
		dst := mustTag(t, registrytest.UniqueRepo(t, host), "1")
		pushed, err := c.PushImage(context.Background(), "tar:"+file, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		checkPushResolvePull(t, c, dst, pushed, want)
	})
}

func TestPushMultiPlatformLayoutPushesTheIndex(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		ii, err := random.Index(512, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "layout")
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendIndex(ii, layout.WithAnnotations(map[string]string{RefNameAnnotation: "multi"})); err != nil {
			t.Fatal(err)
		}
		want, err := ii.Digest()
		if err != nil {
			t.Fatal(err)
		}
		dst := mustTag(t, registrytest.UniqueRepo(t, host), "multi")
		pushed, err := c.PushImage(context.Background(), "oci:"+dir+":multi", dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !pushed.MediaType.IsIndex() {
			t.Fatalf("pushed media type %q, want an index", pushed.MediaType)
		}
		checkPushResolvePull(t, c, dst, pushed, want)
	})
}

func TestPushRejectsBadSourcesAsBadInput(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dst := mustTag(t, registrytest.UniqueRepo(t, registrytest.InProcess(t)), "x")
	dir := registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1")
	for _, src := range []string{
		"docker://example.com/app", // unknown scheme
		"oci:" + filepath.Join(t.TempDir(), "missing"),
		"oci:" + dir + ":v2", // no such ref name
		"tar:" + filepath.Join(t.TempDir(), "missing.tar"),
	} {
		progress := make(chan v1.Update, 1)
		_, err := c.PushImage(context.Background(), src, dst, progress)
		if err == nil || !errkind.Is(err, errkind.Input) {
			t.Errorf("PushImage(%s) = %v, want an Input error", src, err)
		}
		if _, open := <-progress; open {
			t.Errorf("PushImage(%s) left the progress channel open", src)
		}
	}
}

func TestResolveMissingTagIsNotFoundInput(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		_, err := c.Resolve(context.Background(), mustTag(t, registrytest.UniqueRepo(t, host), "nope"))
		if !errors.Is(err, ErrNotFound) || !errkind.Is(err, errkind.Input) {
			t.Fatalf("Resolve of a missing tag: err = %v, want ErrNotFound marked Input", err)
		}
	})
}
