package main

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
)

func newTrustCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("trust <command>", "Manage the trusted roots of image repositories",
		`Manage the TUF roots signet trusts, one per image repository, kept under
trust/<registry>/<repository>/root.json in the signet home.

Without a pinned root, the first 'signet verify' of a repository trusts the
root it finds (trust on first use) and says so. CI should pin the root
instead: a pinned root only moves forward through the signed root chain.`)
	cmd.Example = `  signet trust pin registry.example.com/team/app --root root.json
  signet trust show registry.example.com/team/app
  signet trust forget registry.example.com/team/app`
	cmd.AddCommand(
		newTrustPinCmd(f, nil),
		newTrustShowCmd(f, nil),
		newTrustForgetCmd(f, nil),
	)
	return cmd
}

// parseRoot reads a TUF root.json and checks that it is signed by a
// threshold of its own root keys.
func parseRoot(data []byte) (*metadata.Metadata[metadata.RootType], error) {
	root, err := (&metadata.Metadata[metadata.RootType]{}).FromBytes(data)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("not a TUF root.json (signet trust show R --raw prints one; -o json is a summary): %w", err))
	}
	if root.Signed.Roles[metadata.ROOT] == nil {
		return nil, errkind.Mark(errkind.Input, errors.New("not a TUF root.json: it has no root role (signet trust show R --raw prints one)"))
	}
	if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf("root is not signed by a threshold of its own root keys: %w", err))
	}
	return root, nil
}

// rootSummary is what `trust show -o json` prints.
type rootSummary struct {
	Repository         string    `json:"repository"`
	Version            int64     `json:"version"`
	Expires            time.Time `json:"expires"`
	Expired            bool      `json:"expired"`
	ConsistentSnapshot bool      `json:"consistentSnapshot"`
	// Fingerprint is tuf.RootFingerprint: compare it out of band.
	Fingerprint string                 `json:"fingerprint"`
	Roles       map[string]roleSummary `json:"roles"`
}

type roleSummary struct {
	Threshold int          `json:"threshold"`
	Keys      []keySummary `json:"keys"`
}

type keySummary struct {
	KeyID  string `json:"keyid"`
	Type   string `json:"type"`
	Scheme string `json:"scheme"`
}

// topRoles returns the roles of a root, in the order they are shown.
func topRoles() []string {
	return []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP}
}

func summarizeRoot(repo string, root *metadata.Metadata[metadata.RootType], now time.Time) rootSummary {
	s := root.Signed
	out := rootSummary{
		Repository:         repo,
		Version:            s.Version,
		Expires:            s.Expires.UTC(),
		Expired:            !now.Before(s.Expires),
		ConsistentSnapshot: s.ConsistentSnapshot,
		Roles:              map[string]roleSummary{},
	}
	out.Fingerprint, _ = tuf.RootFingerprint(root) // "" only for a root that cannot be encoded
	for name, role := range s.Roles {
		if role == nil {
			continue
		}
		rs := roleSummary{Threshold: role.Threshold, Keys: []keySummary{}}
		ids := append([]string(nil), role.KeyIDs...)
		sort.Strings(ids)
		for _, id := range ids {
			ks := keySummary{KeyID: id}
			if k := s.Keys[id]; k != nil {
				ks.Type, ks.Scheme = k.Type, k.Scheme
			}
			rs.Keys = append(rs.Keys, ks)
		}
		out.Roles[name] = rs
	}
	return out
}

// trustRepository parses R into what the keystore keys trust data by.
func trustRepository(r string) (name.Repository, error) {
	return registry.ParseRepository(r)
}

// pinnedRoot reads and parses the pinned root of repo; a repository without
// one says how to pin it.
func pinnedRoot(store *keystore.Store, repo name.Repository) (*metadata.Metadata[metadata.RootType], error) {
	data, err := store.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr())
	if errors.Is(err, keystore.ErrNoPinnedRoot) {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf("no trusted root for %s: pin one with 'signet trust pin %s --root FILE'", repo.Name(), repo.Name()))
	}
	if err != nil {
		return nil, err
	}
	root, err := (&metadata.Metadata[metadata.RootType]{}).FromBytes(data)
	if err != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("trusted root of %s is corrupt (run 'signet trust forget %s' and pin it again): %w", repo.Name(), repo.Name(), err))
	}
	return root, nil
}
