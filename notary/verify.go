package notary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/keyid"
)

// maxRoles bounds how many delegations one repository may have.
const maxRoles = 1000

// fetchFunc returns the bytes of role's metadata, at most max bytes.
type fetchFunc func(ctx context.Context, role string, max int64) ([]byte, error)

// verifier checks one repository's trust data by Notary's rules.
type verifier struct {
	gun     string
	now     time.Time
	pinned  []*x509.Certificate
	fetch   fetchFunc
	maxSize int64 // bound of any file
	maxRoot int64 // bound of root and timestamp, whose lengths nobody gives
}

// roleDef is what a role's signers must be: its keys and threshold.
type roleDef struct {
	name      string
	keys      map[string]*publicKey
	threshold int
	paths     []string // nil: every tag
}

func (v *verifier) run(ctx context.Context) (*Repository, error) {
	rootBytes, err := v.fetch(ctx, roleRoot, v.maxRoot)
	if err != nil {
		return nil, err
	}
	root, rootDef, err := v.verifyRoot(rootBytes)
	if err != nil {
		return nil, err
	}
	repo := &Repository{GUN: v.gun, Pinned: len(v.pinned) > 0, RootVersion: root.Version, RootExpires: root.Expires}
	for _, k := range rootDef.keys {
		repo.RootKeyIDs = append(repo.RootKeyIDs, k.id)
		repo.RootCerts = append(repo.RootCerts, k.cert)
	}
	sort.Strings(repo.RootKeyIDs)

	base := map[string]*roleDef{}
	for _, name := range []string{roleTargets, roleSnapshot, roleTimestamp} {
		if base[name], err = baseRole(name, root); err != nil {
			return nil, err
		}
	}

	tsBytes, err := v.fetch(ctx, roleTimestamp, v.maxRoot)
	if err != nil {
		return nil, err
	}
	var ts metaJSON
	if _, err := v.verifyRole(tsBytes, base[roleTimestamp], typeTimestamp, &ts); err != nil {
		return nil, err
	}
	snMeta, ok := ts.Meta[roleSnapshot]
	if !ok {
		return nil, failf(ErrInvalid, "timestamp does not name the snapshot")
	}
	snBytes, err := v.fetchChecked(ctx, roleSnapshot, snMeta)
	if err != nil {
		return nil, err
	}
	var sn metaJSON
	if _, err := v.verifyRole(snBytes, base[roleSnapshot], typeSnapshot, &sn); err != nil {
		return nil, err
	}
	for _, name := range []string{roleRoot, roleTargets} {
		if _, ok := sn.Meta[name].Hashes["sha256"]; !ok {
			return nil, failf(ErrInvalid, "snapshot has no sha256 hash of %s", name)
		}
	}
	if err := checkFile(roleRoot, rootBytes, sn.Meta[roleRoot]); err != nil {
		return nil, err
	}
	repo.TimestampVersion, repo.SnapshotVersion = ts.Version, sn.Version
	repo.TimestampExpires, repo.SnapshotExpires = ts.Expires, sn.Expires

	// targets, then delegations breadth first, as Notary walks them.
	queue := []*roleDef{base[roleTargets]}
	seen := map[string]bool{roleTargets: true}
	for len(queue) > 0 {
		def := queue[0]
		queue = queue[1:]
		meta, ok := sn.Meta[def.name]
		if !ok {
			if def.name == roleTargets {
				return nil, failf(ErrInvalid, "snapshot does not name targets")
			}
			continue // a delegation nobody has published yet
		}
		b, err := v.fetchChecked(ctx, def.name, meta)
		if err != nil {
			return nil, err
		}
		var t targetsJSON
		signers, err := v.verifyRole(b, def, typeTargets, &t)
		if err != nil {
			return nil, err
		}
		role := &Role{Name: def.name, Version: t.Version, Expires: t.Expires, Threshold: def.threshold, Signers: signers, Paths: def.paths, Targets: map[string]Target{}}
		for id := range def.keys {
			role.KeyIDs = append(role.KeyIDs, id)
		}
		sort.Strings(role.KeyIDs)
		for name, fm := range t.Targets {
			if !allowed(def.paths, name) {
				continue // Notary ignores targets outside the role's paths
			}
			role.Targets[name] = Target{Name: name, Length: fm.Length, SHA256: fm.Hashes["sha256"], SHA512: fm.Hashes["sha512"]}
		}
		repo.Roles = append(repo.Roles, role)
		children, err := delegations(def, &t)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			if seen[c.name] {
				continue
			}
			seen[c.name] = true
			if len(seen) > maxRoles {
				return nil, failf(ErrInvalid, "more than %d delegations", maxRoles)
			}
			queue = append(queue, c)
		}
	}
	return repo, nil
}

// verifyRoot checks root.json against its own root keys: certificates
// for the GUN, within their validity, pinned when a pin is given, and a
// threshold of them signing.
func (v *verifier) verifyRoot(b []byte) (*rootJSON, *roleDef, error) {
	var env envelope
	var root rootJSON
	if err := decodeStrict(b, &env); err != nil {
		return nil, nil, failf(ErrInvalid, "root: %v", err)
	}
	if err := decodeStrict(env.Signed, &root); err != nil {
		return nil, nil, failf(ErrInvalid, "root: %v", err)
	}
	if err := checkCommon(roleRoot, &root.common, typeRoot); err != nil {
		return nil, nil, err
	}
	rk := root.Roles[roleRoot]
	if rk == nil || rk.Threshold < 1 {
		return nil, nil, failf(ErrInvalid, "root: no root role with a threshold")
	}
	def := &roleDef{name: roleRoot, keys: map[string]*publicKey{}, threshold: rk.Threshold}
	var certProblem string
	for _, id := range rk.KeyIDs {
		kj, ok := root.Keys[id]
		if !ok {
			return nil, nil, failf(ErrInvalid, "root: root key %s is not listed", keyid.Short(id))
		}
		k, err := parseKey(id, kj)
		if err != nil {
			return nil, nil, failf(ErrInvalid, "root: %v", err)
		}
		if k.cert == nil {
			return nil, nil, failf(ErrInvalid, "root: root key %s is a %s key, not a certificate", keyid.Short(id), k.typ)
		}
		if problem := v.checkRootCert(k.cert); problem != "" {
			certProblem = problem // Notary ignores certificates it cannot use
			continue
		}
		if len(v.pinned) > 0 && !v.isPinned(k.cert) {
			continue
		}
		def.keys[id] = k
	}
	if len(def.keys) == 0 {
		if certProblem != "" && len(v.pinned) == 0 {
			if strings.Contains(certProblem, "expired") {
				return nil, nil, failf(ErrExpired, "root: %s", certProblem)
			}
			return nil, nil, failf(ErrInvalid, "root: %s", certProblem)
		}
		if len(v.pinned) > 0 {
			return nil, nil, failf(ErrRootMismatch, "no root key of %s has the pinned certificate", v.gun)
		}
		return nil, nil, failf(ErrInvalid, "root: no root key")
	}
	signers, err := verifySignatures(roleRoot, &env, def)
	if err != nil {
		return nil, nil, err
	}
	// Only the keys that signed are reported as the root's keys.
	for id := range def.keys {
		if !contains(signers, id) {
			delete(def.keys, id)
		}
	}
	if !v.now.Before(root.Expires) {
		return nil, nil, failf(ErrExpired, "root expired at %s", root.Expires.UTC().Format(time.RFC3339))
	}
	return &root, def, nil
}

// checkRootCert returns why cert cannot be a root key of the GUN, or "".
func (v *verifier) checkRootCert(c *x509.Certificate) string {
	cn := c.Subject.CommonName
	if strings.HasSuffix(cn, "*") {
		if !strings.HasPrefix(v.gun, strings.TrimRight(cn, "*")) {
			return fmt.Sprintf("root certificate for %q does not cover %s", cn, v.gun)
		}
	} else if cn != v.gun {
		return fmt.Sprintf("root certificate is for %q, not %s", cn, v.gun)
	}
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return "root certificate is signed with SHA-1"
	}
	if c.NotBefore.After(c.NotAfter) {
		return "root certificate has an invalid validity window"
	}
	if v.now.AddDate(0, 0, 1).Before(c.NotBefore) || v.now.After(c.NotAfter) {
		return fmt.Sprintf("root certificate expired or not yet valid (valid %s to %s)", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return ""
}

func (v *verifier) isPinned(c *x509.Certificate) bool {
	for _, p := range v.pinned {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// baseRole returns the keys and threshold root gives a top-level role.
func baseRole(name string, root *rootJSON) (*roleDef, error) {
	rk := root.Roles[name]
	if rk == nil || rk.Threshold < 1 || len(rk.KeyIDs) == 0 {
		return nil, failf(ErrInvalid, "root: no %s role with keys and a threshold", name)
	}
	def := &roleDef{name: name, keys: map[string]*publicKey{}, threshold: rk.Threshold}
	for _, id := range rk.KeyIDs {
		kj, ok := root.Keys[id]
		if !ok {
			return nil, failf(ErrInvalid, "root: %s key %s is not listed", name, keyid.Short(id))
		}
		k, err := parseKey(id, kj)
		if err != nil {
			return nil, failf(ErrInvalid, "root: %s: %v", name, err)
		}
		def.keys[id] = k
	}
	return def, nil
}

// delegations returns the delegated roles t names, checked by Notary's
// rules: direct children only, keys listed, thresholds set, and paths
// restricted to the parent's.
func delegations(parent *roleDef, t *targetsJSON) ([]*roleDef, error) {
	var out []*roleDef
	for _, d := range t.Delegations.Roles {
		if !isDelegation(d.Name) || path.Dir(d.Name) != parent.name {
			return nil, failf(ErrInvalid, "%s: delegation role %q is invalid", parent.name, d.Name)
		}
		if d.Threshold < 1 || len(d.KeyIDs) == 0 {
			return nil, failf(ErrInvalid, "%s: delegation %s has no keys or threshold", parent.name, d.Name)
		}
		def := &roleDef{name: d.Name, keys: map[string]*publicKey{}, threshold: d.Threshold, paths: restrict(parent.paths, d.Paths)}
		for _, id := range d.KeyIDs {
			kj, ok := t.Delegations.Keys[id]
			if !ok {
				return nil, failf(ErrInvalid, "%s: key %s of %s is not listed", parent.name, keyid.Short(id), d.Name)
			}
			k, err := parseKey(id, kj)
			if err != nil {
				return nil, failf(ErrInvalid, "%s: %s: %v", parent.name, d.Name, err)
			}
			def.keys[id] = k
		}
		out = append(out, def)
	}
	return out, nil
}

// restrict keeps the child's path prefixes that fall under a parent's
// prefix; a nil parent (targets) allows everything.
func restrict(parent, child []string) []string {
	out := []string{}
	for _, c := range child {
		if parent == nil || allowed(parent, c) {
			out = append(out, c)
		}
	}
	return out
}

// allowed reports whether name falls under one of the path prefixes; nil
// means the top-level targets role, which may sign anything.
func allowed(paths []string, name string) bool {
	if paths == nil {
		return true
	}
	for _, p := range paths {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// verifyRole decodes a role's envelope into into, checks its signatures,
// type, version and expiry, and returns the key IDs that signed.
func (v *verifier) verifyRole(b []byte, def *roleDef, typ string, into any) ([]string, error) {
	var env envelope
	if err := decodeStrict(b, &env); err != nil {
		return nil, failf(ErrInvalid, "%s: %v", def.name, err)
	}
	if err := decodeStrict(env.Signed, into); err != nil {
		return nil, failf(ErrInvalid, "%s: %v", def.name, err)
	}
	signers, err := verifySignatures(def.name, &env, def)
	if err != nil {
		return nil, err
	}
	var c *common
	switch m := into.(type) {
	case *metaJSON:
		c = &m.common
	case *targetsJSON:
		c = &m.common
	}
	if err := checkCommon(def.name, c, typ); err != nil {
		return nil, err
	}
	if !v.now.Before(c.Expires) {
		return nil, failf(ErrExpired, "%s expired at %s", def.name, c.Expires.UTC().Format(time.RFC3339))
	}
	return signers, nil
}

func checkCommon(role string, c *common, typ string) error {
	if c.Type != typ {
		return failf(ErrInvalid, "%s: type %q, want %q", role, c.Type, typ)
	}
	if c.Version < 1 {
		return failf(ErrInvalid, "%s: version %d", role, c.Version)
	}
	if c.Expires.IsZero() {
		return failf(ErrInvalid, "%s: no expiry", role)
	}
	return nil
}

// verifySignatures checks that a threshold of def's keys signed the
// canonical JSON of env.Signed, and returns the key IDs that did.
func verifySignatures(role string, env *envelope, def *roleDef) ([]string, error) {
	msg, err := canonical(env.Signed)
	if err != nil {
		return nil, failf(ErrInvalid, "%s: %v", role, err)
	}
	var valid []string
	for _, s := range env.Signatures {
		k, ok := def.keys[s.KeyID]
		if !ok || contains(valid, s.KeyID) {
			continue
		}
		if k.verify(lower(s.Method), msg, s.Sig) {
			valid = append(valid, s.KeyID)
		}
	}
	if len(valid) < def.threshold {
		return nil, failf(ErrBadSignature, "%s: %d valid signature(s), %d required", role, len(valid), def.threshold)
	}
	sort.Strings(valid)
	return valid, nil
}

// fetchChecked downloads role's file, bounded by the length meta gives,
// and checks its length and hashes.
func (v *verifier) fetchChecked(ctx context.Context, role string, meta fileMeta) ([]byte, error) {
	if meta.Length <= 0 || meta.Length > v.maxSize {
		return nil, failf(ErrInvalid, "%s: length %d out of bounds (1..%d)", role, meta.Length, v.maxSize)
	}
	b, err := v.fetch(ctx, role, meta.Length)
	if err != nil {
		return nil, err
	}
	if err := checkFile(role, b, meta); err != nil {
		return nil, err
	}
	return b, nil
}

// checkFile compares b with the length and every sha256/sha512 hash of
// meta; at least one of those hashes must be there.
func checkFile(role string, b []byte, meta fileMeta) error {
	if int64(len(b)) != meta.Length {
		return failf(ErrHashMismatch, "%s is %d bytes, %d expected", role, len(b), meta.Length)
	}
	n := 0
	for alg, want := range meta.Hashes {
		var got []byte
		switch alg {
		case "sha256":
			s := sha256.Sum256(b)
			got = s[:]
		case "sha512":
			s := sha512.Sum512(b)
			got = s[:]
		default:
			continue
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return failf(ErrHashMismatch, "%s does not have the %s hash its referrer gives", role, alg)
		}
		n++
	}
	if n == 0 {
		return failf(ErrInvalid, "no sha256 or sha512 hash given for %s", role)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
