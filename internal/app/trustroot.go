package app

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
)

// RootSummary is what `trust pin` and `trust show` report of a root
// (`-o json`, docs/usage.md).
type RootSummary struct {
	Repository         string    `json:"repository"`
	Version            int64     `json:"version"`
	Expires            time.Time `json:"expires"`
	Expired            bool      `json:"expired"`
	ConsistentSnapshot bool      `json:"consistentSnapshot"`
	// Fingerprint is tuf.RootFingerprint: compare it out of band.
	Fingerprint string              `json:"fingerprint"`
	Roles       map[string]RootRole `json:"roles"`
}

// RootRole is one role of a RootSummary.
type RootRole struct {
	Threshold int       `json:"threshold"`
	Keys      []RootKey `json:"keys"`
}

// RootKey is one key of a RootRole.
type RootKey struct {
	KeyID  string `json:"keyid"`
	Type   string `json:"type"`
	Scheme string `json:"scheme"`
}

// TopRoles are the roles of a root, in the order they are shown.
func TopRoles() []string {
	return []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP}
}

// PinRoot is `trust pin`: it checks the root.json that read returns
// (tuf.ParseRoot) and keeps it as the root the keystore trusts for
// repository, replacing any root trusted before.
func PinRoot(keys func() (*keystore.Store, error), repository string, read func() ([]byte, error), now time.Time) (*RootSummary, error) {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return nil, err
	}
	rootJSON, err := read()
	if err != nil {
		return nil, err
	}
	root, err := tuf.ParseRoot(rootJSON)
	if re := (*tuf.RootError)(nil); errors.As(err, &re) {
		if re.Unsigned {
			return nil, errkind.Mark(errkind.Verification, fmt.Errorf("root is not signed by a threshold of its own root keys: %w", re.Err))
		}
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("not a TUF root.json (signet trust show R --raw prints one; -o json is a summary): %w", re.Err))
	}
	if err != nil {
		return nil, err
	}
	ks, err := keys()
	if err != nil {
		return nil, err
	}
	if err := ks.PinRoot(repo.RegistryStr(), repo.RepositoryStr(), rootJSON); err != nil {
		return nil, err
	}
	return summarizeRoot(repo.Name(), root, now), nil
}

// TrustedRoot is `trust show`: the root ks trusts for repository, as it
// is kept and summarized. No trusted root is an errkind.Verification
// error saying how to pin one.
func TrustedRoot(keys func() (*keystore.Store, error), repository string, now time.Time) (rootJSON []byte, sum *RootSummary, err error) {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return nil, nil, err
	}
	ks, err := keys()
	if err != nil {
		return nil, nil, err
	}
	data, err := ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr())
	if errors.Is(err, keystore.ErrNoPinnedRoot) {
		return nil, nil, errkind.Mark(errkind.Verification, fmt.Errorf("no trusted root for %s: pin one with 'signet trust pin %s --root FILE'", repo.Name(), repo.Name()))
	}
	if err != nil {
		return nil, nil, err
	}
	root, err := metadata.Root().FromBytes(data)
	if err != nil {
		return nil, nil, errkind.Mark(errkind.Key, fmt.Errorf("trusted root of %s is corrupt (run 'signet trust forget %s' and pin it again): %w", repo.Name(), repo.Name(), err))
	}
	return data, summarizeRoot(repo.Name(), root, now), nil
}

// ForgetRoot is `trust forget`: ks no longer trusts a root for
// repository. It returns the repository's canonical name.
func ForgetRoot(keys func() (*keystore.Store, error), repository string) (name.Repository, error) {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return name.Repository{}, err
	}
	ks, err := keys()
	if err != nil {
		return name.Repository{}, err
	}
	return repo, ks.ForgetRoot(repo.RegistryStr(), repo.RepositoryStr())
}

func summarizeRoot(repo string, root *metadata.Metadata[metadata.RootType], now time.Time) *RootSummary {
	s := root.Signed
	out := &RootSummary{
		Repository:         repo,
		Version:            s.Version,
		Expires:            s.Expires.UTC(),
		Expired:            !now.Before(s.Expires),
		ConsistentSnapshot: s.ConsistentSnapshot,
		Roles:              map[string]RootRole{},
	}
	out.Fingerprint, _ = tuf.RootFingerprint(root) // "" only for a root that cannot be encoded
	for name, role := range s.Roles {
		if role == nil {
			continue
		}
		rs := RootRole{Threshold: role.Threshold, Keys: []RootKey{}}
		ids := append([]string(nil), role.KeyIDs...)
		sort.Strings(ids)
		for _, id := range ids {
			ks := RootKey{KeyID: id}
			if k := s.Keys[id]; k != nil {
				ks.Type, ks.Scheme = k.Type, k.Scheme
			}
			rs.Keys = append(rs.Keys, ks)
		}
		out.Roles[name] = rs
	}
	return out
}
