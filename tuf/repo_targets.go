package tuf

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Target is a signed image tag: its name is the tag, Length the manifest
// size, SHA256 the hex of the manifest digest and MediaType the manifest's
// media type (docs/storage.md).
type Target struct {
	Name      string `json:"name"`
	Length    int64  `json:"length"`
	SHA256    string `json:"sha256"`
	MediaType string `json:"mediaType,omitempty"`
	// Role is the role whose metadata lists the target ("targets" or a
	// delegation); set by ListTargets, ignored by AddTargets.
	Role string `json:"role,omitempty"`
}

type targetCustom struct {
	MediaType string `json:"mediaType,omitempty"`
}

func (t Target) toFile() (*metadata.TargetFiles, error) {
	sum, err := hex.DecodeString(t.SHA256)
	if err != nil || len(sum) != 32 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("target %s: invalid sha256 %q", t.Name, t.SHA256))
	}
	if t.Length < 1 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("target %s: invalid length %d", t.Name, t.Length))
	}
	f := metadata.TargetFile()
	f.Path = t.Name
	f.Length = t.Length
	f.Hashes["sha256"] = sum
	if t.MediaType != "" {
		raw, err := json.Marshal(targetCustom{MediaType: t.MediaType})
		if err != nil {
			return nil, err
		}
		msg := json.RawMessage(raw)
		f.Custom = &msg
	}
	return f, nil
}

func targetFromFile(name, role string, f *metadata.TargetFiles) Target {
	t := Target{Name: name, Length: f.Length, SHA256: hex.EncodeToString(f.Hashes["sha256"]), Role: role}
	if f.Custom != nil {
		var c targetCustom
		if json.Unmarshal(*f.Custom, &c) == nil {
			t.MediaType = c.MediaType
		}
	}
	return t
}

// targetsRole returns the loaded metadata of a targets role by name.
func (r *Repo) targetsRole(role string) *metadata.Metadata[metadata.TargetsType] {
	if role == metadata.TARGETS {
		return r.targets
	}
	return r.delegated[role]
}

// delegationKeys returns the key IDs and threshold that sign a targets role.
func (r *Repo) delegationKeys(role string) ([]string, int, error) {
	if isBinRole(role) {
		return r.binKeys(role)
	}
	if role == metadata.TARGETS {
		ids, t := r.RoleKeyIDs(metadata.TARGETS)
		return ids, t, nil
	}
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if dr.Name == role {
				ids := append([]string(nil), dr.KeyIDs...)
				sort.Strings(ids)
				return ids, dr.Threshold, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("no delegation named %s", role)
}

// RoleFor returns the targets role that keyID signs names into: the
// top-level targets role when the key is one of its keys (or keyID is
// empty), else the first delegation, in TUF's order, that lists the key and
// whose paths match every name. It returns an error wrapping ErrNotAllowed,
// marked as a verification failure, when there is none.
func (r *Repo) RoleFor(ctx context.Context, keyID string, names []string) (string, error) {
	ids, _ := r.RoleKeyIDs(metadata.TARGETS)
	if keyID == "" || contains(ids, keyID) {
		return metadata.TARGETS, nil
	}
	listed := false
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if !contains(dr.KeyIDs, keyID) {
				continue
			}
			listed = true
			if allDelegated(&dr, names) {
				if err := r.loadDelegated(ctx, dr.Name); err != nil {
					return "", err
				}
				return dr.Name, nil
			}
		}
	}
	if listed {
		return "", errkind.Mark(errkind.Verification, fmt.Errorf("%w: key %s may not sign %v (outside its delegated paths)", ErrNotAllowed, keyid.Short(keyID), names))
	}
	return "", errkind.Mark(errkind.Verification, fmt.Errorf("%w: key %s is not a targets key or a delegated key of this repository", ErrNotAllowed, keyid.Short(keyID)))
}

// RoleKeys is a role that may sign some tags, with its key IDs.
type RoleKeys struct {
	Role   string
	KeyIDs []string
}

// RolesFor lists the roles that may sign every name in names, in the order
// RoleFor tries them: targets first, then each top-level delegation whose
// paths match all of them.
func (r *Repo) RolesFor(names []string) []RoleKeys {
	ids, _ := r.RoleKeyIDs(metadata.TARGETS)
	out := []RoleKeys{{Role: metadata.TARGETS, KeyIDs: ids}}
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if allDelegated(&dr, names) {
				out = append(out, RoleKeys{Role: dr.Name, KeyIDs: dr.KeyIDs})
			}
		}
	}
	return out
}

func allDelegated(dr *metadata.DelegatedRole, names []string) bool {
	for _, n := range names {
		ok, err := dr.IsDelegatedPath(n)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loadDelegated reads a delegated role's metadata (the version snapshot
// names), verified against its delegation; a role not yet published starts
// empty.
func (r *Repo) loadDelegated(ctx context.Context, role string) error {
	if _, ok := r.delegated[role]; ok {
		return nil
	}
	meta, ok := r.snapshot.Signed.Meta[role+".json"]
	if !ok {
		m := metadata.Targets(r.now())
		m.Signed.Version = 0
		r.delegated[role] = m
		return nil
	}
	file := tufmeta.Versioned(meta.Version, role)
	data, err := r.view.ReadFile(ctx, file, tufmeta.MaxTargetsSize)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	if err := meta.VerifyLengthHashes(data); err != nil {
		return untrusted("%s does not match the length and hash that snapshot lists", file)
	}
	m, err := metadata.Targets().FromBytes(data)
	if err != nil {
		return tufmeta.Corrupt("%s: %v", file, err)
	}
	if m.Signed.Version != meta.Version {
		return tufmeta.Corrupt("%s has version %d", file, m.Signed.Version)
	}
	if err := r.checkLoadedDelegated(role, m); err != nil {
		return err
	}
	r.delegated[role] = m
	return nil
}

// AddTargets records targets in role (see RoleFor), replacing targets of
// the same names. The change is signed and published by Publish.
func (r *Repo) AddTargets(ctx context.Context, role string, targets []Target) error {
	if role == metadata.TARGETS {
		return r.addToTargetsOrBins(ctx, targets)
	}
	if err := r.loadDelegatedIfAny(ctx, role); err != nil {
		return err
	}
	m := r.targetsRole(role)
	if m == nil {
		return fmt.Errorf("no role %s", role)
	}
	if binned, err := r.addToDelegatedBins(ctx, role, m, targets); binned || err != nil {
		return err
	}
	// A delegated role below its threshold that already signs exactly
	// these targets is co-signed as it is: the same version gains the
	// signatures at hand, so that signatures of other holders still count.
	unchanged := role != metadata.TARGETS && !r.changed[role]
	files := make([]*metadata.TargetFiles, len(targets))
	for i, t := range targets {
		f, err := t.toFile()
		if err != nil {
			return err
		}
		files[i] = f
		unchanged = unchanged && sameTarget(m.Signed.Targets[t.Name], t.Name, t)
	}
	if unchanged && r.belowThreshold(role) {
		r.markCosign(role)
		return nil
	}
	for i, t := range targets {
		m.Signed.Targets[t.Name] = files[i]
	}
	r.changed[role] = true
	delete(r.cosign, role)
	return nil
}

// RemoveTargets removes names from role. Names the role does not list are
// returned as missing; nothing changes when none is listed.
func (r *Repo) RemoveTargets(ctx context.Context, role string, names []string) (missing []string, err error) {
	if err := r.loadDelegatedIfAny(ctx, role); err != nil {
		return nil, err
	}
	m := r.targetsRole(role)
	if m == nil {
		return nil, fmt.Errorf("no role %s", role)
	}
	removed := false
	for _, n := range names {
		if _, ok := m.Signed.Targets[n]; !ok {
			missing = append(missing, n)
			continue
		}
		delete(m.Signed.Targets, n)
		removed = true
	}
	if removed {
		r.changed[role] = true
	}
	if len(missing) == 0 {
		return nil, nil
	}
	holder := succinctHolder(m) // a delegation's own bins
	if role == metadata.TARGETS {
		if _, err := r.Binned(ctx); err != nil { // loads binsRole
			return nil, err
		}
		holder = r.binHolder()
	}
	return r.removeFromBins(ctx, holder, missing)
}

func (r *Repo) loadDelegatedIfAny(ctx context.Context, role string) error {
	if role == metadata.TARGETS {
		return nil
	}
	if _, _, err := r.delegationKeys(role); err != nil {
		return err
	}
	return r.loadDelegated(ctx, role)
}

// ListTargets returns every target of the top-level role and of each
// delegation, sorted by name, with the role that lists it.
func (r *Repo) ListTargets(ctx context.Context) ([]Target, error) {
	var out []Target
	for name, f := range r.targets.Signed.Targets {
		out = append(out, targetFromFile(name, metadata.TARGETS, f))
	}
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if err := r.loadDelegated(ctx, dr.Name); err != nil {
				return nil, err
			}
			for name, f := range r.delegated[dr.Name].Signed.Targets {
				out = append(out, targetFromFile(name, dr.Name, f))
			}
			signer := dr.Name
			if signer == tufmeta.BinsRole {
				signer = metadata.TARGETS // the targets role's own bins
			}
			binned, err := r.binTargets(ctx, signer, succinctHolder(r.delegated[dr.Name]))
			if err != nil {
				return nil, err
			}
			out = append(out, binned...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Role < out[j].Role
	})
	return out, nil
}

// RoleInfo describes one role for inspect and status.
type RoleInfo struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Expires   time.Time `json:"expires"`
	KeyIDs    []string  `json:"keyids"`
	Threshold int       `json:"threshold"`
	Paths     []string  `json:"paths,omitempty"`
	// Terminating is a delegation's terminating flag.
	Terminating bool `json:"terminating,omitempty"`
}

// Roles describes root, targets, every delegation, snapshot and timestamp.
func (r *Repo) Roles(ctx context.Context) ([]RoleInfo, error) {
	info := func(name string, version int64, expires time.Time) RoleInfo {
		ids, t := r.RoleKeyIDs(name)
		return RoleInfo{Name: name, Version: version, Expires: expires, KeyIDs: ids, Threshold: t}
	}
	out := []RoleInfo{
		info(metadata.ROOT, r.root.Signed.Version, r.root.Signed.Expires),
		info(metadata.TARGETS, r.targets.Signed.Version, r.targets.Signed.Expires),
	}
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if dr.Name == tufmeta.BinsRole {
				continue // the targets role's own bins, not a delegation
			}
			if err := r.loadDelegated(ctx, dr.Name); err != nil {
				return nil, err
			}
			m := r.delegated[dr.Name]
			ids := append([]string(nil), dr.KeyIDs...)
			sort.Strings(ids)
			out = append(out, RoleInfo{Name: dr.Name, Version: m.Signed.Version, Expires: m.Signed.Expires,
				KeyIDs: ids, Threshold: dr.Threshold, Paths: dr.Paths, Terminating: dr.Terminating})
		}
	}
	out = append(out,
		info(metadata.SNAPSHOT, r.snapshot.Signed.Version, r.snapshot.Signed.Expires),
		info(metadata.TIMESTAMP, r.timestamp.Signed.Version, r.timestamp.Signed.Expires))
	return out, nil
}
