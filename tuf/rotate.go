package tuf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Rotation changes the keys of one role. Role is root, targets, snapshot,
// timestamp or the name of a delegation of the top-level targets role.
// Add holds public keys (a key held elsewhere is fine: it signs later, in a
// ceremony), Remove key IDs of the role, and Threshold the new threshold (0
// keeps the current one). A Rotation with no change re-signs the role.
type Rotation struct {
	Role      string
	Add       []*metadata.Key
	Remove    []string
	Threshold int
}

func (rot Rotation) empty() bool {
	return len(rot.Add) == 0 && len(rot.Remove) == 0 && rot.Threshold == 0
}

// ErrMissingSignatures is wrapped by the errors Publish, Stage and
// PublishCeremony return when fewer than a threshold of a role's keys can
// sign: errors.As to *MissingKeysError gives which.
var ErrMissingSignatures = errors.New("not enough signing keys")

// Threshold is one signature requirement of a metadata file: Threshold of
// KeyIDs must sign. Label says whose keys they are ("root version 1",
// "root version 2", "targets", a delegation name). Signed lists the key IDs
// whose signatures are present and verify.
type Threshold struct {
	Metadata  string   `json:"metadata"` // the file's role: root, targets or a delegation
	Version   int64    `json:"version"`  // the file's version
	Label     string   `json:"label"`
	KeyIDs    []string `json:"keyids"`
	Threshold int      `json:"threshold"`
	Signed    []string `json:"signed"`
}

// Met reports whether enough of the keys signed.
func (t Threshold) Met() bool { return len(t.Signed) >= t.Threshold }

// Missing returns the key IDs that have not signed.
func (t Threshold) Missing() []string {
	var out []string
	for _, id := range t.KeyIDs {
		if !slices.Contains(t.Signed, id) {
			out = append(out, id)
		}
	}
	return out
}

// MissingKeysError says which thresholds could not be met with the keys at
// hand. It is marked errkind.Key and wraps ErrMissingSignatures.
type MissingKeysError struct {
	Thresholds []Threshold // every requirement of the file, met or not
	// Staged is set for a ceremony that lacks signatures, as opposed to
	// keys that are not at hand now.
	Staged bool
}

func (e *MissingKeysError) Error() string {
	var parts []string
	for _, t := range e.Thresholds {
		if t.Met() {
			continue
		}
		how := "at hand"
		if e.Staged {
			how = "signed"
		}
		parts = append(parts, fmt.Sprintf("%s version %d: %d of %d keys of %s %s (missing %s)", t.Metadata, t.Version, len(t.Signed), t.Threshold, t.Label, how, strings.Join(keyid.Shorts(t.Missing()), ", ")))
	}
	if e.Staged {
		return "ceremony incomplete: " + strings.Join(parts, "; ")
	}
	return "not enough keys to sign " + strings.Join(parts, "; ")
}

func (e *MissingKeysError) Unwrap() error { return ErrMissingSignatures }

// Rotate changes the keys or threshold of a role, to be published by
// Publish or staged by Stage. For a top-level role it makes a new root; a
// targets rotation also re-signs targets with its new keys; a delegation
// rotation changes the delegating targets role and re-signs the delegated
// one. It refuses (errkind.Input) a key that is already there, removing a
// key the role does not have, removing every key, and a threshold above
// the number of keys.
func (r *Repo) Rotate(ctx context.Context, rot Rotation) error {
	switch rot.Role {
	case metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP:
		if rot.empty() && rot.Role != metadata.ROOT && rot.Role != metadata.TARGETS {
			return errkind.Mark(errkind.Input, fmt.Errorf("nothing to rotate for %s: add or remove a key or change the threshold (signet refresh re-signs snapshot and timestamp)", rot.Role))
		}
		if !rot.empty() {
			if err := rotateRootRole(&r.root.Signed, rot); err != nil {
				return errkind.Mark(errkind.Input, err)
			}
		}
		r.rootChanged = rot.Role == metadata.ROOT || !rot.empty()
		if rot.Role == metadata.TARGETS {
			r.changed[metadata.TARGETS] = true
			return r.rekeyBins(ctx)
		}
		return nil
	}
	if _, _, err := r.delegationKeys(rot.Role); err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("no role %s: want root, targets, snapshot, timestamp or a delegation", rot.Role))
	}
	if err := r.loadDelegated(ctx, rot.Role); err != nil {
		return err
	}
	if !rot.empty() {
		if err := rotateDelegation(&r.targets.Signed, rot); err != nil {
			return errkind.Mark(errkind.Input, err)
		}
		r.changed[metadata.TARGETS] = true
	}
	r.changed[rot.Role] = true
	return nil
}

// keyChange applies a rotation to one role's key list and threshold and
// returns the new ones, or why it may not.
func keyChange(rot Rotation, ids []string, threshold int) ([]string, int, []string, error) {
	next := append([]string(nil), ids...)
	var added []string
	for _, k := range rot.Add {
		id, err := k.ID()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("key to add: %w", err)
		}
		if slices.Contains(next, id) {
			return nil, 0, nil, fmt.Errorf("key %s is already a %s key", keyid.Short(id), rot.Role)
		}
		next = append(next, id)
		added = append(added, id)
	}
	for _, id := range rot.Remove {
		i := slices.Index(next, id)
		if i < 0 || slices.Contains(added, id) {
			return nil, 0, nil, fmt.Errorf("key %s is not a %s key", keyid.Short(id), rot.Role)
		}
		next = slices.Delete(next, i, i+1)
	}
	if len(next) == 0 {
		return nil, 0, nil, fmt.Errorf("removing the last %s key: add its replacement with --add-key in the same rotation", rot.Role)
	}
	if rot.Threshold < 0 {
		return nil, 0, nil, fmt.Errorf("threshold %d: must be at least 1", rot.Threshold)
	}
	if rot.Threshold > 0 {
		threshold = rot.Threshold
	}
	if threshold > len(next) {
		if rot.Threshold > 0 {
			return nil, 0, nil, fmt.Errorf("threshold %d is above the number of %s keys (%d)", threshold, rot.Role, len(next))
		}
		return nil, 0, nil, fmt.Errorf("the %s threshold %d would be above the %d keys left: lower it with --threshold", rot.Role, threshold, len(next))
	}
	sort.Strings(next)
	return next, threshold, added, nil
}

func rotateRootRole(root *metadata.RootType, rot Rotation) error {
	role, ok := root.Roles[rot.Role]
	if !ok {
		return fmt.Errorf("root has no role %s", rot.Role)
	}
	next, threshold, _, err := keyChange(rot, role.KeyIDs, role.Threshold)
	if err != nil {
		return err
	}
	for _, k := range rot.Add {
		if err := root.AddKey(k, rot.Role); err != nil {
			return fmt.Errorf("adding %s key: %w", rot.Role, err)
		}
	}
	for _, id := range rot.Remove {
		if err := root.RevokeKey(id, rot.Role); err != nil {
			return fmt.Errorf("removing %s key: %w", rot.Role, err)
		}
	}
	role.KeyIDs = next
	role.Threshold = threshold
	return nil
}

func rotateDelegation(targets *metadata.TargetsType, rot Rotation) error {
	d := targets.Delegations
	i := slices.IndexFunc(d.Roles, func(dr metadata.DelegatedRole) bool { return dr.Name == rot.Role })
	next, threshold, _, err := keyChange(rot, d.Roles[i].KeyIDs, d.Roles[i].Threshold)
	if err != nil {
		return err
	}
	for _, k := range rot.Add {
		if err := targets.AddKey(k, rot.Role); err != nil {
			return fmt.Errorf("adding %s key: %w", rot.Role, err)
		}
	}
	for _, id := range rot.Remove {
		if err := targets.RevokeKey(id, rot.Role); err != nil {
			return fmt.Errorf("removing %s key: %w", rot.Role, err)
		}
	}
	d.Roles[i].KeyIDs = next
	d.Roles[i].Threshold = threshold
	return nil
}

// rootThresholds returns what a new root needs: a threshold of its own root
// keys and, when it replaces prev, a threshold of prev's root keys.
func rootThresholds(next, prev *metadata.Metadata[metadata.RootType]) []Threshold {
	own := next.Signed.Roles[metadata.ROOT]
	out := []Threshold{{Metadata: metadata.ROOT, Version: next.Signed.Version,
		Label: fmt.Sprintf("root version %d", next.Signed.Version), KeyIDs: sortedCopy(own.KeyIDs), Threshold: own.Threshold}}
	if prev != nil {
		old := prev.Signed.Roles[metadata.ROOT]
		out = append([]Threshold{{Metadata: metadata.ROOT, Version: next.Signed.Version,
			Label: fmt.Sprintf("root version %d", prev.Signed.Version), KeyIDs: sortedCopy(old.KeyIDs), Threshold: old.Threshold}}, out...)
	}
	return out
}

func sortedCopy(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// signingPlan picks, for metadata that must meet every threshold of need
// (whose Signed lists the signatures it already has), the keys of the
// keyring that bring each threshold up, counting each key once per
// threshold it is in. Keys in several thresholds are tried first. It
// returns the signers to use by key ID and the thresholds as they would
// stand after signing. A key the keyring does not hold is skipped; any
// other keyring error is returned.
func signingPlan(ctx context.Context, keys Keyring, need []Threshold) (map[string]signature.Signer, []Threshold, error) {
	after := make([]Threshold, len(need))
	count := map[string]int{}
	for i, t := range need {
		after[i] = t
		after[i].Signed = append([]string(nil), t.Signed...)
		for _, id := range t.KeyIDs {
			count[id]++
		}
	}
	var order []string
	for id := range count {
		order = append(order, id)
	}
	sort.Slice(order, func(i, j int) bool {
		if count[order[i]] != count[order[j]] {
			return count[order[i]] > count[order[j]]
		}
		return order[i] < order[j]
	})
	plan := map[string]signature.Signer{}
	for _, id := range order {
		useful := false
		for _, t := range after {
			if !t.Met() && slices.Contains(t.KeyIDs, id) && !slices.Contains(t.Signed, id) {
				useful = true
			}
		}
		if !useful {
			continue
		}
		s, err := keys.Signer(ctx, id, need[0].Metadata)
		if errors.Is(err, ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("signing %s: %w", need[0].Metadata, err)
		}
		plan[id] = s
		for i := range after {
			if slices.Contains(after[i].KeyIDs, id) && !slices.Contains(after[i].Signed, id) {
				after[i].Signed = append(after[i].Signed, id)
			}
		}
	}
	return plan, after, nil
}

// missing returns a MissingKeysError when a threshold is not met.
func missing(after []Threshold) error {
	for _, t := range after {
		if !t.Met() {
			return errkind.Mark(errkind.Key, &MissingKeysError{Thresholds: after})
		}
	}
	return nil
}

// signPlanned signs m with every planned key, in key ID order.
func signPlanned[T metadata.Roles](ctx context.Context, m *metadata.Metadata[T], role string, plan map[string]signature.Signer) error {
	ids := make([]string, 0, len(plan))
	for id := range plan {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := signMetadata(ctx, m, plan[id]); err != nil {
			return errkind.Mark(errkind.Key, fmt.Errorf("signing %s with key %s: %w", role, keyid.Short(id), err))
		}
	}
	return nil
}

// previousRoot returns the root that the root being published replaces, as
// published in the view, or nil for the first root.
func (r *Repo) previousRoot(ctx context.Context) (*metadata.Metadata[metadata.RootType], error) {
	v := r.root.Signed.Version - 1
	if v < 1 {
		return nil, nil
	}
	return tufmeta.ReadRole(ctx, r.view, tufmeta.RootFile(v), tufmeta.MaxRootSize, metadata.Root())
}
