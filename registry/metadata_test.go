package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
)

func TestMetadataMissingTagIsEmptyAndPublishable(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		c := newClient(t)
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		m, err := c.Metadata(ctx, tag)
		if !errors.Is(err, ErrNoMetadata) || !errkind.Is(err, errkind.Input) {
			t.Fatalf("Metadata of a missing tag: err = %v, want ErrNoMetadata marked Input", err)
		}
		if m == nil || len(m.Files()) != 0 || m.Digest().Hex != "" {
			t.Fatalf("Metadata of a missing tag = %+v, want an empty Metadata", m)
		}
		if _, err := m.ReadFile(ctx, "1.root.json", 0); !errors.Is(err, ErrFileNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadFile on empty Metadata: err = %v, want ErrFileNotFound", err)
		}
		if err := m.Publish(ctx, map[string][]byte{"1.root.json": []byte(`{"v":1}`)}, nil); err != nil {
			t.Fatalf("publishing the empty Metadata: %v", err)
		}
		m2, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if got := m2.Files(); !slices.Equal(got, []string{"1.root.json"}) {
			t.Fatalf("Files after first publish = %v", got)
		}
	})
}

func TestMetadataRoundTripUploadsOnlyChangedBlobs(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		cnt := newCounter()
		c := newClient(t, WithTransport(cnt))
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		first := map[string][]byte{
			"1.root.json":      []byte(`{"signed":{"version":1}}`),
			"1.targets.json":   []byte(`{"signed":{"targets":1}}`),
			"1.snapshot.json":  []byte(`{"signed":{"snapshot":1}}`),
			"timestamp.json":   []byte(`{"signed":{"timestamp":1}}`),
			"1.releases.json":  []byte(`{"signed":{"releases":1}}`),
			"copy-of-root.txt": []byte(`{"signed":{"version":1}}`), // same blob as 1.root.json
		}
		if err := loadEmpty(t, c, tag).Publish(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		// Five distinct blobs plus the empty config.
		if got := cnt.count("POST uploads"); got != 6 {
			t.Errorf("first publish started %d uploads, want 6", got)
		}

		m, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1.releases.json", "1.root.json", "1.snapshot.json", "1.targets.json", "copy-of-root.txt", "timestamp.json"}
		if got := m.Files(); !slices.Equal(got, want) {
			t.Fatalf("Files = %v, want %v", got, want)
		}
		for fn, content := range first {
			got, err := m.ReadFile(ctx, fn, 1<<20)
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", fn, err)
			}
			if string(got) != string(content) {
				t.Errorf("ReadFile(%s) = %q, want %q", fn, got, content)
			}
		}
		if d, ok := m.Layer("1.root.json"); !ok || d.Size != int64(len(first["1.root.json"])) || d.Annotations[FilenameAnnotation] != "1.root.json" {
			t.Errorf("Layer(1.root.json) = %+v, %v", d, ok)
		}

		cnt.reset()
		second := map[string][]byte{
			"2.snapshot.json": []byte(`{"signed":{"snapshot":2}}`),
			"timestamp.json":  []byte(`{"signed":{"timestamp":2}}`),
			"1.targets.json":  first["1.targets.json"], // unchanged content
		}
		if err := m.Publish(ctx, second, []string{"1.snapshot.json", "copy-of-root.txt", "never-existed.json"}); err != nil {
			t.Fatal(err)
		}
		if got := cnt.count("POST uploads"); got != 2 {
			t.Errorf("second publish started %d uploads, want 2 (only the files the manifest does not list)", got)
		}
		if got := cnt.count("HEAD blobs"); got != 0 {
			t.Errorf("second publish asked for %d blobs before uploading, want 0", got)
		}
		if got := cnt.count("PUT manifests"); got != 1 {
			t.Errorf("second publish put %d manifests, want 1", got)
		}

		m2, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		want = []string{"1.releases.json", "1.root.json", "1.targets.json", "2.snapshot.json", "timestamp.json"}
		if got := m2.Files(); !slices.Equal(got, want) {
			t.Fatalf("Files after second publish = %v, want %v", got, want)
		}
		if got, err := m2.ReadFile(ctx, "timestamp.json", 0); err != nil || string(got) != `{"signed":{"timestamp":2}}` {
			t.Fatalf("timestamp.json after second publish = %q, %v", got, err)
		}
		// The old view still reads its own files.
		if got, err := m.ReadFile(ctx, "timestamp.json", 0); err != nil || string(got) != `{"signed":{"timestamp":1}}` {
			t.Fatalf("old view's timestamp.json = %q, %v", got, err)
		}
		if m2.Digest() == m.Digest() {
			t.Fatal("manifest digest did not change")
		}

		// Content only an older manifest listed is uploaded again, without
		// asking the registry first: the upload is harmless.
		cnt.reset()
		if err := m2.Publish(ctx, map[string][]byte{"1.snapshot.json": first["1.snapshot.json"]}, nil); err != nil {
			t.Fatal(err)
		}
		if got := cnt.count("POST uploads"); got != 1 {
			t.Errorf("re-adding a blob of an older manifest started %d uploads, want 1", got)
		}
		if got := cnt.count("HEAD blobs"); got != 0 {
			t.Errorf("re-adding a blob of an older manifest asked for %d blobs first, want 0", got)
		}
		m3, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m3.ReadFile(ctx, "1.snapshot.json", 0); err != nil || string(got) != string(first["1.snapshot.json"]) {
			t.Fatalf("re-added 1.snapshot.json = %q, %v", got, err)
		}
	})
}

func TestArtifactManifestHasTheDocumentedFormat(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		c := newClient(t)
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		files := map[string][]byte{"timestamp.json": []byte("{}\n"), "1.root.json": []byte("[]")}
		if err := loadEmpty(t, c, tag).Publish(ctx, files, nil); err != nil {
			t.Fatal(err)
		}
		cn, err := c.connect(ctx, tag.Context(), false)
		if err != nil {
			t.Fatal(err)
		}
		b, d, err := cn.getManifest(ctx, tag.TagStr())
		if err != nil {
			t.Fatal(err)
		}
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("served media type %q", d.MediaType)
		}
		var a artifact
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		if a.ArtifactType != "application/vnd.tuf.metadata+json" || a.MediaType != "application/vnd.oci.image.manifest.v1+json" || a.SchemaVersion != 2 {
			t.Errorf("manifest header = %+v", a)
		}
		if a.Config.MediaType != "application/vnd.oci.empty.v1+json" || a.Config.Size != 2 ||
			a.Config.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
			t.Errorf("config = %+v, want the OCI empty descriptor", a.Config)
		}
		if ok, err := cn.blobExists(ctx, emptyConfigDigest); err != nil || !ok {
			t.Errorf("empty config blob exists = %v, %v", ok, err)
		}
		if len(a.Layers) != 2 || a.Layers[0].Annotations[FilenameAnnotation] != "1.root.json" ||
			a.Layers[1].Annotations[FilenameAnnotation] != "timestamp.json" ||
			a.Layers[0].MediaType != "application/vnd.tuf.metadata+json" {
			t.Errorf("layers = %+v, want 1.root.json then timestamp.json", a.Layers)
		}
	})
}

func TestPublishFailsWithConflictWhenAnotherPublisherMovedTheTag(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		alice, bob := newClient(t), newClient(t)
		tag := MetadataRef(registrytest.UniqueRepo(t, host))

		// Both start from nothing; bob creates the tag first.
		ma, mb := loadEmpty(t, alice, tag), loadEmpty(t, bob, tag)
		if err := mb.Publish(ctx, map[string][]byte{"1.root.json": []byte("bob")}, nil); err != nil {
			t.Fatal(err)
		}
		err := ma.Publish(ctx, map[string][]byte{"1.root.json": []byte("alice")}, nil)
		if !errors.Is(err, ErrConflict) || !errkind.Is(err, errkind.Registry) {
			t.Fatalf("alice's publish over bob's new tag: err = %v, want ErrConflict", err)
		}

		// Both read bob's view; bob moves the tag on; alice's publish fails.
		ma, err = alice.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		mb, err = bob.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := mb.Publish(ctx, map[string][]byte{"timestamp.json": []byte("bob 2")}, nil); err != nil {
			t.Fatal(err)
		}
		err = ma.Publish(ctx, map[string][]byte{"timestamp.json": []byte("alice 2")}, nil)
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("alice's publish from a stale view: err = %v, want ErrConflict", err)
		}
		now, err := alice.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := now.ReadFile(ctx, "timestamp.json", 0); err != nil || string(got) != "bob 2" {
			t.Fatalf("after the conflict timestamp.json = %q, %v; want bob's", got, err)
		}
	})
}

func TestPublishRejectsBadFileNames(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	m := loadEmpty(t, c, MetadataRef(registrytest.UniqueRepo(t, registrytest.InProcess(t))))
	for _, fn := range []string{"", "../root.json", "a/b.json", `a\b.json`, "..", "x\x00.json"} {
		err := m.Publish(context.Background(), map[string][]byte{fn: []byte("x")}, nil)
		if err == nil || !errkind.Is(err, errkind.Input) {
			t.Errorf("Publish(%q) = %v, want an Input error", fn, err)
		}
	}
}

func TestEmptyMetadataFailsWithConflictWhenTheTagExists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	tag := MetadataRef(registrytest.UniqueRepo(t, registrytest.InProcess(t)))
	if err := c.EmptyMetadata(tag).Publish(ctx, map[string][]byte{"1.root.json": []byte("a")}, nil); err != nil {
		t.Fatal(err)
	}
	err := c.EmptyMetadata(tag).Publish(ctx, map[string][]byte{"1.root.json": []byte("b")}, nil)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("publishing an empty Metadata over an existing tag: err = %v, want ErrConflict", err)
	}
}
