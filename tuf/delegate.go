package tuf

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Errors of AddDelegation and RemoveDelegation; both are marked
// errkind.Input.
var (
	// ErrDelegationExists is returned by AddDelegation for a name the
	// targets role already delegates to.
	ErrDelegationExists = errors.New("delegation already exists")
	// ErrNoDelegation is returned by RemoveDelegation for a name the
	// targets role does not delegate to.
	ErrNoDelegation = errors.New("no such delegation")
)

// Bounds on what a delegation may hold.
const (
	maxRoleName    = 64
	maxPathPattern = 128
)

// Delegation is one delegated targets role, as the top-level targets role
// lists it, with the state of the role's own metadata.
type Delegation struct {
	Name        string    `json:"name"`
	KeyIDs      []string  `json:"keyids"`
	Threshold   int       `json:"threshold"`
	Paths       []string  `json:"paths"`
	Terminating bool      `json:"terminating"`
	Version     int64     `json:"version"`
	Expires     time.Time `json:"expires"`
	// Signatures counts the distinct keys of the delegation whose
	// signature on the role's current metadata verifies: below Threshold,
	// clients refuse every tag the role signs until more holders sign.
	Signatures int `json:"signatures"`
	// Targets is the number of tags the role signs, in its bins included.
	Targets int `json:"targets"`
	// Bins reports whether the role puts new tags into hash bins of its
	// own (a terminating delegation of threshold one past BinThreshold
	// tags; bins_delegated.go).
	Bins bool `json:"bins,omitempty"`
}

// AddDelegation delegates the tags that match paths (shell globs such as
// "v*" or "release-*") to a new role name, signed by threshold of keys. A
// terminating delegation stops clients from looking further for tags it
// matches. Delegations are consulted in the order they were added.
//
// The change is to the top-level targets role (signed by the targets keys
// at Publish); Publish also publishes the new role's first, empty metadata,
// signed by whichever of keys the keyring holds, so that clients walking
// the delegations find it (see Pending when none is at hand). Bad input
// (a malformed name or glob, a threshold above the number of keys, a
// name already delegated: ErrDelegationExists) is marked errkind.Input.
func (r *Repo) AddDelegation(name string, keys []*metadata.Key, paths []string, threshold int, terminating bool) error {
	if err := checkRoleName(name); err != nil {
		return err
	}
	if _, _, err := r.delegationKeys(name); err == nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s (remove it first to change it)", ErrDelegationExists, name))
	}
	if err := checkPaths(paths); err != nil {
		return err
	}
	if len(keys) == 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("delegation %s: no key given", name))
	}
	ids := make([]string, 0, len(keys))
	byID := map[string]*metadata.Key{}
	for _, k := range keys {
		if k == nil {
			return errkind.Mark(errkind.Input, fmt.Errorf("delegation %s: nil key", name))
		}
		id, err := k.ID()
		if err != nil {
			return errkind.Mark(errkind.Input, fmt.Errorf("delegation %s: %w", name, err))
		}
		if _, dup := byID[id]; dup {
			return errkind.Mark(errkind.Input, fmt.Errorf("delegation %s: key %s is given twice", name, keyid.Short(id)))
		}
		byID[id] = k
		ids = append(ids, id)
	}
	if threshold < 1 || threshold > len(ids) {
		return errkind.Mark(errkind.Input, fmt.Errorf("delegation %s: threshold %d must be between 1 and the number of keys (%d)", name, threshold, len(ids)))
	}

	d := r.targets.Signed.Delegations
	if d == nil {
		d = &metadata.Delegations{Keys: map[string]*metadata.Key{}}
		r.targets.Signed.Delegations = d
	}
	if d.Keys == nil {
		d.Keys = map[string]*metadata.Key{}
	}
	for id, k := range byID {
		d.Keys[id] = k
	}
	// A new delegation goes last, but before the targets role's own hash
	// bins, which stay last (see bins.go).
	at := len(d.Roles)
	if at > 0 && d.Roles[at-1].Name == tufmeta.BinsRole {
		at--
	}
	d.Roles = slices.Insert(d.Roles, at, metadata.DelegatedRole{
		Name:        name,
		KeyIDs:      ids,
		Threshold:   threshold,
		Terminating: terminating,
		Paths:       slices.Clone(paths),
	})

	// The new role starts empty. Its version continues after any version
	// an earlier delegation of the same name published, so that no client
	// ever sees a role's version go back.
	m := metadata.Targets(r.now())
	m.Signed.Version = 0
	if old, ok := r.snapshot.Signed.Meta[name+".json"]; ok && old != nil {
		m.Signed.Version = old.Version
	}
	r.delegated[name] = m
	r.changed[name] = true
	delete(r.cosign, name)
	r.changed[metadata.TARGETS] = true
	return nil
}

// RemoveDelegation stops delegating to name: clients no longer accept
// tags that only name's role signs. Keys no other delegation uses are
// dropped from the targets role. The role's last metadata stays listed in
// snapshot, so that re-adding the name later continues its version numbers.
// A name not delegated is ErrNoDelegation (errkind.Input).
func (r *Repo) RemoveDelegation(name string) error {
	d := r.targets.Signed.Delegations
	idx := -1
	if d != nil {
		idx = slices.IndexFunc(d.Roles, func(dr metadata.DelegatedRole) bool { return dr.Name == name })
	}
	if idx < 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s", ErrNoDelegation, name))
	}
	d.Roles = slices.Delete(d.Roles, idx, idx+1)
	used := map[string]bool{}
	for _, dr := range d.Roles {
		for _, id := range dr.KeyIDs {
			used[id] = true
		}
	}
	for id := range d.Keys {
		if !used[id] {
			delete(d.Keys, id)
		}
	}
	if len(d.Roles) == 0 {
		r.targets.Signed.Delegations = nil
	}
	delete(r.delegated, name)
	delete(r.changed, name)
	delete(r.cosign, name)
	r.changed[metadata.TARGETS] = true
	return nil
}

// Delegations lists the delegations of the top-level targets role in
// TUF's order (the order clients consult them), each with the state of its
// role's metadata.
func (r *Repo) Delegations(ctx context.Context) ([]Delegation, error) {
	d := r.targets.Signed.Delegations
	if d == nil {
		return []Delegation{}, nil
	}
	out := make([]Delegation, 0, len(d.Roles))
	for _, dr := range d.Roles {
		if dr.Name == tufmeta.BinsRole {
			continue // the targets role's own bins, not a delegation
		}
		if err := r.loadDelegated(ctx, dr.Name); err != nil {
			return nil, err
		}
		m := r.delegated[dr.Name]
		ids := slices.Clone(dr.KeyIDs)
		sort.Strings(ids)
		binned, err := r.binTargets(ctx, dr.Name, succinctHolder(m))
		if err != nil {
			return nil, err
		}
		out = append(out, Delegation{
			Name: dr.Name, KeyIDs: ids, Threshold: dr.Threshold, Paths: slices.Clone(dr.Paths),
			Terminating: dr.Terminating, Version: m.Signed.Version, Expires: m.Signed.Expires,
			Signatures: r.validSignatures(dr.Name, m), Targets: len(m.Signed.Targets) + len(binned),
			Bins: succinctHolder(m) != nil,
		})
	}
	return out, nil
}

// PendingRole is a delegated role that Publish published with fewer valid
// signatures than its threshold: clients refuse its tags until other
// holders of its keys sign the same content (see Repo.AddTargets).
type PendingRole struct {
	Role       string   `json:"role"`
	Version    int64    `json:"version"`
	Signatures int      `json:"signatures"`
	Threshold  int      `json:"threshold"`
	Targets    []string `json:"targets"`
}

// Pending returns the delegated roles the last Publish left below their
// threshold, sorted by name; nil when every published role is complete.
func (r *Repo) Pending() []PendingRole { return slices.Clone(r.pending) }

// checkRoleName accepts [a-z0-9-]+ names that are not top-level roles.
func checkRoleName(name string) error {
	if name == "" || len(name) > maxRoleName || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return errkind.Mark(errkind.Input, fmt.Errorf("delegation name %q: want 1 to %d of a-z, 0-9 and -", name, maxRoleName))
	}
	switch name {
	case metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP:
		return errkind.Mark(errkind.Input, fmt.Errorf("delegation name %q is a top-level role", name))
	}
	return nil
}

// checkPaths accepts shell globs over tag names: no "/" (a tag has none,
// and TUF matches path segments), and a pattern path.Match can use.
func checkPaths(paths []string) error {
	if len(paths) == 0 {
		return errkind.Mark(errkind.Input, errors.New("no tag pattern given for the delegation"))
	}
	for _, p := range paths {
		if p == "" || len(p) > maxPathPattern || strings.Contains(p, "/") {
			return errkind.Mark(errkind.Input, fmt.Errorf("tag pattern %q: want a shell glob over tags such as v* or release-*", p))
		}
		if _, err := path.Match(p, ""); err != nil {
			return errkind.Mark(errkind.Input, fmt.Errorf("tag pattern %q: %w", p, err))
		}
	}
	return nil
}
