package registry

import (
	"strings"
	"testing"

	"crypto/sha256"
	"encoding/hex"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
)

// FuzzParseArtifact feeds the metadata manifest parser arbitrary bytes: it
// must never panic, and what it accepts must be a well-formed artifact
// (safe file names, sha256 digests, sizes not negative); what it refuses
// is bad input.
func FuzzParseArtifact(f *testing.F) {
	valid, err := buildArtifact(map[string]v1.Descriptor{
		"1.root.json":    testDescriptor("1"),
		"timestamp.json": testDescriptor("2"),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, string(types.OCIManifestSchema1))
	f.Add([]byte(`{"schemaVersion":2}`), "")
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.tuf.metadata+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.tuf.metadata+json","digest":"sha256:00","size":-1,"annotations":{"tuf.io/filename":"../x"}}]}`), "")
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`null`), "")
	tag := name.MustParseReference("registry.example/app:_tuf").(name.Tag)
	f.Fuzz(func(t *testing.T, b []byte, contentType string) {
		files, err := parseArtifact(tag, b, types.MediaType(contentType))
		if err != nil {
			if !errkind.Is(err, errkind.Input) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("refusal is not one line of bad input: %v", err)
			}
			return
		}
		for fn, d := range files {
			if checkFilename(fn) != nil || d.Digest.Algorithm != "sha256" || d.Size < 0 {
				t.Fatalf("accepted file %q %+v", fn, d)
			}
		}
	})
}

// FuzzParseTag checks that ParseTag and ParseRepository never panic, that
// a refusal is bad input, and that what they accept has a tag (or none).
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"registry.example.com/team/app:v1", "app:v1", "localhost:5000/a/b:_tuf",
		"app@sha256:" + strings.Repeat("0", 64), "app", "", ":", "a/:b", "UPPER/case:x", "[::1]:5000/a:b", strings.Repeat("a/", 200) + "b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tg, err := ParseTag(s); err != nil {
			if !errkind.Is(err, errkind.Input) {
				t.Fatalf("ParseTag(%q): %v is not bad input", s, err)
			}
		} else if tg.TagStr() == "" || strings.Contains(tg.String(), "@") {
			t.Fatalf("ParseTag(%q) = %v", s, tg)
		}
		if r, err := ParseRepository(s); err != nil {
			if !errkind.Is(err, errkind.Input) {
				t.Fatalf("ParseRepository(%q): %v is not bad input", s, err)
			}
		} else if r.RepositoryStr() == "" {
			t.Fatalf("ParseRepository(%q) = %v", s, r)
		}
	})
}

func testDescriptor(content string) v1.Descriptor {
	sum := sha256.Sum256([]byte(content))
	return v1.Descriptor{MediaType: MetadataMediaType, Size: int64(len(content)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
}
