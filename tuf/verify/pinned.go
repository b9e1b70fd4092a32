package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/atomicfile"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// originFile, in a trust directory, records that its root.json descends
// from a pinned root: the SHA-256 of the pinned root's bytes and of the
// trust directory's root.json, so that the walk that showed it is not
// repeated while neither changes.
const originFile = "root.origin"

// descendsFrom reports whether dirRoot, the trust directory's root, is
// pinned itself or is reached from pinned by the signed root chain of
// view (each root signed by a threshold of the previous one and of its
// own keys, versions one apart, at most MaxRootSteps of them).
func descendsFrom(ctx context.Context, view tufmeta.View, trustDir string, pinned, dirRoot []byte) bool {
	mark := originMark(pinned, dirRoot)
	if old, err := os.ReadFile(filepath.Join(trustDir, originFile)); err == nil && bytes.Equal(old, mark) {
		return true
	}
	start, err := metadata.Root().FromBytes(pinned)
	if err != nil || start.VerifyDelegate(metadata.ROOT, start) != nil {
		return false
	}
	end, err := metadata.Root().FromBytes(dirRoot)
	if err != nil {
		return false
	}
	ok := false
	switch v := end.Signed.Version; {
	case v == start.Signed.Version:
		ok, _ = tufmeta.SameSigned(start, end)
	case v > start.Signed.Version && v-start.Signed.Version <= tufmeta.MaxRootSteps:
		prev := start
		for n := start.Signed.Version + 1; n <= v; n++ {
			root, err := tufmeta.ReadRole(ctx, view, tufmeta.RootFile(n), tufmeta.MaxRootSize, metadata.Root())
			if err != nil || root.Signed.Version != n ||
				prev.VerifyDelegate(metadata.ROOT, root) != nil || root.VerifyDelegate(metadata.ROOT, root) != nil {
				return false
			}
			prev = root
		}
		ok, _ = tufmeta.SameSigned(prev, end)
	}
	if ok {
		_ = atomicfile.Write(filepath.Join(trustDir, originFile), mark, 0o600, false)
	}
	return ok
}

// rememberOrigin records, after an update that started from pinned or from
// a root that descends from it, that the trust directory's root descends
// from pinned.
func rememberOrigin(trustDir string, pinned []byte) {
	if dirRoot, err := os.ReadFile(filepath.Join(trustDir, "root.json")); err == nil {
		_ = atomicfile.Write(filepath.Join(trustDir, originFile), originMark(pinned, dirRoot), 0o600, false)
	}
}

func originMark(pinned, dirRoot []byte) []byte {
	a, b := sha256.Sum256(pinned), sha256.Sum256(dirRoot)
	return []byte(hex.EncodeToString(a[:]) + " " + hex.EncodeToString(b[:]) + "\n")
}

// emptyTrustDir removes every file of a trust directory: the root and the
// metadata trusted under it, the remembered lookups.
func emptyTrustDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// checkRootCount refuses, before any root is read, a view that lists more
// than MaxRootSteps roots after the one the update starts from.
func checkRootCount(view tufmeta.View, rootJSON []byte) error {
	v, err := rootVersion(rootJSON)
	if err != nil {
		return nil // the updater reports it
	}
	if latest := tufmeta.LatestRootVersion(view.Files()); latest-v > tufmeta.MaxRootSteps {
		return errkind.Mark(errkind.Verification, fmt.Errorf(
			"endless data attack: the registry lists root versions up to %d, more than %d after the trusted version %d", latest, tufmeta.MaxRootSteps, v))
	}
	return nil
}
