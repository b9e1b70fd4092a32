package tuf

import (
	"context"
	"slices"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Unlocker may be implemented by a Keyring whose keys need unlocking (a
// passphrase) before they sign. Before the first signature of a publish, an
// init or a ceremony, the repository calls Unlock once with every key that
// may sign, by role, so that the keyring asks for every passphrase before
// any YubiKey asks for its PIN or a touch: prompts come in one order,
// passphrase, PIN, touch, and a wrong passphrase fails before a PIN try is
// spent or anything is signed (docs/yubikey.md). Keys the keyring does not
// hold, and keys that need no unlocking, are not an error; any error stops
// the signing.
type Unlocker interface {
	Unlock(ctx context.Context, need []RoleKeys) error
}

// unlock calls keys' Unlock, when it has one, with need.
func unlock(ctx context.Context, keys Keyring, need []RoleKeys) error {
	u, ok := keys.(Unlocker)
	if !ok {
		return nil
	}
	return u.Unlock(ctx, need)
}

// publishKeys lists the keys Publish may sign with: the root's (this
// root's and the one it replaces) when root changed, each targets role's
// that changed or gains a signature, then snapshot's and timestamp's.
func (r *Repo) publishKeys(ctx context.Context) []RoleKeys {
	var need []RoleKeys
	if r.rootChanged {
		ids, _ := r.RoleKeyIDs(metadata.ROOT)
		// A previous root that cannot be read fails signRoot, which says so.
		if prev, err := r.previousRoot(ctx); err == nil && prev != nil {
			if pr, ok := prev.Signed.Roles[metadata.ROOT]; ok {
				ids = append(ids, pr.KeyIDs...)
			}
		}
		slices.Sort(ids)
		need = append(need, RoleKeys{Role: metadata.ROOT, KeyIDs: slices.Compact(ids)})
	}
	for _, role := range r.rolesToSign() {
		ids, _, err := r.delegationKeys(role)
		if err != nil {
			continue // signing the role reports it
		}
		need = append(need, RoleKeys{Role: role, KeyIDs: ids})
	}
	return append(need, r.onlineKeys()...)
}

// onlineKeys lists the keys of snapshot and timestamp.
func (r *Repo) onlineKeys() []RoleKeys {
	var need []RoleKeys
	for _, role := range []string{metadata.SNAPSHOT, metadata.TIMESTAMP} {
		ids, _ := r.RoleKeyIDs(role)
		need = append(need, RoleKeys{Role: role, KeyIDs: ids})
	}
	return need
}

// ceremonyKeys lists the keys a ceremony's thresholds name that have not
// signed yet, by file: a key that signed in an earlier home signs nothing
// here, so its passphrase is not asked for.
func (c *Ceremony) ceremonyKeys() []RoleKeys {
	var need []RoleKeys
	for _, t := range c.Thresholds() {
		need = append(need, RoleKeys{Role: t.Metadata, KeyIDs: t.Missing()})
	}
	return need
}
