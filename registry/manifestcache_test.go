package registry

import (
	"context"
	"slices"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
)

func TestManifestCacheReadsAnUnchangedTrustManifestWithoutItsBytes(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY") // distribution answers 304
	ctx := context.Background()
	repo := registrytest.UniqueRepo(t, host)
	tag := MetadataRef(repo)
	writer := newClient(t)
	if err := loadEmpty(t, writer, tag).Publish(ctx, map[string][]byte{"1.root.json": []byte(`{"v":1}`), "timestamp.json": []byte(`{"t":1}`)}, nil); err != nil {
		t.Fatal(err)
	}

	cnt := newCounter()
	reader := newClient(t, WithTransport(cnt), WithManifestCache(t.TempDir()))
	first, err := reader.Metadata(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	firstBytes := cnt.bytesRead()
	cnt.reset()
	again, err := reader.Metadata(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest() != first.Digest() || !slices.Equal(again.Files(), first.Files()) {
		t.Fatalf("cached read differs: %v %v", again.Files(), first.Files())
	}
	if got := cnt.count("GET manifests"); got != 1 {
		t.Fatalf("second read made %d manifest requests, want 1", got)
	}
	if got := cnt.bytesRead(); got >= firstBytes/2 {
		t.Fatalf("second read transferred %d bytes of a %d-byte first read: the manifest came again", got, firstBytes)
	}

	// A new publish changes the tag: the cache serves nothing stale.
	if err := again.Publish(ctx, map[string][]byte{"timestamp.json": []byte(`{"t":2}`)}, nil); err != nil {
		t.Fatal(err)
	}
	third, err := reader.Metadata(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if third.Digest() == first.Digest() {
		t.Fatal("the cache served the old manifest after the tag moved")
	}
	if data, err := third.ReadFile(ctx, "timestamp.json", 0); err != nil || string(data) != `{"t":2}` {
		t.Fatalf("timestamp after the move: %q %v", data, err)
	}
}
