// Package tufmeta is what signet's TUF repository writer (package tuf) and
// its verifier (package tuf/verify) share: the Store through which metadata
// is read and published, the names of the metadata files and of the hash
// bins, the size bounds of files read back, the bounds on versions, and the
// checks of root signatures both sides make. It imports neither side, so
// that the verifier never depends on the writer (docs/design.md §4).
package tufmeta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
)

// Size bounds of the metadata files the repository side reads back from a
// store.
const (
	MaxRootSize      = 512 << 10
	MaxTimestampSize = 64 << 10
	MaxSnapshotSize  = 8 << 20
	MaxTargetsSize   = 32 << 20
)

// MaxRootSteps bounds how many root versions Open (tuf) and Target (tuf/verify) move forward
// from the trusted root in one run, as go-tuf's updater does (its
// MaxRootRotations). A store that lists more newer roots than this is
// refused before any of them is read.
const MaxRootSteps = 256

// AbsurdVersion is the version above which signet calls a metadata
// version absurd: a publish every millisecond for 35 years stays below it.
// Such a version is the mark of a fast-forward by a stolen online key.
const AbsurdVersion = int64(1) << 40

// RootFile is the file name of root version v: "3.root.json".
func RootFile(v int64) string { return Versioned(v, metadata.ROOT) }

// Versioned is the file name of version v of role: "3.targets.json".
func Versioned(v int64, role string) string {
	return strconv.FormatInt(v, 10) + "." + role + ".json"
}

// LatestRootVersion returns the highest N of the N.root.json files, 0 if none.
func LatestRootVersion(files []string) int64 {
	var n int64
	for _, f := range files {
		v, ok := strings.CutSuffix(f, ".root.json")
		if !ok {
			continue
		}
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && i > n {
			n = i
		}
	}
	return n
}

// ReadRole reads and parses one metadata file of a view, reading at most
// max bytes. A file that does not parse is reported with Corrupt.
func ReadRole[T metadata.Roles](ctx context.Context, view View, name string, max int64, into *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	data, err := view.ReadFile(ctx, name, max)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	m, err := into.FromBytes(data)
	if err != nil {
		return nil, Corrupt("%s: %v", name, err)
	}
	return m, nil
}

// Corrupt is the error for stored trust data that is malformed: marked
// errkind.Input, its message starts "corrupt trust data: ".
func Corrupt(format string, args ...any) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("corrupt trust data: "+format, args...))
}

// RootDigest is the SHA-256 of a root's canonical signed part, so that
// re-encoding the file does not change it.
func RootDigest(m *metadata.Metadata[metadata.RootType]) (string, error) {
	b, err := cjson.EncodeCanonical(m.Signed)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SameSigned reports whether two roots have the same signed content.
func SameSigned(a, b *metadata.Metadata[metadata.RootType]) (bool, error) {
	da, err := RootDigest(a)
	if err != nil {
		return false, Corrupt("root: %v", err)
	}
	db, err := RootDigest(b)
	if err != nil {
		return false, Corrupt("root: %v", err)
	}
	return da == db, nil
}

// CountSignatures checks, key by key, the signatures that keys of ids
// made on md: valid ones, and bad ones (present but not verifying).
func CountSignatures(keys map[string]*metadata.Key, ids []string, md any, sigs []metadata.Signature) (valid, bad int) {
	for _, id := range ids {
		key := keys[id]
		signed := slices.ContainsFunc(sigs, func(s metadata.Signature) bool { return s.KeyID == id })
		if key == nil || !signed {
			continue
		}
		// A one-key delegator lets go-tuf's own code check one signature.
		probe := metadata.Root()
		probe.Signed.Keys = map[string]*metadata.Key{id: key}
		probe.Signed.Roles = map[string]*metadata.Role{"probe": {KeyIDs: []string{id}, Threshold: 1}}
		err := probe.VerifyDelegate("probe", md)
		var unsigned *metadata.ErrUnsignedMetadata
		switch {
		case err == nil:
			valid++
		case errors.As(err, &unsigned):
			bad++
		}
	}
	return valid, bad
}
