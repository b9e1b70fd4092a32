package tuf

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// signPolicy is how signWith treats existing signatures and a shortfall.
type signPolicy struct {
	// keep, when set, holds the public keys of the role: existing
	// signatures by keys of ids that still verify over the content are
	// kept (a co-signer adds its signature to unchanged content), the
	// others dropped. When nil every signature is cleared first.
	keep map[string]*metadata.Key
	// partial lets a delegated role be published with fewer signatures
	// than its threshold, but at least min.
	partial bool
	min     int
}

type signOption func(*signPolicy)

// keepValid keeps the existing signatures that verify with keys.
func keepValid(keys map[string]*metadata.Key) signOption {
	return func(p *signPolicy) { p.keep = keys }
}

// allowPartial accepts fewer signatures than the threshold, down to min.
func allowPartial(min int) signOption {
	return func(p *signPolicy) { p.partial, p.min = true, min }
}

// signedBy reports whether m carries a signature by key id that verifies
// over m's signed content.
func signedBy[T metadata.Roles](key *metadata.Key, id string, m *metadata.Metadata[T]) bool {
	if key == nil {
		return false
	}
	probe := metadata.Root()
	probe.Signed.Keys = map[string]*metadata.Key{id: key}
	probe.Signed.Roles = map[string]*metadata.Role{"probe": {KeyIDs: []string{id}, Threshold: 1}}
	return probe.VerifyDelegate("probe", m) == nil
}

// keepSignatures drops from m every signature that is not by a key of ids
// or does not verify (the content changed since), and duplicates, and
// returns the key IDs whose signatures remain.
func keepSignatures[T metadata.Roles](m *metadata.Metadata[T], ids []string, keys map[string]*metadata.Key) map[string]bool {
	kept := make([]metadata.Signature, 0, len(m.Signatures))
	have := map[string]bool{}
	for _, s := range m.Signatures {
		if have[s.KeyID] || !slices.Contains(ids, s.KeyID) {
			continue
		}
		one := *m
		one.Signatures = []metadata.Signature{s}
		if signedBy(keys[s.KeyID], s.KeyID, &one) {
			kept = append(kept, s)
			have[s.KeyID] = true
		}
	}
	m.Signatures = kept
	return have
}

// validSignatures counts the distinct keys of delegation role whose
// signatures on m verify.
func (r *Repo) validSignatures(role string, m *metadata.Metadata[metadata.TargetsType]) int {
	d := r.targets.Signed.Delegations
	if d == nil {
		return 0
	}
	for _, dr := range d.Roles {
		if dr.Name == role {
			valid, _ := tufmeta.CountSignatures(d.Keys, dr.KeyIDs, m, m.Signatures)
			return valid
		}
	}
	return 0
}

// checkLoadedDelegated accepts a delegated role's stored metadata that
// lacks a threshold of signatures (a co-signed role waiting for more
// holders) only when a key of the role vouches for its content, or when it
// is an unsigned empty placeholder that AddDelegation published without any
// of the role's keys at hand. Anything else was not written by the role's
// keys, and nothing is signed on top of it.
func (r *Repo) checkLoadedDelegated(role string, m *metadata.Metadata[metadata.TargetsType]) error {
	if err := r.targets.VerifyDelegate(role, m); err == nil {
		return nil
	}
	if r.validSignatures(role, m) > 0 {
		return nil
	}
	if len(m.Signatures) == 0 && len(m.Signed.Targets) == 0 && m.Signed.Delegations == nil {
		return nil
	}
	return untrusted("%s is not signed by its delegated keys", role)
}

// markCosign records that role's content is unchanged and below its
// threshold: Publish adds the signatures at hand to it as it is.
func (r *Repo) markCosign(role string) {
	if r.cosign == nil {
		r.cosign = map[string]bool{}
	}
	r.cosign[role] = true
}

// belowThreshold reports whether a loaded delegated role has fewer valid
// signatures than its threshold.
func (r *Repo) belowThreshold(role string) bool {
	m := r.delegated[role]
	_, threshold, err := r.delegationKeys(role)
	if m == nil || err != nil {
		return false
	}
	return r.validSignatures(role, m) < threshold
}

// sameTarget reports whether f describes t exactly as toFile would.
func sameTarget(f *metadata.TargetFiles, name string, t Target) bool {
	if f == nil {
		return false
	}
	got := targetFromFile(name, "", f)
	return got.Length == t.Length && got.SHA256 == t.SHA256 && got.MediaType == t.MediaType
}

// signDelegated signs a delegated role's metadata: existing signatures
// that still verify are kept, the keys the keyring holds add theirs, and
// fewer than the threshold is accepted (the role is then pending) as long
// as at least one key signed, or the role is empty.
func (r *Repo) signDelegated(ctx context.Context, role string, m *metadata.Metadata[metadata.TargetsType], keys Keyring) error {
	ids, threshold, err := r.delegationKeys(role)
	if err != nil {
		return err
	}
	min := 1
	if len(m.Signed.Targets) == 0 {
		min = 0
	}
	if err := signWith(ctx, m, role, ids, threshold, keys, keepValid(r.targets.Signed.Delegations.Keys), allowPartial(min)); err != nil {
		return err
	}
	if have := r.validSignatures(role, m); have < threshold {
		names := make([]string, 0, len(m.Signed.Targets))
		for n := range m.Signed.Targets {
			names = append(names, n)
		}
		slices.Sort(names)
		r.pending = append(r.pending, PendingRole{Role: role, Version: m.Signed.Version, Signatures: have, Threshold: threshold, Targets: names})
	}
	return nil
}

// notAllowedToSign is the error when none of a delegated role's keys is at
// hand for content that needs at least one.
func notAllowedToSign(role string, ids []string) error {
	return errkind.Mark(errkind.Key, fmt.Errorf("signing %s: none of its keys is at hand (key IDs %s)", role, strings.Join(keyid.Shorts(ids), ", ")))
}

// publishTargetsRoles signs every targets role that changed (a new version
// expiring at expires) and every delegated role that only gains
// signatures (the same version and content), adds their files to put and
// their entries to snapshot, and returns the files they replace.
func (r *Repo) publishTargetsRoles(ctx context.Context, keys Keyring, expires time.Time, put map[string][]byte) (remove []string, err error) {
	r.pending = nil
	for _, role := range r.rolesToSign() {
		m := r.targetsRole(role)
		if m == nil {
			return nil, fmt.Errorf("internal error: changed role %s is not loaded", role)
		}
		old := m.Signed.Version
		bump := r.changed[role]
		if bump {
			next, err := nextVersion(role, m.Signed.Version)
			if err != nil {
				return nil, err
			}
			m.Signed.Version = next
			m.Signed.Expires = expires
		}
		if role == metadata.TARGETS || isBinRole(role) {
			ids, threshold, err := r.delegationKeys(role)
			if err != nil {
				return nil, err
			}
			if err := signWith(ctx, m, role, ids, threshold, keys); err != nil {
				return nil, err
			}
		} else if err := r.signDelegated(ctx, role, m, keys); err != nil {
			return nil, err
		}
		data, err := m.ToBytes(false)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", role, err)
		}
		put[tufmeta.Versioned(m.Signed.Version, role)] = data
		if bump && old > 0 {
			remove = append(remove, tufmeta.Versioned(old, role))
		}
		r.snapshot.Signed.Meta[role+".json"] = snapshotMeta(role, m.Signed.Version, data)
	}
	return remove, nil
}

// rolesToSign lists, sorted, the targets roles a publish signs: those that
// changed and those that only gain a signature.
func (r *Repo) rolesToSign() []string {
	roles := make([]string, 0, len(r.changed)+len(r.cosign))
	for role := range r.changed {
		roles = append(roles, role)
	}
	for role := range r.cosign {
		if !r.changed[role] {
			roles = append(roles, role)
		}
	}
	sort.Strings(roles)
	return roles
}
