package tuf

import (
	"context"
	"slices"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Hash bins of a delegated role. A CI delegation signs a tag per pipeline
// run, and without bins its one metadata file would grow like the
// top-level targets file did (and be re-signed whole on every push). Once
// a delegation lists BinThreshold tags, it delegates with succinct_roles
// (TAP 15) to DefaultBins bins of its own, "_<role>_bin-00" and on,
// signed by its own keys: a CI push then re-signs one bin of the role plus
// snapshot and timestamp, with the CI key alone.
//
// Only a terminating delegation with a threshold of one gets bins. TAP 15
// bins are terminating: a client that reaches a bin looks no further. For a
// terminating delegation that is what it did before, so no tag changes
// hands; a non-terminating one would hide the tags of the roles after it
// (the owners' own bins among them) that match its paths. And every bin
// must reach the delegation's threshold on its own, which a single CI key
// cannot do for a threshold above one. Such delegations keep one file.
// Like the top-level bins, a bin is published once it holds a tag: a
// client that reaches a bin the snapshot does not list has found an
// unsigned tag, which for a terminating delegation is the answer anyway.

// succinctHolder returns m when it delegates with succinct_roles.
func succinctHolder(m *metadata.Metadata[metadata.TargetsType]) *metadata.Metadata[metadata.TargetsType] {
	if m == nil || m.Signed.Delegations == nil || m.Signed.Delegations.SuccinctRoles == nil {
		return nil
	}
	return m
}

// delegationCanBin reports whether delegated role role may get bins: a
// terminating delegation of threshold one (see above).
func (r *Repo) delegationCanBin(role string) bool {
	dr, ok := r.delegation(role)
	return ok && dr.Terminating && dr.Threshold == 1 && role != tufmeta.BinsRole
}

// addToDelegatedBins records targets signed by delegated role role, whose
// loaded metadata is m, when the role has bins or gets them now. It
// reports false, changing nothing, when the role keeps one file.
func (r *Repo) addToDelegatedBins(ctx context.Context, role string, m *metadata.Metadata[metadata.TargetsType], targets []Target) (bool, error) {
	holder := succinctHolder(m)
	if holder == nil {
		if !r.delegationCanBin(role) {
			return false, nil
		}
		if belowBinThreshold(m, targets) {
			return false, nil
		}
		if err := r.convertDelegationToBins(role, m, DefaultBins); err != nil {
			return false, err
		}
		holder = m
	}
	return true, r.putIntoBins(ctx, role, m, holder, targets)
}

// convertDelegationToBins makes role delegate new tags to n bins of its
// own, signed by its own keys. Bins of an earlier delegation of the same
// name that the snapshot still lists are not read (other keys signed
// them): each is published again empty, continuing its version, so that
// no client finds a bin signed by keys the delegation no longer lists.
func (r *Repo) convertDelegationToBins(role string, m *metadata.Metadata[metadata.TargetsType], n int) error {
	b, err := binBits(n)
	if err != nil {
		return err
	}
	ids, threshold, err := r.delegationKeys(role)
	if err != nil {
		return err
	}
	keys := map[string]*metadata.Key{}
	for _, id := range ids {
		keys[id] = r.targets.Signed.Delegations.Keys[id]
	}
	m.Signed.Delegations = &metadata.Delegations{
		Keys: keys,
		SuccinctRoles: &metadata.SuccinctRoles{
			KeyIDs: slices.Clone(ids), Threshold: threshold, BitLength: b, NamePrefix: tufmeta.DelegationBinPrefix(role),
		},
	}
	for bin := range r.delegated {
		if owner, ok := tufmeta.BinOwner(bin); ok && owner == role {
			delete(r.delegated, bin)
		}
	}
	for file, meta := range r.snapshot.Signed.Meta {
		bin := strings.TrimSuffix(file, ".json")
		if owner, ok := tufmeta.BinOwner(bin); ok && owner == role && meta != nil {
			fresh := metadata.Targets(r.now())
			fresh.Signed.Version = meta.Version
			r.delegated[bin] = fresh
			r.changed[bin] = true // re-signed empty by the keys of now
		}
	}
	r.changed[role] = true
	return nil
}
