package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/atomicfile"
)

// WithManifestCache keeps the metadata manifests Metadata reads in dir,
// by digest, with the digest each tag had last: the next read asks the
// registry for the tag with If-None-Match, and a registry that answers 304
// Not Modified (distribution does) sends nothing more. A verify whose trust
// data did not change then transfers no manifest. The cache holds only
// content the registry served under its digest; trust in it still comes
// from TUF.
func WithManifestCache(dir string) Option {
	return func(o *options) error {
		o.manifestCache = dir
		return nil
	}
}

type manifestCache struct{ dir string }

func (c *Client) manifests() *manifestCache {
	if c.opts.manifestCache == "" {
		return nil
	}
	return &manifestCache{dir: c.opts.manifestCache}
}

// tagFile names the file that remembers tag's last digest.
func (mc *manifestCache) tagFile(tag name.Tag) string {
	sum := sha256.Sum256([]byte(tag.String()))
	return filepath.Join(mc.dir, "tags", hex.EncodeToString(sum[:]))
}

// last returns the digest tag had at the last read and that manifest's
// bytes, when both are in the cache and the bytes match the digest.
func (mc *manifestCache) last(tag name.Tag) (v1.Hash, []byte, bool) {
	ref, err := os.ReadFile(mc.tagFile(tag))
	if err != nil {
		return v1.Hash{}, nil, false
	}
	h, err := v1.NewHash(strings.TrimSpace(string(ref)))
	if err != nil || h.Algorithm != "sha256" {
		return v1.Hash{}, nil, false
	}
	b, err := os.ReadFile(filepath.Join(mc.dir, "sha256", h.Hex))
	if err != nil {
		return v1.Hash{}, nil, false
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != h.Hex {
		return v1.Hash{}, nil, false
	}
	return h, b, true
}

// remember stores a manifest and that tag pointed at it, and drops the
// manifest the tag pointed at before (one manifest per tag stays); failures
// only mean the next read downloads the manifest again. Nothing is synced
// to disk: a file a crash leaves short fails its digest check in last.
func (mc *manifestCache) remember(tag name.Tag, d v1.Hash, b []byte) {
	for _, sub := range []string{"tags", "sha256"} {
		if err := os.MkdirAll(filepath.Join(mc.dir, sub), 0o700); err != nil {
			return
		}
	}
	old, _ := os.ReadFile(mc.tagFile(tag))
	if atomicfile.Write(filepath.Join(mc.dir, "sha256", d.Hex), b, 0o600, false) != nil {
		return
	}
	if atomicfile.Write(mc.tagFile(tag), []byte(d.String()), 0o600, false) != nil {
		return
	}
	if h, err := v1.NewHash(strings.TrimSpace(string(old))); err == nil && h != d && h.Algorithm == "sha256" {
		_ = os.Remove(filepath.Join(mc.dir, "sha256", h.Hex))
	}
}

// getTagManifest reads the manifest tag points to, asking with
// If-None-Match when the cache knows the tag's last digest.
func (cn *conn) getTagManifest(ctx context.Context, tag name.Tag) ([]byte, v1.Descriptor, error) {
	mc := cn.c.manifests()
	if mc == nil {
		return cn.getManifest(ctx, tag.TagStr())
	}
	h, cached, ok := mc.last(tag)
	if !ok {
		b, d, err := cn.getManifest(ctx, tag.TagStr())
		if err == nil {
			mc.remember(tag, d.Digest, b)
		}
		return b, d, err
	}
	var b []byte
	var d v1.Descriptor
	err := cn.c.retryOp(ctx, func(int) (bool, error) {
		resp, err := cn.do(ctx, http.MethodGet, cn.url("manifests", tag.TagStr()), nil,
			http.Header{"Accept": {manifestAccept}, "If-None-Match": {`"` + h.String() + `"`}},
			http.StatusOK, http.StatusNotModified)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotModified {
			b = cached
			d = v1.Descriptor{Digest: h, Size: int64(len(cached)), MediaType: types.OCIManifestSchema1}
			return false, nil
		}
		var again bool
		b, d, again, err = cn.readManifestBody(resp, tag.TagStr())
		return again, err
	})
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	if d.Digest != h {
		mc.remember(tag, d.Digest, b)
	}
	return b, d, nil
}
