package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"

	"github.com/signet-dev/signet/internal/atomicfile"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/internal/signethome"
	"github.com/signet-dev/signet/tuf/tufmeta"
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
func withCache(v tufmeta.View, home string) tufmeta.View {
	rv, ok := v.(registryView)
	if !ok || home == "" {
		return v
	}
	dir := signethome.BlobCache(home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return v
	}
	pruneCache(dir, maxCacheFiles)
	return cachedView{registryView: rv, dir: dir}
}

// maxCacheFiles bounds the cache: past it, the least recently written half
// goes. Every publish and every verify after one adds a few files (the new
// timestamp, snapshot and the roles that changed).
const maxCacheFiles = 1024

// pruneCache removes the oldest files of dir when it holds more than max.
func pruneCache(dir string, max int) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= max {
		return
	}
	type aged struct {
		name string
		mod  int64
	}
	files := make([]aged, 0, len(entries))
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files = append(files, aged{e.Name(), info.ModTime().UnixNano()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod < files[j].mod })
	for _, f := range files[:len(files)-max/2] {
		_ = os.Remove(filepath.Join(dir, f.name))
	}
}

func (v cachedView) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	d, ok := v.Metadata.Layer(name)
	if !ok || d.Digest.Algorithm != "sha256" || (maxSize > 0 && d.Size > maxSize) {
		return v.registryView.ReadFile(ctx, name, maxSize)
	}
	path := filepath.Join(v.dir, d.Digest.Hex)
	if data, err := localfile.Read(path, d.Size); err == nil && int64(len(data)) == d.Size {
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
	// means the next verify downloads the file again. Not synced: a file
	// a crash left short fails the digest check above.
	_ = atomicfile.Write(path, data, 0o600, false)
	return data, nil
}

// Publish publishes, then keeps what it published in the cache: the next
// command of this publisher reads nothing it wrote itself.
func (v cachedView) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	if err := v.registryView.Publish(ctx, put, remove); err != nil {
		return err
	}
	for _, name := range remove {
		if d, ok := v.Metadata.Layer(name); ok {
			_ = os.Remove(filepath.Join(v.dir, d.Digest.Hex))
		}
	}
	for _, data := range put {
		sum := sha256.Sum256(data)
		_ = atomicfile.Write(filepath.Join(v.dir, hex.EncodeToString(sum[:])), data, 0o600, false)
	}
	return nil
}

var _ tufmeta.View = cachedView{}
