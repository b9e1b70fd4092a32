package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"

	"github.com/signet-dev/signet/internal/atomicfile"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// IdentifiedView is a View that can name its exact content: two views
// with the same non-empty Identity hold the same files, byte for byte (in
// signet, the digest of the `_tuf` manifest, whose layers are the files'
// digests). Target remembers the lookups it made in such a view (see
// memo) so that verifying again, when nothing changed, does not parse and
// check every file again.
type IdentifiedView interface {
	tufmeta.View
	Identity() string
}

// memoFile is where the memo lives in the trust directory. It does not end
// in ".json", so it can never be taken for a role's metadata.
const memoFile = "lookups.memo"

// Bounds of the memo: its size on disk and the lookups it keeps.
const (
	memoMaxBytes   = 1 << 20
	memoMaxTargets = 512
)

// memo records what a successful update over one view concluded: the
// trusted files it left in the trust directory (their SHA-256), the
// earliest expiry among the metadata it trusted, and the targets it looked
// up. The outcome of a TUF update is a function of the starting trusted
// metadata, the view's files, the clock (through expiry only) and the
// target name, so while all of these are the same and the clock is before
// that earliest expiry, the update would conclude the same again: a
// lookup found in the memo is that conclusion. Anything else (another
// view, any change to root.json, timestamp.json or snapshot.json in the
// trust directory, a pinned root newer than the trusted one, a target not
// looked up yet, the clock past an expiry) runs the full update, which
// deletes the memo first and writes it again only when it succeeds.
type memo struct {
	View    string             `json:"view"`
	Trusted map[string]string  `json:"trusted"`
	Expires time.Time          `json:"expires"`
	Targets map[string]*Result `json:"targets"`
}

// memoTrustedFiles are the trust directory files a memo is bound to: the
// root the next update starts from and the timestamp and snapshot that its
// rollback checks compare against (the snapshot names the version of every
// other role).
var memoTrustedFiles = [...]string{"root.json", "timestamp.json", "snapshot.json"}

// viewIdentity returns the view's identity, or "" when it has none.
func viewIdentity(view tufmeta.View) string {
	if iv, ok := view.(IdentifiedView); ok {
		return iv.Identity()
	}
	return ""
}

// memoTrusted hashes the trusted files of dir; ok is false when one is
// missing or unreadable. With versions, it also reads the version each
// file holds (only writing a memo needs them).
func memoTrusted(dir string, versions map[string]int64) (sums map[string]string, ok bool) {
	sums = make(map[string]string, len(memoTrustedFiles))
	for _, name := range memoTrustedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, false
		}
		sum := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(sum[:])
		if versions == nil {
			continue
		}
		var v struct {
			Signed struct {
				Version int64 `json:"version"`
			} `json:"signed"`
		}
		if json.Unmarshal(data, &v) != nil {
			return nil, false
		}
		versions[name] = v.Signed.Version
	}
	return sums, true
}

// readMemo returns the memo of dir, or nil when there is none or it cannot
// be read (a memo is only ever a shortcut).
func readMemo(dir string) *memo {
	data, err := localfile.Read(filepath.Join(dir, memoFile), memoMaxBytes)
	if err != nil {
		return nil
	}
	var m memo
	if json.Unmarshal(data, &m) != nil || m.View == "" || len(m.Trusted) != len(memoTrustedFiles) {
		return nil
	}
	return &m
}

// memoLookup returns the remembered lookup of target in view, or nil.
// initialRoot is the root the update would start from: a memo applies only
// when that is the trust directory's own root.json.
func memoLookup(dir string, view tufmeta.View, initialRoot []byte, target string, now time.Time) *Result {
	id := viewIdentity(view)
	if id == "" {
		return nil
	}
	m := readMemo(dir)
	if m == nil || m.View != id || !now.Before(m.Expires) {
		return nil
	}
	vt := m.Targets[target]
	if vt == nil || vt.Name != target || vt.SHA256 == "" {
		return nil
	}
	if trusted, ok := memoTrusted(dir, nil); !ok || !maps.Equal(trusted, m.Trusted) {
		return nil
	}
	sum := sha256.Sum256(initialRoot)
	if hex.EncodeToString(sum[:]) != m.Trusted["root.json"] {
		return nil
	}
	out := *vt
	out.Custom = bytes.Clone(vt.Custom)
	out.TOFU = false
	return &out
}

// forgetMemo deletes the memo of dir before a full update: an update that
// fails halfway may have moved the trusted files on.
func forgetMemo(dir string) error {
	err := os.Remove(filepath.Join(dir, memoFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// rememberLookup records res, the outcome of a successful update over
// view, whose trusted metadata is set. Lookups of other targets in the
// same view and from the same trusted files are kept. Failures to write
// are ignored: the next verify runs the full update.
func rememberLookup(dir string, view tufmeta.View, set *trustedmetadata.TrustedMetadata, res *Result) {
	id := viewIdentity(view)
	if id == "" || set == nil || set.Root == nil || set.Timestamp == nil || set.Snapshot == nil {
		return
	}
	versions := map[string]int64{}
	trusted, ok := memoTrusted(dir, versions)
	if !ok {
		return
	}
	// Another verify with the same home may have moved the trusted files
	// on since this update read them: a memo bound to those files would
	// answer for this (older) view without the rollback check.
	if versions["root.json"] != set.Root.Signed.Version ||
		versions["timestamp.json"] != set.Timestamp.Signed.Version ||
		versions["snapshot.json"] != set.Snapshot.Signed.Version {
		return
	}
	expires := earliestExpiry(set)
	m := readMemo(dir)
	if m == nil || m.View != id || !maps.Equal(m.Trusted, trusted) || len(m.Targets) >= memoMaxTargets {
		m = &memo{View: id, Trusted: trusted, Expires: expires, Targets: map[string]*Result{}}
	}
	if expires.Before(m.Expires) {
		m.Expires = expires
	}
	keep := *res
	keep.TOFU = false
	m.Targets[res.Name] = &keep
	data, err := json.Marshal(m)
	if err != nil || len(data) > memoMaxBytes {
		return
	}
	// Not synced: a memo a crash left short does not parse, and then the
	// next verify runs the full update.
	_ = atomicfile.Write(filepath.Join(dir, memoFile), data, 0o600, false)
}

// earliestExpiry is the first expiry among the metadata of set: root,
// timestamp, snapshot, targets and every delegated role loaded.
func earliestExpiry(set *trustedmetadata.TrustedMetadata) time.Time {
	e := set.Root.Signed.Expires
	e = minTime(e, set.Timestamp.Signed.Expires)
	e = minTime(e, set.Snapshot.Signed.Expires)
	for _, md := range set.Targets {
		if md != nil {
			e = minTime(e, md.Signed.Expires)
		}
	}
	return e
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
