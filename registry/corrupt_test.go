package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/serve"
)

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// putArtifact uploads the blobs of files and puts at tag a metadata
// manifest for them, after mutate changed it: a way to write artifacts
// that Publish would never write.
func putArtifact(t *testing.T, c *Client, tag name.Tag, files map[string][]byte, mutate func(*artifact)) {
	t.Helper()
	ctx := context.Background()
	cn, err := c.connect(ctx, tag.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	descs := map[string]v1.Descriptor{}
	blobs := map[v1.Hash][]byte{emptyConfigDigest: emptyConfig}
	for fn, b := range files {
		descs[fn] = v1.Descriptor{Digest: sha(b), Size: int64(len(b))}
		blobs[sha(b)] = b
	}
	for h, b := range blobs {
		if err := cn.putBlob(ctx, h, b); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := buildArtifact(descs)
	if err != nil {
		t.Fatal(err)
	}
	var a artifact
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	mutate(&a)
	raw, err = json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := cn.putManifest(ctx, tag.TagStr(), types.OCIManifestSchema1, raw); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataRejectsCorruptManifestsAsBadInput(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*artifact){
		"wrong artifactType":  func(a *artifact) { a.ArtifactType = "application/vnd.example+json" },
		"no artifactType":     func(a *artifact) { a.ArtifactType = "" },
		"missing annotation":  func(a *artifact) { a.Layers[0].Annotations = nil },
		"path traversal":      func(a *artifact) { a.Layers[0].Annotations[FilenameAnnotation] = "../../etc/passwd" },
		"slash in name":       func(a *artifact) { a.Layers[0].Annotations[FilenameAnnotation] = "sub/1.root.json" },
		"duplicate file name": func(a *artifact) { a.Layers[1].Annotations[FilenameAnnotation] = "1.root.json" },
		"wrong layer type":    func(a *artifact) { a.Layers[0].MediaType = "application/octet-stream" },
		"config not empty":    func(a *artifact) { a.Config = a.Layers[0]; a.Config.Annotations = nil },
	}
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		files := map[string][]byte{"1.root.json": []byte("root"), "timestamp.json": []byte("ts")}
		for what, mutate := range cases {
			t.Run(strings.ReplaceAll(what, " ", "_"), func(t *testing.T) {
				tag := MetadataRef(registrytest.UniqueRepo(t, host))
				putArtifact(t, c, tag, files, mutate)
				m, err := c.Metadata(context.Background(), tag)
				if m != nil || !errors.Is(err, ErrCorrupt) || !errkind.Is(err, errkind.Input) {
					t.Fatalf("Metadata = %v, %v; want ErrCorrupt marked Input", m, err)
				}
				if !strings.Contains(err.Error(), "corrupt trust data") {
					t.Errorf("error %q does not say corrupt trust data", err)
				}
			})
		}
	})
}

func TestMetadataRejectsAnImageManifestAtTheTag(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		c := newClient(t)
		repo := registrytest.UniqueRepo(t, host)
		src := registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1")
		if _, err := c.PushImage(context.Background(), "oci:"+src, MetadataRef(repo), nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.Metadata(context.Background(), MetadataRef(repo))
		if !errors.Is(err, ErrCorrupt) || !errkind.Is(err, errkind.Input) {
			t.Fatalf("Metadata of an image = %v, want ErrCorrupt", err)
		}
	})
}

func TestReadFileRefusesAFileLargerThanTheLimitWithoutFetchingIt(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		cnt := newCounter()
		c := newClient(t, WithTransport(cnt), WithMaxMetadataSize(1000))
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		big := bytes.Repeat([]byte("x"), 600)
		if err := loadEmpty(t, c, tag).Publish(ctx, map[string][]byte{"1.root.json": big}, nil); err != nil {
			t.Fatal(err)
		}
		m, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		cnt.reset()
		_, err = m.ReadFile(ctx, "1.root.json", 500) // the caller's limit
		if !errors.Is(err, ErrTooLarge) || !errkind.Is(err, errkind.Input) {
			t.Fatalf("ReadFile over maxSize: err = %v, want ErrTooLarge", err)
		}
		if n := cnt.count("GET blobs"); n != 0 {
			t.Fatalf("ReadFile over the limit fetched the blob %d times", n)
		}
		// The client's own limit applies when the caller's is larger.
		c2 := newClient(t, WithTransport(cnt), WithMaxMetadataSize(100))
		m2, err := c2.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m2.ReadFile(ctx, "1.root.json", 1<<20); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("ReadFile over the client limit: err = %v, want ErrTooLarge", err)
		}
		if n := cnt.count("GET blobs"); n != 0 {
			t.Fatalf("ReadFile over the client limit fetched the blob %d times", n)
		}
	})
}

// lyingBlobs serves, for one digest, an endless blob instead of the real
// one, and counts what it wrote.
type lyingBlobs struct {
	http.Handler
	digest string
}

func (l *lyingBlobs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+l.digest) {
		l.Handler.ServeHTTP(w, r)
		return
	}
	chunk := bytes.Repeat([]byte("y"), 32<<10)
	for i := 0; i < 1<<15; i++ { // up to 1 GiB, far more than any limit
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestReadFileStopsAtTheDeclaredSizeWhenTheRegistrySendsMore(t *testing.T) {
	t.Parallel()
	h, err := serve.New()
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"signed":"small"}`)
	lying := &lyingBlobs{Handler: h, digest: sha(content).String()}
	host := registrytest.Serve(t, lying)
	ctx := context.Background()
	cnt := newCounter()
	c := newClient(t, WithTransport(cnt))
	tag := MetadataRef(registrytest.UniqueRepo(t, host))
	if err := loadEmpty(t, c, tag).Publish(ctx, map[string][]byte{"timestamp.json": content}, nil); err != nil {
		t.Fatal(err)
	}
	m, err := c.Metadata(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	cnt.reset()
	_, err = m.ReadFile(ctx, "timestamp.json", 1<<20)
	if !errors.Is(err, ErrCorrupt) || !errkind.Is(err, errkind.Input) {
		t.Fatalf("ReadFile of an endless blob: err = %v, want ErrCorrupt", err)
	}
	// The client stops after the declared size, plus what one read of the
	// HTTP stack buffers.
	if n := cnt.bytesRead(); n > int64(len(content))+1 {
		t.Fatalf("client read %d bytes of a %d-byte file", n, len(content))
	}
}

func TestMetadataRefusesAManifestLargerThanTheLimit(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		c := newClient(t)
		tag := MetadataRef(registrytest.UniqueRepo(t, host))
		files := map[string][]byte{}
		for i := range 40 {
			files[fmt.Sprintf("%d.root.json", i+1)] = []byte(fmt.Sprint(i))
		}
		if err := loadEmpty(t, c, tag).Publish(ctx, files, nil); err != nil {
			t.Fatal(err)
		}
		small := newClient(t, WithMaxManifestSize(1000))
		if _, err := small.Metadata(ctx, tag); !errors.Is(err, ErrTooLarge) || !errkind.Is(err, errkind.Input) {
			t.Fatalf("Metadata with a small manifest limit: err = %v, want ErrTooLarge", err)
		}
	})
}
