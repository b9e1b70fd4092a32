package tuf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// CeremonyType and CeremonyVersion identify a staged ceremony file.
const (
	CeremonyType    = "signet-ceremony"
	CeremonyVersion = 1
	// MaxCeremonySize bounds a staged ceremony file: a root and a few
	// targets files.
	MaxCeremonySize = 40 << 20
)

// Errors of ParseCeremony and Ceremony's methods; callers test with errors.Is.
var (
	// ErrChangedAfterSigning is returned (errkind.Verification) when a
	// signature in a staged file no longer verifies over the content: the
	// staged metadata was edited after it was signed.
	ErrChangedAfterSigning = errors.New("the staged metadata was changed after it was signed")
	// ErrBaseMoved is returned (errkind.Input) by PublishCeremony when the
	// repository's published metadata is no longer what the ceremony was
	// staged on.
	ErrBaseMoved = errors.New("the repository moved on since the ceremony was staged")
	// ErrNotNeeded is returned (errkind.Input) by Ceremony.Sign when none
	// of the keys offered is one the ceremony needs.
	ErrNotNeeded = errors.New("key is not one this ceremony needs")
)

// CeremonyBase is the published state a ceremony applies to.
type CeremonyBase struct {
	// Manifest is the digest of the _tuf manifest the ceremony was staged
	// from, when the store reports one; for information only.
	Manifest string `json:"manifest,omitempty"`
	// RootVersion and RootSHA256 identify the root the proposal replaces
	// or is signed under.
	RootVersion int64  `json:"rootVersion"`
	RootSHA256  string `json:"rootSHA256"`
	// Roles holds the version, when staged, of every targets role the
	// ceremony replaces (0: never published).
	Roles map[string]int64 `json:"roles"`
}

// Ceremony is a staged change: proposed metadata that a threshold of keys
// held in several places must sign before it is published. It is what
// `signet rotate --stage` writes and `signet ceremony` reads
// (docs/rotation.md describes the file).
type Ceremony struct {
	Repository string
	Created    time.Time
	Base       CeremonyBase

	baseRoot *metadata.Metadata[metadata.RootType]
	root     *metadata.Metadata[metadata.RootType] // nil: root unchanged
	targets  map[string]*metadata.Metadata[metadata.TargetsType]
}

// ceremonyFile is the JSON form of a Ceremony.
type ceremonyFile struct {
	Type       string                     `json:"type"`
	Version    int                        `json:"version"`
	Repository string                     `json:"repository"`
	Created    time.Time                  `json:"created"`
	Base       CeremonyBase               `json:"base"`
	BaseRoot   json.RawMessage            `json:"baseRoot"`
	Proposed   map[string]json.RawMessage `json:"proposed"`
}

// Marshal encodes the ceremony as its staged file (indented JSON).
func (c *Ceremony) Marshal() ([]byte, error) {
	f := ceremonyFile{Type: CeremonyType, Version: CeremonyVersion, Repository: c.Repository,
		Created: c.Created.UTC(), Base: c.Base, Proposed: map[string]json.RawMessage{}}
	var err error
	if f.BaseRoot, err = c.baseRoot.ToBytes(false); err != nil {
		return nil, err
	}
	if c.root != nil {
		if f.Proposed[metadata.ROOT], err = c.root.ToBytes(false); err != nil {
			return nil, err
		}
	}
	for name, m := range c.targets {
		if f.Proposed[name], err = m.ToBytes(false); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(f, "", "  ")
}

// ParseCeremony reads a staged ceremony file strictly: unknown fields,
// missing parts, versions that do not follow the base, and signatures by
// keys the metadata does not need are errkind.Input errors; a signature
// that no longer verifies over its content is ErrChangedAfterSigning
// (errkind.Verification). It never panics on bad input.
func ParseCeremony(data []byte) (c *Ceremony, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, badCeremony("malformed metadata (%v)", r)
		}
	}()
	if len(data) > MaxCeremonySize {
		return nil, badCeremony("larger than %d bytes", MaxCeremonySize)
	}
	var f ceremonyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, badCeremony("%v", err)
	}
	if dec.More() {
		return nil, badCeremony("data after the JSON object")
	}
	if f.Type != CeremonyType || f.Version != CeremonyVersion {
		return nil, badCeremony("not a signet ceremony of version %d (type %q, version %d)", CeremonyVersion, f.Type, f.Version)
	}
	if f.Repository == "" {
		return nil, badCeremony("no repository")
	}
	c = &Ceremony{Repository: f.Repository, Created: f.Created, Base: f.Base, targets: map[string]*metadata.Metadata[metadata.TargetsType]{}}
	if c.Base.Roles == nil {
		c.Base.Roles = map[string]int64{}
	}
	if c.baseRoot, err = parseStaged(f.BaseRoot, "baseRoot", metadata.Root()); err != nil {
		return nil, err
	}
	if err := c.checkBaseRoot(f.BaseRoot); err != nil {
		return nil, err
	}
	for name, raw := range f.Proposed {
		if name == metadata.ROOT {
			if c.root, err = parseStaged(raw, "proposed root", metadata.Root()); err != nil {
				return nil, err
			}
			continue
		}
		m, err := parseStaged(raw, "proposed "+name, metadata.Targets())
		if err != nil {
			return nil, err
		}
		c.targets[name] = m
	}
	if err := c.checkShape(); err != nil {
		return nil, err
	}
	if err := c.checkSignatures(); err != nil {
		return nil, err
	}
	return c, nil
}

func badCeremony(format string, args ...any) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("staged ceremony: "+format, args...))
}

func parseStaged[T metadata.Roles](raw json.RawMessage, what string, into *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badCeremony("no %s", what)
	}
	m, err := into.FromBytes(raw)
	if err != nil {
		return nil, badCeremony("%s: %v", what, err)
	}
	return m, nil
}

// checkBaseRoot checks that the base root is what Base names and is signed
// by a threshold of its own keys.
func (c *Ceremony) checkBaseRoot(raw []byte) error {
	if c.baseRoot.Signed.Version != c.Base.RootVersion || c.Base.RootVersion < 1 {
		return badCeremony("base root has version %d, base says %d", c.baseRoot.Signed.Version, c.Base.RootVersion)
	}
	if err := checkRoles(c.baseRoot, "base root"); err != nil {
		return err
	}
	if sum, err := tufmeta.RootDigest(c.baseRoot); err != nil || sum != c.Base.RootSHA256 {
		return badCeremony("base root does not match its digest in base")
	}
	if err := c.baseRoot.VerifyDelegate(metadata.ROOT, c.baseRoot); err != nil {
		return errkind.Mark(errkind.Verification, fmt.Errorf("staged ceremony: base root version %d is not signed by its own keys", c.baseRoot.Signed.Version))
	}
	return nil
}

// checkShape checks what is proposed against the base: a root of the next
// version, targets roles one version on, delegations only with targets.
func (c *Ceremony) checkShape() error {
	if c.root == nil && len(c.targets) == 0 {
		return badCeremony("nothing proposed")
	}
	if c.root != nil {
		if c.root.Signed.Version != c.Base.RootVersion+1 {
			return badCeremony("proposed root has version %d, want %d", c.root.Signed.Version, c.Base.RootVersion+1)
		}
		if err := checkRoles(c.root, "proposed root"); err != nil {
			return err
		}
	}
	if len(c.Base.Roles) != len(c.targets) {
		return badCeremony("base lists %d roles, %d targets roles proposed", len(c.Base.Roles), len(c.targets))
	}
	for name, m := range c.targets {
		base, ok := c.Base.Roles[name]
		if !ok || base < 0 || m.Signed.Version != base+1 {
			return badCeremony("proposed %s has version %d, base says %d", name, m.Signed.Version, base)
		}
		if name == metadata.TARGETS {
			continue
		}
		if c.targets[metadata.TARGETS] == nil {
			return badCeremony("delegation %s is proposed without the targets role that delegates to it", name)
		}
		keys, dr, ok := delegationOf(c.targets[metadata.TARGETS], name)
		if !ok {
			return badCeremony("proposed targets does not delegate to %s", name)
		}
		if err := checkRole(name, dr.KeyIDs, dr.Threshold, keys); err != nil {
			return err
		}
	}
	return nil
}

// checkRoles checks that a root has the top-level roles, each with a
// threshold it can meet with keys it lists.
func checkRoles(root *metadata.Metadata[metadata.RootType], what string) error {
	for _, name := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		role := root.Signed.Roles[name]
		if role == nil {
			return badCeremony("%s has no %s role", what, name)
		}
		if err := checkRole(what+" "+name, role.KeyIDs, role.Threshold, root.Signed.Keys); err != nil {
			return err
		}
	}
	return nil
}

func checkRole(what string, ids []string, threshold int, keys map[string]*metadata.Key) error {
	if threshold < 1 || threshold > len(ids) {
		return badCeremony("%s has threshold %d with %d keys", what, threshold, len(ids))
	}
	for _, id := range ids {
		if keys[id] == nil {
			return badCeremony("%s lists key %s, which it does not define", what, keyid.Short(id))
		}
	}
	return nil
}

// Root returns the proposed root, nil when the ceremony does not change it.
func (c *Ceremony) Root() *metadata.Metadata[metadata.RootType] { return c.root }

// BaseRoot returns the root the ceremony was staged under.
func (c *Ceremony) BaseRoot() *metadata.Metadata[metadata.RootType] { return c.baseRoot }

// Proposed lists the proposed metadata: "root" first when staged, then the
// targets roles by name.
func (c *Ceremony) Proposed() []string {
	var out []string
	if c.root != nil {
		out = append(out, metadata.ROOT)
	}
	names := make([]string, 0, len(c.targets))
	for n := range c.targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return append(out, names...)
}

// currentRoot is the root the proposed targets roles are signed under.
func (c *Ceremony) currentRoot() *metadata.Metadata[metadata.RootType] {
	if c.root != nil {
		return c.root
	}
	return c.baseRoot
}

func delegationOf(targets *metadata.Metadata[metadata.TargetsType], name string) (map[string]*metadata.Key, *metadata.DelegatedRole, bool) {
	d := targets.Signed.Delegations
	if d == nil {
		return nil, nil, false
	}
	for i := range d.Roles {
		if d.Roles[i].Name == name {
			return d.Keys, &d.Roles[i], true
		}
	}
	return nil, nil, false
}

// requirement is one threshold with the keys to check it.
type requirement struct {
	Threshold
	keys map[string]*metadata.Key
}

// requirements lists, per proposed file, the thresholds it must meet.
func (c *Ceremony) requirements() []requirement {
	var out []requirement
	if c.root != nil {
		for i, t := range rootThresholds(c.root, c.baseRoot) {
			keys := c.baseRoot.Signed.Keys
			if i == 1 {
				keys = c.root.Signed.Keys
			}
			out = append(out, requirement{t, keys})
		}
	}
	for _, name := range c.Proposed() {
		m, ok := c.targets[name]
		if !ok {
			continue
		}
		t := Threshold{Metadata: name, Version: m.Signed.Version, Label: name}
		var keys map[string]*metadata.Key
		if name == metadata.TARGETS {
			role := c.currentRoot().Signed.Roles[metadata.TARGETS]
			t.KeyIDs, t.Threshold, keys = sortedCopy(role.KeyIDs), role.Threshold, c.currentRoot().Signed.Keys
		} else {
			k, dr, _ := delegationOf(c.targets[metadata.TARGETS], name)
			t.KeyIDs, t.Threshold, keys = sortedCopy(dr.KeyIDs), dr.Threshold, k
		}
		out = append(out, requirement{t, keys})
	}
	return out
}

// signaturesOf returns the signatures on a proposed file.
func (c *Ceremony) signaturesOf(name string) []metadata.Signature {
	if name == metadata.ROOT {
		return c.root.Signatures
	}
	return c.targets[name].Signatures
}

// signedPart returns the proposed file as go-tuf metadata for verification.
func (c *Ceremony) signedPart(name string) any {
	if name == metadata.ROOT {
		return c.root
	}
	return c.targets[name]
}

// checkSignatures checks every signature of every proposed file: by a key
// one of the file's thresholds lists, at most once, and verifying.
func (c *Ceremony) checkSignatures() error {
	reqs := c.requirements()
	for _, name := range c.Proposed() {
		var keys []requirement
		for _, r := range reqs {
			if r.Metadata == name {
				keys = append(keys, r)
			}
		}
		seen := map[string]bool{}
		for _, sig := range c.signaturesOf(name) {
			if seen[sig.KeyID] {
				return badCeremony("proposed %s has two signatures by key %s", name, keyid.Short(sig.KeyID))
			}
			seen[sig.KeyID] = true
			var key *metadata.Key
			for _, r := range keys {
				if slices.Contains(r.KeyIDs, sig.KeyID) && r.keys[sig.KeyID] != nil {
					key = r.keys[sig.KeyID]
				}
			}
			if key == nil {
				return badCeremony("proposed %s has a signature by key %s, which is not a key it needs", name, keyid.Short(sig.KeyID))
			}
			if !verifiesOne(sig.KeyID, key, c.signedPart(name)) {
				return errkind.Mark(errkind.Verification, fmt.Errorf("%w: the signature of key %s on the proposed %s no longer verifies", ErrChangedAfterSigning, keyid.Short(sig.KeyID), name))
			}
		}
	}
	return nil
}

// verifiesOne reports whether md carries a valid signature by key id.
func verifiesOne(id string, key *metadata.Key, md any) bool {
	probe := metadata.Root()
	probe.Signed.Keys = map[string]*metadata.Key{id: key}
	probe.Signed.Roles = map[string]*metadata.Role{"probe": {KeyIDs: []string{id}, Threshold: 1}}
	return probe.VerifyDelegate("probe", md) == nil
}

// Thresholds returns every signature requirement of the ceremony, with
// the keys that have signed so far (ParseCeremony checked that each
// signature verifies).
func (c *Ceremony) Thresholds() []Threshold {
	var out []Threshold
	for _, r := range c.requirements() {
		t := r.Threshold
		for _, sig := range c.signaturesOf(t.Metadata) {
			if slices.Contains(t.KeyIDs, sig.KeyID) && !slices.Contains(t.Signed, sig.KeyID) {
				t.Signed = append(t.Signed, sig.KeyID)
			}
		}
		sort.Strings(t.Signed)
		out = append(out, t)
	}
	return out
}

// Complete reports whether every threshold is met.
func (c *Ceremony) Complete() bool {
	for _, t := range c.Thresholds() {
		if !t.Met() {
			return false
		}
	}
	return true
}

// Fingerprint returns the SHA-256 of the canonical signed part of a
// proposed file, for signers to compare out of band before they sign.
func (c *Ceremony) Fingerprint(name string) (string, error) {
	var v any
	switch {
	case name == metadata.ROOT && c.root != nil:
		v = c.root.Signed
	case c.targets[name] != nil:
		v = c.targets[name].Signed
	default:
		return "", fmt.Errorf("no proposed %s", name)
	}
	return fingerprint(v)
}

// fingerprint is the SHA-256 of the canonical JSON of a signed part.
func fingerprint(signed any) (string, error) {
	b, err := cjson.EncodeCanonical(signed)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// RootFingerprint returns the fingerprint of a root.json: the SHA-256 of
// its canonical signed part, as `ceremony status` shows for a proposed
// root. Two copies of one root version have the same fingerprint whatever
// their formatting or signatures, so people compare it out of band before
// trusting a root.
func RootFingerprint(root *metadata.Metadata[metadata.RootType]) (string, error) {
	return fingerprint(root.Signed)
}

// File returns the version and expiry of a proposed file ("root",
// "targets" or a delegation); ok is false when it is not proposed.
func (c *Ceremony) File(name string) (version int64, expires time.Time, ok bool) {
	if name == metadata.ROOT && c.root != nil {
		return c.root.Signed.Version, c.root.Signed.Expires, true
	}
	if m := c.targets[name]; m != nil {
		return m.Signed.Version, m.Signed.Expires, true
	}
	return 0, time.Time{}, false
}

// Expires returns the earliest expiry of the proposed files.
func (c *Ceremony) Expires() time.Time {
	var min time.Time
	consider := func(t time.Time) {
		if min.IsZero() || t.Before(min) {
			min = t
		}
	}
	if c.root != nil {
		consider(c.root.Signed.Expires)
	}
	for _, m := range c.targets {
		consider(m.Signed.Expires)
	}
	return min
}
