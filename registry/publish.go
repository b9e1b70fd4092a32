package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/ctxsleep"
	"github.com/signet-dev/signet/internal/errkind"
)

// Bounds of the wait between moving the metadata tag and reading it back
// (docs/storage.md, "The window that remains").
const (
	// DefaultSettleDelay is the least wait (WithSettleDelay).
	DefaultSettleDelay = 100 * time.Millisecond
	// settleFactor times the slowest request of a publish is its wait:
	// twice the window another publisher's check and put can take
	// (checkBeforeMove).
	settleFactor = 4
	// MaxSettleDelay is the most a publish waits, however slow the
	// registry was.
	MaxSettleDelay = 10 * time.Second
)

// WithSettleDelay sets the least time Publish waits after moving the
// metadata tag before it reads the tag back to confirm that no other
// publisher overwrote it (default DefaultSettleDelay). The wait is
// otherwise sized from the registry: four times the slowest request that
// reading the Metadata and publishing it made, plus jitter, at most
// MaxSettleDelay. Zero leaves only that, which suits tests with one
// publisher; a smaller floor than the default makes a lost update likelier
// when another publisher's process stalls between its check and its put.
func WithSettleDelay(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("settle delay %s is negative", d)
		}
		o.settle = d
		return nil
	}
}

// Publish makes a new artifact current at the Metadata's tag: this
// Metadata's files, less remove (names it does not have are ignored), with
// put added or replaced. It uploads the blobs of put that this Metadata's
// manifest does not list, without asking the registry first whether it has
// them (an upload of content it has is harmless), writes the manifest with its layers sorted by file name, and moves the
// tag, which is the commit point. It fails with an error wrapping
// ErrConflict (errkind.Registry) when, just before the tag is moved, it no
// longer points to this Metadata's manifest (or exists, for an empty
// Metadata), or when, read back once a settle delay after the move
// (WithSettleDelay), it points to something else: another publisher may
// have overwritten this change, so read the tag again and redo it. The
// Metadata itself does not change. Requests that fail for a reason that
// may pass are retried (WithRetry); a failure before the tag moves leaves
// the artifact as it was.
func (m *Metadata) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	what := "publishing trust data " + m.tag.String()
	ctx = withLatencies(ctx, m.lat)
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
	sessions := cn.takeSessions(ctx, len(blobs))
	var early chan checked
	if len(sessions) == len(blobs) {
		// The uploads are one round trip each, in parallel: the check
		// of the tag goes alongside them and still comes just before
		// the move.
		early = make(chan checked, 1)
		go func() {
			sent := time.Now()
			now, err := m.checkCurrent(ctx, cn, "before", m.digest)
			early <- checked{now, err, sent}
		}()
	}
	if err := cn.uploadAll(ctx, blobs, sessions); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}

	if err := m.moveTag(ctx, cn, manifest, digest, early); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// checked is the answer of a check of the tag made alongside the uploads.
type checked struct {
	now  v1.Hash
	err  error
	sent time.Time
}

// checkBeforeMove resolves the tag before a move and returns what it
// points to. The time from sending the check
// to the put landing is the window in which another publisher's move can
// be overwritten unseen (docs/storage.md, "The window that remains"), so
// the check must be fresh: sent no longer ago than the slowest request of
// this publish, so that with the put itself the window stays within about
// two requests, well inside the settle of any publisher (settleFactor).
// On the first attempt the check made alongside the uploads (early) is
// used when it is fresh; a stale one (the uploads were slow or retried,
// or this process stalled) is made again, as is a new check that this
// process took too long to act on, up to freshTries times.
func (m *Metadata) checkBeforeMove(ctx context.Context, cn *conn, early <-chan checked, attempt int, ok []v1.Hash) (v1.Hash, error) {
	if early != nil && attempt == 1 {
		c := <-early
		if c.err != nil || time.Since(c.sent) <= m.lat.max() {
			return c.now, c.err
		}
	}
	var now v1.Hash
	var err error
	for range freshTries {
		sent := time.Now()
		now, err = m.checkCurrent(ctx, cn, "before", ok...)
		if err != nil || time.Since(sent) <= m.lat.max() {
			break
		}
	}
	return now, err
}

// freshTries bounds the checks before one move: a process so loaded that
// it cannot act on any of them within a request's time goes ahead, and
// its settle, sized from those slow requests, is long.
const freshTries = 3

// moveTag puts manifest (of digest) on the tag if the tag still points to
// this Metadata's manifest (checkBeforeMove), waits, and reads the tag
// back once.
// Registries have no compare-and-swap: another publisher that checked the
// tag before our put may put its manifest after it. The wait before the
// read-back (settleDelay) lets such a put land first, so that the
// read-back sees it and the caller redoes its change (docs/storage.md). A
// put that fails for a reason that may pass is tried again, each time
// after checking the tag again: a put whose answer was lost may have moved
// it already.
func (m *Metadata) moveTag(ctx context.Context, cn *conn, manifest []byte, digest v1.Hash, early <-chan checked) error {
	err := m.c.retryOp(ctx, func(attempt int) (bool, error) {
		ok := []v1.Hash{m.digest}
		if attempt > 1 {
			ok = append(ok, digest)
		}
		now, err := m.checkBeforeMove(ctx, cn, early, attempt, ok)
		if err != nil || now == digest {
			return false, err
		}
		err = cn.putManifest(withoutRetry(ctx), m.tag.TagStr(), types.OCIManifestSchema1, manifest)
		if err != nil {
			return transientError(err), cn.fail("moving "+m.tag.String(), err)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	// One read-back at the end of the window: a put that lands at any
	// time before it replaced ours and is seen.
	if err := ctxsleep.Sleep(ctx, m.c.settleDelay(m.lat.max())); err != nil {
		return err
	}
	_, err = m.checkCurrent(ctx, cn, "after", digest)
	return err
}

// settleDelay is how long to wait after the move before reading the tag
// back, when the slowest request of this publish took slowest: four
// times that, at least the client's settle delay, plus jitter up to
// slowest (so that publishers that collided read back apart), at most
// MaxSettleDelay.
func (c *Client) settleDelay(slowest time.Duration) time.Duration {
	d := max(settleFactor*slowest, c.opts.settle)
	return min(d+rand.N(slowest+1), MaxSettleDelay)
}

// maxParallelUploads bounds the blob uploads of one publish in flight.
const maxParallelUploads = 4

// uploadAll uploads blobs, a few at a time, so that the time between
// reading the tag and moving it (when another publisher can get in
// between) stays short; a blob has one of sessions (PrepareUploads) to go
// into, while they last. It does not ask first whether the registry has a
// blob: next already left out those the current manifest lists, so such a
// HEAD would almost always answer 404 and cost a round trip per file, and
// uploading content the registry has is harmless.
func (cn *conn) uploadAll(ctx context.Context, blobs map[v1.Hash][]byte, sessions []*url.URL) error {
	hashes := slices.SortedFunc(maps.Keys(blobs), compareHash)
	errs := make([]error, len(hashes))
	sem := make(chan struct{}, max(maxParallelUploads, len(sessions)))
	var wg sync.WaitGroup
	for i, h := range hashes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if i < len(sessions) && cn.finishUpload(ctx, sessions[i], h, blobs[h]) == nil {
				return
			}
			// Without a session, or with one that failed: as usual.
			if err := cn.putBlob(ctx, h, blobs[h]); err != nil {
				errs[i] = cn.fail("uploading "+h.String(), err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// next returns the files of the new artifact and the blobs of put that
// the current manifest does not list: those are the ones to upload.
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

// checkCurrent fails with ErrConflict unless the tag points to one of
// want now (a zero Hash in want: does not exist). It returns what the tag
// points to (zero when it does not exist).
func (m *Metadata) checkCurrent(ctx context.Context, cn *conn, when string, want ...v1.Hash) (v1.Hash, error) {
	d, err := cn.resolve(ctx, m.tag.TagStr())
	switch {
	case isNotFound(err):
		if slices.Contains(want, v1.Hash{}) {
			return v1.Hash{}, nil
		}
		return v1.Hash{}, errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was deleted %s the update", ErrConflict, m.tag, when))
	case err != nil:
		return v1.Hash{}, cn.fail("checking "+m.tag.String(), err)
	case !slices.Contains(want, d.Digest):
		if when == "before" && want[0] == (v1.Hash{}) {
			return d.Digest, errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was created by another publisher: read it again", ErrConflict, m.tag))
		}
		return d.Digest, errkind.Mark(errkind.Registry, fmt.Errorf("%w: %s was moved to %s by another publisher %s the update: read it again", ErrConflict, m.tag, d.Digest, when))
	}
	return d.Digest, nil
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
