package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
)

// The format of the metadata artifact (docs/storage.md).
const (
	// MetadataMediaType is the artifact type and the media type of every
	// metadata layer.
	MetadataMediaType = "application/vnd.tuf.metadata+json"
	// FilenameAnnotation names the metadata file a layer holds.
	FilenameAnnotation = "tuf.io/filename"
	// EmptyConfigMediaType is the media type of the artifact's config.
	EmptyConfigMediaType = "application/vnd.oci.empty.v1+json"
)

// emptyConfig is the OCI empty descriptor's content, "{}".
var emptyConfig = []byte("{}")

var emptyConfigDigest = v1.Hash{Algorithm: "sha256", Hex: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}

// Metadata is one consistent, immutable view of the metadata artifact at a
// tag: the manifest the tag pointed to when Client.Metadata read it, or no
// manifest at all. Every read sees that one manifest's files, however the
// tag moves on. It is safe for concurrent use.
type Metadata struct {
	c      *Client
	tag    name.Tag
	digest v1.Hash // zero when the tag did not exist
	files  map[string]v1.Descriptor
	cn     *conn // pull connection, nil for an empty Metadata
	// lat has the slowest request of reading this view and publishing
	// it, which sizes the settle of Publish.
	lat *latencies
}

// Metadata reads the metadata artifact at tag (MetadataRef(R) by default,
// but any tag, also in another repository): it resolves the tag once, reads
// and checks the manifest, and reads no file yet.
//
// When the tag does not exist, Metadata returns an empty *Metadata (no
// files, zero Digest) together with an error wrapping ErrNoMetadata. That
// Metadata can be published to create the tag; Publish then fails with
// ErrConflict if somebody else created it meanwhile. For any other error
// the *Metadata is nil. A manifest that is not a metadata artifact
// (docs/storage.md) is an error wrapping ErrCorrupt (errkind.Input).
func (c *Client) Metadata(ctx context.Context, tag name.Tag) (*Metadata, error) {
	cn, err := c.connect(ctx, tag.Context(), false)
	if err != nil {
		return nil, fmt.Errorf("reading trust data %s: %w", tag, err)
	}
	lat := &latencies{}
	b, d, err := cn.getTagManifest(withLatencies(ctx, lat), tag)
	if isNotFound(err) {
		m := c.EmptyMetadata(tag)
		m.lat = lat
		return m, errkind.Mark(errkind.Input, fmt.Errorf("reading %s: %w", tag, ErrNoMetadata))
	}
	if err != nil {
		return nil, cn.fail("reading trust data "+tag.String(), err)
	}
	files, err := parseArtifact(tag, b, d.MediaType)
	if err != nil {
		return nil, err
	}
	return &Metadata{c: c, tag: tag, digest: d.Digest, files: files, cn: cn, lat: lat}, nil
}

// EmptyMetadata returns a Metadata with no files for tag, the same as
// Client.Metadata returns with ErrNoMetadata: publishing it creates the
// tag, and fails with ErrConflict if the tag exists by then.
func (c *Client) EmptyMetadata(tag name.Tag) *Metadata {
	return &Metadata{c: c, tag: tag, files: map[string]v1.Descriptor{}, lat: &latencies{}}
}

// artifact is the JSON of the metadata manifest, in the field order signet
// writes it.
type artifact struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type descriptor struct {
	MediaType   types.MediaType   `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// parseArtifact checks manifest b (served as contentType) against
// docs/storage.md and returns its files by name.
func parseArtifact(tag name.Tag, b []byte, contentType types.MediaType) (map[string]v1.Descriptor, error) {
	var a artifact
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, corrupt(tag, "manifest is not JSON: %v", err)
	}
	mt := a.MediaType
	if mt == "" {
		mt = contentType
	}
	switch {
	case a.SchemaVersion != 2:
		return nil, corrupt(tag, "manifest schemaVersion is %d, not 2", a.SchemaVersion)
	case mt != types.OCIManifestSchema1:
		return nil, corrupt(tag, "manifest media type is %q, not %q", mt, types.OCIManifestSchema1)
	case a.ArtifactType != MetadataMediaType:
		return nil, corrupt(tag, "artifactType is %q, not %q", a.ArtifactType, MetadataMediaType)
	case a.Config.MediaType != EmptyConfigMediaType || a.Config.Digest != emptyConfigDigest.String() || a.Config.Size != 2:
		return nil, corrupt(tag, "config is not the OCI empty descriptor")
	}
	files := make(map[string]v1.Descriptor, len(a.Layers))
	for i, l := range a.Layers {
		fn, ok := l.Annotations[FilenameAnnotation]
		if !ok {
			return nil, corrupt(tag, "layer %d has no %s annotation", i, FilenameAnnotation)
		}
		if err := checkFilename(fn); err != nil {
			return nil, corrupt(tag, "layer %d: %v", i, err)
		}
		if _, dup := files[fn]; dup {
			return nil, corrupt(tag, "file %q appears twice", fn)
		}
		if l.MediaType != MetadataMediaType {
			return nil, corrupt(tag, "file %q has media type %q, not %q", fn, l.MediaType, MetadataMediaType)
		}
		h, err := v1.NewHash(l.Digest)
		if err != nil || h.Algorithm != "sha256" {
			return nil, corrupt(tag, "file %q has digest %q, not a sha256 digest", fn, l.Digest)
		}
		if l.Size < 0 {
			return nil, corrupt(tag, "file %q has negative size %d", fn, l.Size)
		}
		files[fn] = v1.Descriptor{MediaType: l.MediaType, Digest: h, Size: l.Size, Annotations: maps.Clone(l.Annotations)}
	}
	return files, nil
}

// checkFilename rejects file names a reader could not use safely as the
// name of a file: empty, with a path separator, "..", or control bytes.
func checkFilename(fn string) error {
	switch {
	case fn == "":
		return fmt.Errorf("empty file name")
	case len(fn) > 255:
		return fmt.Errorf("file name of %d bytes is too long", len(fn))
	case strings.ContainsAny(fn, `/\`):
		return fmt.Errorf("file name %q contains a path separator", fn)
	case strings.Contains(fn, ".."), fn == ".":
		return fmt.Errorf("file name %q contains a relative path", fn)
	}
	for i := 0; i < len(fn); i++ {
		if fn[i] < 0x20 || fn[i] == 0x7f {
			return fmt.Errorf("file name %q contains a control character", fn)
		}
	}
	return nil
}

// Files returns the names of the files, sorted.
func (m *Metadata) Files() []string {
	return slices.Sorted(maps.Keys(m.files))
}

// Digest returns the digest of the manifest this Metadata was read from;
// it is zero for an empty Metadata (the tag did not exist).
func (m *Metadata) Digest() v1.Hash { return m.digest }

// Layer returns the descriptor of the named file's layer.
func (m *Metadata) Layer(name string) (v1.Descriptor, bool) {
	d, ok := m.files[name]
	if ok {
		d.Annotations = maps.Clone(d.Annotations)
	}
	return d, ok
}

// ReadFile fetches the named file's blob by digest and checks its size and
// sha256 against the manifest. It refuses, without reading it, a file
// larger than maxSize or than the client's metadata limit (maxSize <= 0
// means the client's limit): an error wrapping ErrTooLarge. A name the
// manifest does not have is an error wrapping ErrFileNotFound.
func (m *Metadata) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	d, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("reading %s from %s: %w", name, m.tag, ErrFileNotFound)
	}
	limit := m.c.opts.maxMetadata
	if maxSize > 0 && maxSize < limit {
		limit = maxSize
	}
	if d.Size > limit {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("reading %s from %s: %w: %d bytes, more than the limit of %d", name, m.tag, ErrTooLarge, d.Size, limit))
	}
	b, err := m.cn.getBlob(withLatencies(ctx, m.lat), d)
	if err != nil {
		return nil, m.cn.fail(fmt.Sprintf("reading %s from %s", name, m.tag), err)
	}
	return b, nil
}
