package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// Result is a target (an image tag) whose signed description passed
// a full TUF update.
type Result struct {
	// Name is the target name: the image tag.
	Name string `json:"name"`
	// Length is the signed size of the image manifest in bytes.
	Length int64 `json:"length"`
	// SHA256 is the signed manifest digest, lower-case hex without prefix.
	SHA256 string `json:"sha256"`
	// MediaType is the manifest media type from the target's custom field,
	// empty when it has none.
	MediaType string `json:"mediaType,omitempty"`
	// Custom is the target's custom field as signed, nil when it has none.
	Custom json.RawMessage `json:"custom,omitempty"`
	// Role is the role whose metadata signed the target: "targets" or the
	// name of a delegated role.
	Role string `json:"role"`
	// RootVersion is the version of the root the verification ended with.
	RootVersion int64 `json:"rootVersion"`
	// TOFU is true when no root was trusted before this call: the view's
	// 1.root.json was trusted on first use. Callers must tell the user.
	TOFU bool `json:"tofu"`
}

// Digest returns the signed manifest digest as "sha256:<hex>".
func (t *Result) Digest() string { return "sha256:" + t.SHA256 }

// Option configures Target.
type Option func(*options) error

type options struct {
	trustDir  string
	root      []byte
	now       func() time.Time
	discarded func(version int64)
}

// OnDiscardedRoot sets what Target calls, before it goes on, when it
// discards a trust directory's root that does not descend from the pinned
// root (WithRoot), with the metadata trusted under it: callers must tell
// the user, whatever the outcome of the verification.
func OnDiscardedRoot(f func(version int64)) Option {
	return func(o *options) error {
		o.discarded = f
		return nil
	}
}

// WithTrustDir sets the directory where trusted metadata persists between
// runs (root.json, timestamp.json, snapshot.json, targets.json and one file
// per delegated role). It is required; Target creates it (mode 0700) when
// missing.
func WithTrustDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("trust directory must not be empty")
		}
		o.trustDir = dir
		return nil
	}
}

// WithRoot pins a root: it becomes the trusted root unless the trust
// directory already holds a root of the same or a higher version, which was
// reached through the signed root chain and is kept. Either way trust only
// moves forward through that chain. Without WithRoot and without a root in
// the trust directory, Target trusts the view's 1.root.json on first use.
func WithRoot(rootJSON []byte) Option {
	return func(o *options) error {
		if len(rootJSON) == 0 {
			return errors.New("pinned root must not be empty")
		}
		o.root = rootJSON
		return nil
	}
}

// WithClock sets the clock that expiry is checked against. The
// default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("clock must not be nil")
		}
		o.now = now
		return nil
	}
}

// Size bounds of the metadata files a client reads (go-tuf's defaults). A
// file that timestamp or snapshot lists with a length is bounded by that
// length instead.
const (
	rootMaxLength      = 512000  // each N.root.json
	timestampMaxLength = 16384   // timestamp.json
	snapshotMaxLength  = 2000000 // N.snapshot.json
	targetsMaxLength   = 5000000 // N.targets.json and each delegated role
)

// Target runs a full TUF update over view (root chain, timestamp, snapshot,
// top-level targets, then delegations in order, honouring terminating
// delegations) and returns the signed description of target. No target
// file is downloaded: the caller compares the digest with the image.
//
// WithTrustDir is required. Failures of verification are marked
// errkind.Verification with a message naming the attack they reveal
// (rollback, freeze, mix-and-match, key removal, untrusted signature,
// tampered metadata, endless data); a target that no trusted role signs is
// "tag T is not signed". Errors reading the view keep the view's own kind.
// A first-use trust is recorded in the trust directory only when the
// verification succeeds.
func Target(ctx context.Context, view tufmeta.View, target string, opts ...Option) (*Result, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("verify: %w", err))
		}
	}
	if o.trustDir == "" {
		return nil, errkind.Mark(errkind.Input, errors.New("verify: no trust directory given"))
	}
	if target == "" {
		return nil, errkind.Mark(errkind.Input, errors.New("verify: empty tag"))
	}
	f := newFetchView(ctx, view)
	rootJSON, rootLabel, tofu, discarded, err := startingRoot(f, o)
	if err != nil {
		return nil, err
	}
	if discarded > 0 && o.discarded != nil {
		o.discarded(discarded)
	}
	if err := checkRootCount(view, rootJSON); err != nil {
		return nil, err
	}
	if !tofu {
		if res := memoLookup(o.trustDir, view, rootJSON, target, o.now().UTC()); res != nil {
			return res, nil
		}
	}
	if err := forgetMemo(o.trustDir); err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("resetting remembered lookups: %w", err))
	}
	preCtx, cancel := context.WithCancel(ctx)
	f.pre = startPrefetch(preCtx, view, target)
	defer f.pre.wait()
	defer cancel()
	res, set, err := update(f, o, rootJSON, rootLabel, target)
	if err != nil {
		if tofu {
			// Trust is recorded on first use only when that use succeeds.
			_ = os.Remove(filepath.Join(o.trustDir, "root.json"))
		}
		return nil, err
	}
	if err := syncTrustDir(o.trustDir); err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("saving trusted metadata: %w", err))
	}
	if o.root != nil {
		rememberOrigin(o.trustDir, o.root)
	}
	rememberLookup(o.trustDir, view, set, res)
	res.TOFU = tofu
	return res, nil
}

// update runs the updater from rootJSON and looks target up.
func update(f *fetchView, o options, rootJSON []byte, rootLabel, target string) (*Result, *trustedmetadata.TrustedMetadata, error) {
	cfg, err := config.New(fetchBaseURL, rootJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("configuring tuf updater: %w", err)
	}
	cfg.Fetcher = f
	cfg.LocalMetadataDir = o.trustDir
	cfg.LocalTargetsDir = o.trustDir // never written: targets are not downloaded
	cfg.RootMaxLength = rootMaxLength
	cfg.TimestampMaxLength = timestampMaxLength
	cfg.SnapshotMaxLength = snapshotMaxLength
	cfg.TargetsMaxLength = targetsMaxLength

	up, err := updater.New(cfg)
	if err != nil {
		return nil, nil, rootError(err, rootLabel)
	}
	up.UnsafeSetRefTime(o.now().UTC())
	tf, err := lookup(up, f, target)
	if err != nil {
		return nil, nil, err
	}
	trusted := up.GetTrustedMetadataSet()
	sum, ok := tf.Hashes["sha256"]
	if !ok || len(sum) == 0 {
		return nil, nil, errkind.Mark(errkind.Verification, fmt.Errorf("tag %s is signed without a sha256 digest", target))
	}
	res := &Result{
		Name:        target,
		Length:      tf.Length,
		SHA256:      hex.EncodeToString(sum),
		Role:        signingRole(trusted.Targets, target, tf),
		RootVersion: trusted.Root.Signed.Version,
	}
	if tf.Custom != nil {
		res.Custom = append(json.RawMessage(nil), *tf.Custom...)
		var custom struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(*tf.Custom, &custom) == nil {
			res.MediaType = custom.MediaType
		}
	}
	return res, &trusted, nil
}

// lookup refreshes the top-level metadata and looks target up.
// go-tuf v2.4.2 dereferences meta entries without checking them (a signed
// timestamp without "snapshot.json" in its meta panics), so a panic in the
// updater is turned into a verification failure of the file being read.
func lookup(up *updater.Updater, f *fetchView, target string) (tf *metadata.TargetFiles, err error) {
	defer func() {
		if r := recover(); r != nil {
			tf, err = nil, fail(nil, "invalid metadata: %s is malformed (%v)", f.lastName, r)
		}
	}()
	if err := up.Refresh(); err != nil {
		return nil, explain(err, f, up)
	}
	tf, err = up.GetTargetInfo(target)
	if err != nil {
		if notFound(err, target) {
			return nil, errkind.Mark(errkind.Verification, &notSignedError{target})
		}
		return nil, explain(err, f, up)
	}
	return tf, nil
}

// signingRole finds the role that signed target. The updater returns
// the very *TargetFiles held in the trusted metadata of the role where its
// pre-order walk stopped, so the role is the one whose targets map holds
// that pointer: this follows go-tuf's own delegation order and terminating
// flags without walking them a second time.
func signingRole(roles map[string]*metadata.Metadata[metadata.TargetsType], target string, tf *metadata.TargetFiles) string {
	for name, md := range roles {
		if md != nil && md.Signed.Targets[target] == tf {
			if owner, ok := tufmeta.BinOwner(name); ok {
				if owner == tufmeta.BinsRole {
					return metadata.TARGETS // the targets role's own hash bins
				}
				return owner // a delegated role's own hash bins
			}
			return name
		}
	}
	return metadata.TARGETS // unreachable with go-tuf v2.4.2
}

// notFound reports whether err is the updater's "target not found",
// which go-tuf v2.4.2 returns as an untyped error after a complete walk, or
// its "role R not found in snapshot" for a hash bin that no tag was ever
// signed into (signet publishes a bin only when it holds a tag).
func notFound(err error, target string) bool {
	msg := err.Error()
	if msg == fmt.Sprintf("target %s not found", target) {
		return true
	}
	role, ok := strings.CutPrefix(msg, "role ")
	if !ok {
		return false
	}
	role, ok = strings.CutSuffix(role, " not found in snapshot")
	_, bin := tufmeta.BinOwner(role)
	return ok && bin
}

// startingRoot picks the root the updater starts from: a pinned one
// (WithRoot), or the trust directory's when it descends from the pinned
// one, or (first contact) the view's 1.root.json. A trust directory whose
// root does not descend from the pinned one is emptied, and its root's
// version returned as discarded.
func startingRoot(f *fetchView, o options) (rootJSON []byte, label string, tofu bool, discarded int64, err error) {
	dirPath := filepath.Join(o.trustDir, "root.json")
	dirRoot, err := os.ReadFile(dirPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", false, 0, errkind.Mark(errkind.Input, fmt.Errorf("reading trusted root: %w", err))
	}
	var dirVersion int64
	if dirRoot != nil {
		if dirVersion, err = rootVersion(dirRoot); err != nil && o.root == nil {
			return nil, "", false, 0, errkind.Mark(errkind.Verification, fmt.Errorf("trusted root %s is invalid: %w", dirPath, err))
		}
	}
	if o.root != nil {
		pinned, err := rootVersion(o.root)
		if err != nil {
			return nil, "", false, 0, errkind.Mark(errkind.Input, fmt.Errorf("pinned root is not root metadata: %w", err))
		}
		label := fmt.Sprintf("pinned root (version %d)", pinned)
		if dirRoot == nil || (dirVersion < pinned && dirVersion > 0) {
			return o.root, label, false, 0, nil
		}
		if bytes.Equal(o.root, dirRoot) || descendsFrom(f.ctx, f.view, o.trustDir, o.root, dirRoot) {
			return dirRoot, fmt.Sprintf("trusted root %s", dirPath), false, 0, nil
		}
		if err := emptyTrustDir(o.trustDir); err != nil {
			return nil, "", false, 0, errkind.Mark(errkind.Input, fmt.Errorf("discarding the trusted root: %w", err))
		}
		return o.root, label, false, max(dirVersion, 1), nil
	}
	if dirRoot != nil {
		return dirRoot, fmt.Sprintf("trusted root %s", dirPath), false, 0, nil
	}
	data, err := f.DownloadFile(fetchBaseURL+"1.root.json", rootMaxLength, 0)
	if err != nil {
		return nil, "", false, 0, explain(err, f, nil)
	}
	return data, "1.root.json (trusted on first use)", true, 0, nil
}

// rootVersion parses root metadata and returns its version.
func rootVersion(data []byte) (int64, error) {
	root, err := metadata.Root().FromBytes(data)
	if err != nil {
		return 0, err
	}
	return root.Signed.Version, nil
}

// TrustedRootVersion returns the version of the root trusted in trustDir,
// or 0 when the directory holds no root yet.
func TrustedRootVersion(trustDir string) (int64, error) {
	data, err := os.ReadFile(filepath.Join(trustDir, "root.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, errkind.Mark(errkind.Input, fmt.Errorf("reading trusted root: %w", err))
	}
	v, err := rootVersion(data)
	if err != nil {
		return 0, errkind.Mark(errkind.Verification, fmt.Errorf("trusted root in %s is invalid: %w", trustDir, err))
	}
	return v, nil
}

// ErrNotSigned matches Target's error for a tag that no role of the
// verified trust data lists ("tag T is not signed").
var ErrNotSigned = errors.New("tag is not signed")

// notSignedError is "tag T is not signed"; it matches ErrNotSigned.
type notSignedError struct{ tag string }

func (e *notSignedError) Error() string        { return fmt.Sprintf("tag %s is not signed", e.tag) }
func (e *notSignedError) Is(target error) bool { return target == ErrNotSigned }
