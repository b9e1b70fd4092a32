package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// failure is a verification failure explained in terms of the attack
// it reveals. It wraps go-tuf's error, so errors.Is and errors.As still
// find metadata.ErrExpiredMetadata and the others.
type failure struct {
	msg   string
	cause error
}

func (e *failure) Error() string { return e.msg }
func (e *failure) Unwrap() error { return e.cause }

func fail(cause error, format string, args ...any) error {
	return errkind.Mark(errkind.Verification, &failure{msg: fmt.Sprintf(format, args...), cause: cause})
}

// rootError explains why the updater refused its starting root.
func rootError(err error, label string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errkind.Mark(errkind.Input, fmt.Errorf("writing trusted metadata: %w", err))
	}
	var unsigned *metadata.ErrUnsignedMetadata
	if errors.As(err, &unsigned) {
		return fail(err, "untrusted signature: %s is not signed by a threshold of its own root keys", label)
	}
	return fail(err, "invalid root metadata: %s: %v", label, err)
}

// explain turns an updater failure into one line naming the attack.
// The updater works file by file, and every failure it returns concerns the
// last file it fetched (a stale local file is discarded and fetched again),
// so f's last file tells which metadata failed. up is nil before the
// updater exists.
func explain(err error, f *fetchView, up *updater.Updater) error {
	var fe *fetchError
	if errors.As(err, &fe) {
		return fe // a registry problem keeps the view's kind
	}
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) || errors.As(err, &le) {
		return errkind.Mark(errkind.Input, fmt.Errorf("writing trusted metadata: %w", err))
	}
	var trusted *trustedmetadata.TrustedMetadata
	if up != nil {
		set := up.GetTrustedMetadataSet()
		trusted = &set
	}
	c := failCase{err: err, name: f.lastName, data: f.lastData, trusted: trusted}
	c.role, _ = fetchRole(f.lastName)

	var (
		expired  *metadata.ErrExpiredMetadata
		unsigned *metadata.ErrUnsignedMetadata
		mismatch *metadata.ErrLengthOrHashMismatch
		version  *metadata.ErrBadVersionNumber
		equal    *metadata.ErrEqualVersionNumber
		tooLarge *metadata.ErrDownloadLengthMismatch
		httpErr  *metadata.ErrDownloadHTTP
		repo     *metadata.ErrRepository
	)
	switch {
	case errors.As(err, &expired):
		return c.freeze(expired.Msg)
	case errors.As(err, &unsigned):
		return c.signatures()
	case errors.As(err, &mismatch):
		return c.mismatch()
	case errors.As(err, &version), errors.As(err, &equal):
		return c.version()
	case errors.As(err, &tooLarge):
		return fail(err, "endless data attack: %s", tooLarge.Msg)
	case errors.As(err, &httpErr) && httpErr.StatusCode == http.StatusNotFound:
		if _, v := fetchRole(path.Base(httpErr.URL)); v > tufmeta.AbsurdVersion {
			return fail(err, "incomplete trust data: %s is missing: its version was fast-forwarded by a stolen online key; the owners must rotate the snapshot and timestamp keys (docs/rotation.md)", path.Base(httpErr.URL))
		}
		return fail(err, "incomplete trust data: %s is missing", httpErr.URL)
	case errors.As(err, &repo):
		return fail(err, "tampered metadata: %s", repo.Msg)
	case strings.HasSuffix(err.Error(), "not found in snapshot"):
		return fail(err, "incomplete trust data: %v", err)
	case c.name != "":
		return fail(err, "invalid metadata in %s: %v", c.name, err)
	default:
		return fail(err, "invalid metadata: %v", err)
	}
}

// failCase is one failure with what is known of the file it concerns.
type failCase struct {
	err     error
	name    string // file name in the view, such as "4.targets.json"
	role    string // role of that file
	data    []byte // its content, nil when it was not read
	trusted *trustedmetadata.TrustedMetadata
}

// signedPart is the part of any metadata file the explanations need.
type signedPart struct {
	Signed struct {
		Version int64     `json:"version"`
		Expires time.Time `json:"expires"`
	} `json:"signed"`
}

func (c failCase) parsed() (signedPart, bool) {
	var s signedPart
	if c.data == nil || json.Unmarshal(c.data, &s) != nil {
		return s, false
	}
	return s, true
}

func (c failCase) freeze(msg string) error {
	var role string
	var at time.Time
	switch {
	case strings.Contains(msg, "root.json"):
		role = metadata.ROOT
		if c.trusted != nil {
			at = c.trusted.Root.Signed.Expires
		}
	case msg == "timestamp.json is expired":
		role = metadata.TIMESTAMP
		if c.trusted != nil && c.trusted.Timestamp != nil {
			at = c.trusted.Timestamp.Signed.Expires
		}
	case msg == "snapshot.json is expired":
		role = metadata.SNAPSHOT
		if c.trusted != nil && c.trusted.Snapshot != nil {
			at = c.trusted.Snapshot.Signed.Expires
		}
	default:
		role = strings.TrimSuffix(strings.TrimPrefix(msg, "new "), " is expired")
		if s, ok := c.parsed(); ok {
			at = s.Signed.Expires
		}
	}
	return errkind.Mark(errkind.Verification, &ExpiredError{Role: role, At: at, cause: c.err})
}

// ExpiredError is Target's freeze attack: the metadata of Role expired
// (at At; zero when unknown). The publisher renews it, or someone serves
// a stale copy on purpose; a client cannot tell which.
type ExpiredError struct {
	Role  string
	At    time.Time
	cause error
}

func (e *ExpiredError) Error() string {
	if e.At.IsZero() {
		return fmt.Sprintf("freeze attack: %s has expired", e.Role)
	}
	return fmt.Sprintf("freeze attack: %s expired at %s", e.Role, e.At.UTC().Format(time.RFC3339))
}

func (e *ExpiredError) Unwrap() error { return e.cause }

// listed returns the version that the trusted metadata lists for c's file,
// and which role lists it: timestamp for snapshot, snapshot for the others.
func (c failCase) listed() (version int64, lister string, ok bool) {
	if c.trusted == nil {
		return 0, "", false
	}
	switch c.role {
	case metadata.ROOT, metadata.TIMESTAMP:
		return 0, "", false
	case metadata.SNAPSHOT:
		if c.trusted.Timestamp == nil {
			return 0, "", false
		}
		m, ok := c.trusted.Timestamp.Signed.Meta["snapshot.json"]
		return metaVersion(m, ok), metadata.TIMESTAMP, ok
	default:
		if c.trusted.Snapshot == nil {
			return 0, "", false
		}
		m, ok := c.trusted.Snapshot.Signed.Meta[c.role+".json"]
		return metaVersion(m, ok), metadata.SNAPSHOT, ok
	}
}

func metaVersion(m *metadata.MetaFiles, ok bool) int64 {
	if !ok || m == nil {
		return 0
	}
	return m.Version
}

// mismatch explains a file whose length or hash differs from what the
// trusted metadata lists: another version mixed in, or modified bytes.
func (c failCase) mismatch() error {
	want, lister, ok := c.listed()
	if s, parsed := c.parsed(); ok && parsed && s.Signed.Version != want {
		return fail(c.err, "mix-and-match attack: %s version %d does not match %s's %d", c.role, s.Signed.Version, lister, want)
	}
	if lister == "" {
		return fail(c.err, "tampered metadata: %s does not match its listed length and hash", c.name)
	}
	return fail(c.err, "tampered metadata: %s does not match the length and hash that %s lists for it", c.name, lister)
}

// version explains a version number that is not the one expected.
func (c failCase) version() error {
	s, parsed := c.parsed()
	switch {
	case c.role == metadata.ROOT && parsed:
		_, want := fetchRole(c.name)
		return fail(c.err, "rollback attack: %s holds root version %d instead of %d", c.name, s.Signed.Version, want)
	case c.role == metadata.TIMESTAMP && parsed && c.trusted != nil && c.trusted.Timestamp != nil:
		old := c.trusted.Timestamp.Signed
		if old.Version > tufmeta.AbsurdVersion {
			return fail(c.err, "the timestamp this machine trusts (version %d) was fast-forwarded by a stolen timestamp key: the owners must rotate the timestamp key (signet rotate R timestamp, docs/rotation.md); then verify again", old.Version)
		}
		if s.Signed.Version < old.Version {
			return fail(c.err, "rollback attack: remote timestamp version %d is older than trusted version %d", s.Signed.Version, old.Version)
		}
		return fail(c.err, "rollback attack: timestamp version %d lists an older snapshot than trusted timestamp version %d", s.Signed.Version, old.Version)
	case c.role == metadata.SNAPSHOT && parsed:
		if want, _, ok := c.listed(); ok && s.Signed.Version != want {
			return fail(c.err, "mix-and-match attack: snapshot version %d does not match timestamp's %d", s.Signed.Version, want)
		}
		if name, got, old, ok := c.snapshotRollback(); ok && old > tufmeta.AbsurdVersion {
			return fail(c.err, "the snapshot this machine trusts lists %s at version %d, fast-forwarded by a stolen snapshot key: the owners must rotate the snapshot and timestamp keys (docs/rotation.md); then verify again", name, old)
		} else if ok {
			return fail(c.err, "rollback attack: snapshot lists %s version %d, older than trusted version %d", name, got, old)
		}
	case parsed:
		if want, lister, ok := c.listed(); ok && s.Signed.Version != want {
			return fail(c.err, "mix-and-match attack: %s version %d does not match %s's %d", c.role, s.Signed.Version, lister, want)
		}
	}
	return fail(c.err, "rollback attack: %v", c.err)
}

// snapshotRollback finds a file that the fetched snapshot lists with an
// older version than the previously trusted snapshot does.
func (c failCase) snapshotRollback() (name string, got, old int64, ok bool) {
	if c.trusted == nil || c.trusted.Snapshot == nil {
		return "", 0, 0, false
	}
	remote, err := metadata.Snapshot().FromBytes(c.data)
	if err != nil {
		return "", 0, 0, false
	}
	names := make([]string, 0, len(c.trusted.Snapshot.Signed.Meta))
	for n := range c.trusted.Snapshot.Signed.Meta {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		prev := c.trusted.Snapshot.Signed.Meta[n]
		if m, ok := remote.Signed.Meta[n]; ok && prev != nil && m != nil && m.Version < prev.Version {
			return n, m.Version, prev.Version, true
		}
	}
	return "", 0, 0, false
}
