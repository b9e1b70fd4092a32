package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/tuf"
)

// cachedView serves metadata files from a local cache addressed by the
// digests of the `_tuf` manifest's layers, so verify never downloads an
// unchanged file twice. A cached file is used only when its SHA-256 and
// size match the layer that the manifest names; anything else is fetched.
type cachedView struct {
	registryView
	dir string // <home>/cache/blobs
}

// withCache wraps v with the blob cache under home; errors creating the
// cache directory only turn the cache off.
func withCache(v tuf.View, home string) tuf.View {
	rv, ok := v.(registryView)
	if !ok || home == "" {
		return v
	}
	dir := filepath.Join(home, "cache", "blobs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return v
	}
	return cachedView{registryView: rv, dir: dir}
}

func (v cachedView) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	d, ok := v.Metadata.Layer(name)
	if !ok || d.Digest.Algorithm != "sha256" || (maxSize > 0 && d.Size > maxSize) {
		return v.registryView.ReadFile(ctx, name, maxSize)
	}
	path := filepath.Join(v.dir, d.Digest.Hex)
	if data, err := os.ReadFile(path); err == nil && int64(len(data)) == d.Size {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) == d.Digest.Hex {
			return data, nil
		}
	}
	data, err := v.registryView.ReadFile(ctx, name, maxSize)
	if err != nil {
		return nil, err
	}
	// The registry client checked the digest; a failed cache write only
	// means the next verify downloads the file again.
	_ = keystore.WriteFileAtomic(path, data, 0o600)
	return data, nil
}

var _ tuf.View = cachedView{}
