package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
)

// Publish makes a new artifact current at the Metadata's tag: this
// Metadata's files, less remove (names it does not have are ignored), with
// put added or replaced. It uploads only blobs the registry does not have,
// writes the manifest with its layers sorted by file name, and moves the
// tag, which is the commit point. It fails with an error wrapping
// ErrConflict (errkind.Registry) when, just before the tag is moved, it no
// longer points to this Metadata's manifest (or exists, for an empty
// Metadata), or when after the move it points to something else. The
// Metadata itself does not change: read the tag again to see the result.
func (m *Metadata) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	what := "publishing trust data " + m.tag.String()
	files, blobs, err := m.next(put, remove)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	manifest, err := buildArtifact(files)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	sum := sha256.Sum256(manifest)
	digest := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}

	cn, err := m.c.connect(ctx, m.tag.Context(), true)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if m.digest == (v1.Hash{}) {
		// A manifest that was read has its config blob already.
		blobs[emptyConfigDigest] = emptyConfig
	}
	for _, h := range slices.SortedFunc(maps.Keys(blobs), func(a, b v1.Hash) int { return compareHash(a, b) }) {
		ok, err := cn.blobExists(ctx, h)
		if err == nil && !ok {
			err = cn.putBlob(ctx, h, blobs[h])
		}
		if err != nil {
			return cn.fail(fmt.Sprintf("%s: uploading %s", what, h), err)
		}
	}

	if err := m.checkCurrent(ctx, cn, m.digest, "before"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := cn.putManifest(ctx, m.tag.TagStr(), types.OCIManifestSchema1, manifest); err != nil {
		return cn.fail(what, err)
	}
	if err := m.checkCurrent(ctx, cn, digest, "after"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// next returns the files of the new artifact and the blobs of put that
// the current artifact does not have.
func (m *Metadata) next(put map[string][]byte, remove []string) (map[string]v1.Descriptor, map[v1.Hash][]byte, error) {
	files := maps.Clone(m.files)
	for _, fn := range remove {
		if err := checkFilename(fn); err != nil {
			return nil, nil, errkind.Mark(errkind.Input, err)
		}
		delete(files, fn)
	}
	have := map[v1.Hash]bool{}
	for _, d := range m.files {
		have[d.Digest] = true
	}
	blobs := map[v1.Hash][]byte{}
	for fn, b := range put {
		if err := checkFilename(fn); err != nil {
			return nil, nil, errkind.Mark(errkind.Input, err)
		}
		if int64(len(b)) > m.c.opts.maxMetadata {
			return nil, nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w: %d bytes, more than the limit of %d", fn, ErrTooLarge, len(b), m.c.opts.maxMetadata))
		}
		sum := sha256.Sum256(b)
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		files[fn] = v1.Descriptor{
			MediaType:   MetadataMediaType,
			Digest:      h,
			Size:        int64(len(b)),
			Annotations: map[string]string{FilenameAnnotation: fn},
		}
		if !have[h] {
			blobs[h] = b
		}
	}
	if len(files) == 0 {
		return nil, nil, errkind.Mark(errkind.Input, fmt.Errorf("no files left to publish"))
	}
	return files, blobs, nil
}

// buildArtifact returns the manifest of files, layers sorted by name.
func buildArtifact(files map[string]v1.Descriptor) ([]byte, error) {
	a := artifact{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  MetadataMediaType,
		Config: descriptor{
			MediaType: EmptyConfigMediaType,
			Digest:    emptyConfigDigest.String(),
			Size:      int64(len(emptyConfig)),
		},
		Layers: []descriptor{},
	}
	for _, fn := range slices.Sorted(maps.Keys(files)) {
		d := files[fn]
		a.Layers = append(a.Layers, descriptor{
			MediaType:   MetadataMediaType,
			Digest:      d.Digest.String(),
			Size:        d.Size,
			Annotations: map[string]string{FilenameAnnotation: fn},
		})
	}
	return json.Marshal(a)
}

// checkCurrent fails with ErrConflict unless the tag points to want now
// (does not exist, for a zero want).
func (m *Metadata) checkCurrent(ctx context.Context, cn *conn, want v1.Hash, when string) error {
	d, err := cn.resolve(ctx, m.tag.TagStr())
	switch {
	case isNotFound(err):
		if want == (v1.Hash{}) {
			return nil
		}
		return errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was deleted %s the update", ErrConflict, m.tag, when))
	case err != nil:
		return cn.fail("checking "+m.tag.String(), err)
	case d.Digest != want:
		if when == "before" && want == (v1.Hash{}) {
			return errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was created by another publisher: read it again", ErrConflict, m.tag))
		}
		return errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was moved to %s by another publisher %s the update: read it again", ErrConflict, m.tag, d.Digest, when))
	}
	return nil
}

func compareHash(a, b v1.Hash) int {
	if a.String() < b.String() {
		return -1
	}
	if a.String() > b.String() {
		return 1
	}
	return 0
}
