package tuf

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Hashed bins (TUF's succinct hash bin delegations, TAP 15) keep the cost of
// a push flat as a repository grows: once the top-level targets role lists
// BinThreshold tags, new tags go into bins chosen by the hash of the tag
// name, so a push re-signs one small bin (plus snapshot and timestamp)
// instead of a targets file listing every tag, and a verify downloads one
// bin.
//
// The top-level targets role delegates every path to the role binsRole,
// last in its delegation order, signed by the targets keys. Last, because a
// client's walk stops at a bin that was never published (no tag of it was
// signed, and publishing every empty bin would cost a signature each): a
// delegation such as CI's must be searched before it. A tag signed both by
// a delegation and into a bin resolves to the delegation's, as a tag in a
// delegation before another does in TUF. binsRole delegates
// to the bins with succinct_roles, also to the targets keys: a push to a
// binned repository is still one signature by the targets key, one touch on
// a YubiKey. Tags that the top-level role listed before the conversion stay
// there (re-signing one of them re-signs targets), so converting costs two
// signatures, not one per bin.
const (
	// BinThreshold is how many tags the top-level targets role lists before
	// a publish starts putting new tags into bins.
	BinThreshold = 128
	// DefaultBins is the number of bins of an automatic conversion: at
	// 100,000 tags a bin lists about 400 tags (some 75 KB).
	DefaultBins = 256
	maxBins     = 1 << 16
)

// binBits returns log2(n) for a power of two n between 2 and 65536.
func binBits(n int) (int, error) {
	if n < 2 || n > maxBins || n&(n-1) != 0 {
		return 0, errkind.Mark(errkind.Input, fmt.Errorf("bins: %d is not a power of two between 2 and %d", n, maxBins))
	}
	return bits.TrailingZeros(uint(n)), nil
}

// binHolder returns the loaded metadata of binsRole, or nil when the
// repository has no bins.
func (r *Repo) binHolder() *metadata.Metadata[metadata.TargetsType] {
	return succinctHolder(r.delegated[tufmeta.BinsRole])
}

// Binned reports whether the repository puts new tags into hash bins.
func (r *Repo) Binned(ctx context.Context) (bool, error) {
	if !r.delegatesTo(tufmeta.BinsRole) {
		return false, nil
	}
	if err := r.loadDelegated(ctx, tufmeta.BinsRole); err != nil {
		return false, err
	}
	return r.binHolder() != nil, nil
}

func (r *Repo) delegatesTo(role string) bool {
	_, ok := r.delegation(role)
	return ok
}

// delegation returns the top-level targets role's delegation to role.
func (r *Repo) delegation(role string) (metadata.DelegatedRole, bool) {
	if d := r.targets.Signed.Delegations; d != nil {
		for _, dr := range d.Roles {
			if dr.Name == role {
				return dr, true
			}
		}
	}
	return metadata.DelegatedRole{}, false
}

// isBinRole reports whether role is binsRole, one of its bins or a bin of
// a delegated role (bins_delegated.go).
func isBinRole(role string) bool {
	_, ok := tufmeta.BinOwner(role)
	return role == tufmeta.BinsRole || ok
}

// ConvertToBins makes the repository put new tags into n hash bins (a power
// of two). The top-level targets role gains the delegation to binsRole, in
// last place; both are signed by the targets keys at the next publish.
func (r *Repo) ConvertToBins(n int) error {
	b, err := binBits(n)
	if err != nil {
		return err
	}
	if r.delegatesTo(tufmeta.BinsRole) {
		return errkind.Mark(errkind.Input, fmt.Errorf("the repository already has bins"))
	}
	ids, threshold := r.RoleKeyIDs(metadata.TARGETS)
	d := r.targets.Signed.Delegations
	if d == nil {
		d = &metadata.Delegations{Keys: map[string]*metadata.Key{}}
		r.targets.Signed.Delegations = d
	}
	if d.SuccinctRoles != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("targets delegates with succinct roles already"))
	}
	holder := metadata.Targets(r.now())
	holder.Signed.Version = 0
	holder.Signed.Delegations = &metadata.Delegations{
		Keys: map[string]*metadata.Key{},
		SuccinctRoles: &metadata.SuccinctRoles{
			KeyIDs: slices.Clone(ids), Threshold: threshold, BitLength: b, NamePrefix: tufmeta.BinPrefix,
		},
	}
	for _, id := range ids {
		k := r.root.Signed.Keys[id]
		d.Keys[id] = k
		holder.Signed.Delegations.Keys[id] = k
	}
	d.Roles = append(d.Roles, metadata.DelegatedRole{
		Name: tufmeta.BinsRole, KeyIDs: slices.Clone(ids), Threshold: threshold, Paths: []string{"*"},
	})
	r.delegated[tufmeta.BinsRole] = holder
	r.changed[metadata.TARGETS] = true
	r.changed[tufmeta.BinsRole] = true
	return nil
}

// binFor returns the name of the bin a tag belongs to.
func (r *Repo) binFor(holder *metadata.Metadata[metadata.TargetsType], name string) string {
	return holder.Signed.Delegations.SuccinctRoles.GetRolesForTarget(name)[0].Name
}

// loadBin reads a bin's metadata (the version snapshot lists), verified
// against binsRole; a bin not yet published starts empty.
func (r *Repo) loadBin(ctx context.Context, holder *metadata.Metadata[metadata.TargetsType], bin string) (*metadata.Metadata[metadata.TargetsType], error) {
	if m, ok := r.delegated[bin]; ok {
		return m, nil
	}
	meta, ok := r.snapshot.Signed.Meta[bin+".json"]
	if !ok {
		m := metadata.Targets(r.now())
		m.Signed.Version = 0
		r.delegated[bin] = m
		return m, nil
	}
	file := tufmeta.Versioned(meta.Version, bin)
	data, err := r.view.ReadFile(ctx, file, tufmeta.MaxTargetsSize)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if err := meta.VerifyLengthHashes(data); err != nil {
		return nil, untrusted("%s does not match the length and hash that snapshot lists", file)
	}
	m, err := metadata.Targets().FromBytes(data)
	if err != nil {
		return nil, tufmeta.Corrupt("%s: %v", file, err)
	}
	if m.Signed.Version != meta.Version {
		return nil, tufmeta.Corrupt("%s has version %d", file, m.Signed.Version)
	}
	if err := holder.VerifyDelegate(bin, m); err != nil {
		return nil, untrusted("%s is not signed by the keys its delegating role lists", bin)
	}
	r.delegated[bin] = m
	return m, nil
}

// addToTargetsOrBins records targets signed by the targets keys: in the
// top-level role while it is small or already lists the tag, else in the
// tag's bin, converting the repository to bins when the top-level role
// reaches BinThreshold.
func (r *Repo) addToTargetsOrBins(ctx context.Context, targets []Target) error {
	binned, err := r.Binned(ctx)
	if err != nil {
		return err
	}
	if !binned {
		if belowBinThreshold(r.targets, targets) {
			return r.putTargets(metadata.TARGETS, r.targets, targets)
		}
		if err := r.ConvertToBins(DefaultBins); err != nil {
			return err
		}
	}
	return r.putIntoBins(ctx, metadata.TARGETS, r.targets, r.binHolder(), targets)
}

// belowBinThreshold reports whether m, with targets added, lists at most
// BinThreshold tags.
func belowBinThreshold(m *metadata.Metadata[metadata.TargetsType], targets []Target) bool {
	fresh := 0
	for _, t := range targets {
		if _, ok := m.Signed.Targets[t.Name]; !ok {
			fresh++
		}
	}
	return len(m.Signed.Targets)+fresh <= BinThreshold
}

// putIntoBins records targets signed by role, whose metadata is m and
// whose bins holder delegates to: a tag m lists already is updated there,
// any other goes into its bin.
func (r *Repo) putIntoBins(ctx context.Context, role string, m, holder *metadata.Metadata[metadata.TargetsType], targets []Target) error {
	var own []Target
	byBin := map[string][]Target{}
	for _, t := range targets {
		if _, ok := m.Signed.Targets[t.Name]; ok {
			own = append(own, t)
			continue
		}
		bin := r.binFor(holder, t.Name)
		byBin[bin] = append(byBin[bin], t)
	}
	if len(own) > 0 {
		if err := r.putTargets(role, m, own); err != nil {
			return err
		}
	}
	for bin, ts := range byBin {
		b, err := r.loadBin(ctx, holder, bin)
		if err != nil {
			return err
		}
		if err := r.putTargets(bin, b, ts); err != nil {
			return err
		}
	}
	return nil
}

// putTargets adds targets to m, the metadata of role, and marks it changed.
func (r *Repo) putTargets(role string, m *metadata.Metadata[metadata.TargetsType], targets []Target) error {
	for _, t := range targets {
		f, err := t.toFile()
		if err != nil {
			return err
		}
		m.Signed.Targets[t.Name] = f
	}
	r.changed[role] = true
	return nil
}

// removeFromBins removes names from the bins of holder and returns the
// names no bin listed (all of them when holder is nil: no bins).
func (r *Repo) removeFromBins(ctx context.Context, holder *metadata.Metadata[metadata.TargetsType], names []string) ([]string, error) {
	if holder == nil {
		return names, nil
	}
	var missing []string
	for _, n := range names {
		bin := r.binFor(holder, n)
		m, err := r.loadBin(ctx, holder, bin)
		if err != nil {
			return nil, err
		}
		if _, ok := m.Signed.Targets[n]; !ok {
			missing = append(missing, n)
			continue
		}
		delete(m.Signed.Targets, n)
		r.changed[bin] = true
	}
	return missing, nil
}

// binTargets returns the targets of every published bin of holder (none
// when holder is nil), as signed by role.
func (r *Repo) binTargets(ctx context.Context, role string, holder *metadata.Metadata[metadata.TargetsType]) ([]Target, error) {
	if holder == nil {
		return nil, nil
	}
	var bins []string
	for file := range r.snapshot.Signed.Meta {
		if bin := strings.TrimSuffix(file, ".json"); holder.Signed.Delegations.SuccinctRoles.IsDelegatedRole(bin) {
			bins = append(bins, bin)
		}
	}
	sort.Strings(bins)
	var out []Target
	for _, bin := range bins {
		m, err := r.loadBin(ctx, holder, bin)
		if err != nil {
			return nil, err
		}
		for name, f := range m.Signed.Targets {
			out = append(out, targetFromFile(name, role, f))
		}
	}
	return out, nil
}

// binKeys returns the keys and threshold that sign a bin or binsRole.
func (r *Repo) binKeys(role string) ([]string, int, error) {
	if role != tufmeta.BinsRole {
		holder := r.binHolder()
		if owner, ok := tufmeta.BinOwner(role); ok && owner != tufmeta.BinsRole {
			holder = succinctHolder(r.delegated[owner])
		}
		if holder != nil {
			s := holder.Signed.Delegations.SuccinctRoles
			if s.IsDelegatedRole(role) {
				ids := slices.Clone(s.KeyIDs)
				sort.Strings(ids)
				return ids, s.Threshold, nil
			}
		}
		return nil, 0, fmt.Errorf("no bin named %s", role)
	}
	ids, t := r.RoleKeyIDs(metadata.TARGETS)
	return ids, t, nil
}

// rekeyBins follows a rotation of the targets keys: binsRole and the bins
// are delegated to the targets keys, so the delegation to binsRole, its
// succinct delegation and every published bin are re-signed by the new
// keys in the same publish (a leaked targets key could have forged bins).
func (r *Repo) rekeyBins(ctx context.Context) error {
	binned, err := r.Binned(ctx)
	if err != nil || !binned {
		return err
	}
	ids, threshold := r.RoleKeyIDs(metadata.TARGETS)
	holder := r.binHolder()
	// Load every published bin while the old keys still verify them.
	var bins []string
	for file := range r.snapshot.Signed.Meta {
		if role := strings.TrimSuffix(file, ".json"); strings.HasPrefix(role, tufmeta.BinPrefix+"-") {
			if _, err := r.loadBin(ctx, holder, role); err != nil {
				return err
			}
			bins = append(bins, role)
		}
	}
	keys := map[string]*metadata.Key{}
	for _, id := range ids {
		keys[id] = r.root.Signed.Keys[id]
	}
	d := r.targets.Signed.Delegations
	for i := range d.Roles {
		if d.Roles[i].Name == tufmeta.BinsRole {
			d.Roles[i].KeyIDs, d.Roles[i].Threshold = slices.Clone(ids), threshold
		}
	}
	for id, k := range keys {
		d.Keys[id] = k
	}
	pruneDelegationKeys(d)
	s := holder.Signed.Delegations.SuccinctRoles
	s.KeyIDs, s.Threshold = slices.Clone(ids), threshold
	holder.Signed.Delegations.Keys = keys
	r.changed[tufmeta.BinsRole] = true
	for _, bin := range bins {
		r.changed[bin] = true
	}
	return nil
}

// pruneDelegationKeys drops keys that no delegated role lists any more.
func pruneDelegationKeys(d *metadata.Delegations) {
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
}
