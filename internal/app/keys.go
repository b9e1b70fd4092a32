package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
)

// RoleKeyName is the keystore name init gives the key it makes for a role
// of repository: "R/snapshot", "R/timestamp", "R/targets".
func RoleKeyName(repository, role string) string {
	return repository + "/" + role
}

// OnlineKeyNames returns the keystore names of the snapshot and timestamp
// keys that R's current root lists, found by key ID: after `rotate R
// snapshot` the new key, whatever its name, and never the rotated-out
// R/snapshot. A role none of whose keys is a software key of this keystore
// is an errkind.Key error naming its key IDs.
func OnlineKeyNames(ctx context.Context, d *Deps, repository string) ([]string, error) {
	repo, r, _, err := openRepo(ctx, d, repository, mustTrust)
	if err != nil {
		return nil, err
	}
	ks, err := d.Keystore()
	if err != nil {
		return nil, err
	}
	all, err := ks.List()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, role := range []string{metadata.SNAPSHOT, metadata.TIMESTAMP} {
		ids, _ := r.RoleKeyIDs(role)
		found := false
		for _, info := range all {
			if info.Kind == keystore.Software && slices.Contains(ids, info.KeyID) {
				found = true
				if !slices.Contains(names, info.Name) {
					names = append(names, info.Name)
				}
			}
		}
		if !found {
			return nil, errkind.Mark(errkind.Key, fmt.Errorf("no software key of %s's %s role (key IDs %s) is in this keystore: export it on the machine that holds it",
				repo.Name(), role, strings.Join(keyid.Shorts(ids), ", ")))
		}
	}
	return names, nil
}

// KeyUse is a role that a root this machine trusts lists a key for.
type KeyUse struct {
	Repository  string `json:"repository"`
	Role        string `json:"role"`
	RootVersion int64  `json:"rootVersion"`
}

// KeyUses are the roles the trusted roots of a signet home (those `init`,
// `trust pin`, `rotate` and `verify` keep) list each key for.
type KeyUses struct {
	ByKeyID      map[string][]KeyUse
	Repositories []string // every repository with a trusted root, sorted
}

// TrustedKeyUses reads every trusted root of the home. A root that does
// not parse is skipped: it lists no key anyone can rely on.
func TrustedKeyUses(ks *keystore.Store) (*KeyUses, error) {
	roots, err := ks.PinnedRoots()
	if err != nil {
		return nil, err
	}
	out := &KeyUses{ByKeyID: map[string][]KeyUse{}}
	for repo, data := range roots {
		root, err := metadata.Root().FromBytes(data)
		if err != nil {
			continue
		}
		out.Repositories = append(out.Repositories, repo)
		for role, r := range root.Signed.Roles {
			for _, id := range r.KeyIDs {
				out.ByKeyID[id] = append(out.ByKeyID[id], KeyUse{Repository: repo, Role: role, RootVersion: root.Signed.Version})
			}
		}
	}
	sort.Strings(out.Repositories)
	for _, uses := range out.ByKeyID {
		sort.Slice(uses, func(i, j int) bool {
			return uses[i].Repository+" "+uses[i].Role < uses[j].Repository+" "+uses[j].Role
		})
	}
	return out, nil
}

// RotatedOutOf returns the repository R a key was rotated out of: its
// name says it is R's ("R/snapshot", as init and the rotation recipes of
// docs/rotation.md name keys), R's trusted root no longer lists it, and
// no other trusted root does. "" otherwise.
func (u *KeyUses) RotatedOutOf(keyName, keyID string) string {
	if len(u.ByKeyID[keyID]) > 0 {
		return ""
	}
	for _, repo := range u.Repositories {
		if strings.HasPrefix(keyName, RoleKeyName(repo, "")) {
			return repo
		}
	}
	return ""
}

// TrustedRootsToExport returns the trusted root of repository r, for a
// key bundle to carry: a CI job with an empty home then starts from the
// root the owners trust, never from the registry's. nil when r is "".
func TrustedRootsToExport(ks *keystore.Store, r string) (map[string][]byte, error) {
	if r == "" {
		return nil, nil
	}
	repo, err := registry.ParseRepository(r)
	if err != nil {
		return nil, err
	}
	root, err := ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr())
	if errors.Is(err, keystore.ErrNoPinnedRoot) {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf("no root of %s is trusted in this signet home: export the bundle from the home that ran signet init, or pin the root first (signet trust pin)", repo.Name()))
	}
	if err != nil {
		return nil, err
	}
	return map[string][]byte{repo.Name(): root}, nil
}

// DeleteKey is `key delete`: it removes the keystore key name, refusing
// (errkind.Input) one that a root this machine trusts still lists unless
// force is set, and returns what was deleted.
func DeleteKey(ks *keystore.Store, name string, force bool) (keystore.KeyInfo, error) {
	info, err := ks.Get(name)
	if err != nil {
		return keystore.KeyInfo{}, err
	}
	if !force {
		uses, err := TrustedKeyUses(ks)
		if err != nil {
			return keystore.KeyInfo{}, err
		}
		if in := uses.ByKeyID[info.KeyID]; len(in) > 0 {
			where := make([]string, len(in))
			for i, u := range in {
				where[i] = fmt.Sprintf("%s of %s (root version %d)", u.Role, u.Repository, u.RootVersion)
			}
			return keystore.KeyInfo{}, errkind.Mark(errkind.Input, fmt.Errorf("key %s is still trusted as %s: rotate it out first (signet rotate R ROLE --remove-key %s), or pass --force",
				name, strings.Join(where, ", "), name))
		}
	}
	return info, ks.Delete(name)
}
