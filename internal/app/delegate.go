package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
)

// DefaultDelegationPaths is what a delegation covers when no --paths is
// given: every tag.
var DefaultDelegationPaths = []string{"*"}

// DelegateAddRequest is `signet delegate add R NAME`.
type DelegateAddRequest struct {
	Repository string
	Name       string
	// KeyRefs are key references (keystore names, yubikey:..., file:...)
	// of the delegated keys; only their public halves are needed.
	KeyRefs []string
	// PublicKeyFiles are PEM public keys of the delegated keys.
	PublicKeyFiles []string
	// Paths are tag globs (v*, release-*); empty means
	// DefaultDelegationPaths.
	Paths []string
	// Threshold is how many of the keys must sign; 0 means 1.
	Threshold   int
	Terminating bool
}

// DelegationInfo is one delegation with its keys named where this
// machine knows them.
type DelegationInfo struct {
	Name        string    `json:"role"`
	Keys        []KeyInfo `json:"keys"`
	Threshold   int       `json:"threshold"`
	Paths       []string  `json:"paths"`
	Terminating bool      `json:"terminating"`
	Version     int64     `json:"version"`
	Expires     time.Time `json:"expires"`
	// Signatures counts the role's keys whose signatures on its current
	// metadata verify; below Threshold, clients refuse its tags.
	Signatures int `json:"signatures"`
	Targets    int `json:"targets"`
	// Bins: the role signs new tags into hash bins of its own.
	Bins bool `json:"bins,omitempty"`
}

// DelegateResult is what delegate add or remove did.
type DelegateResult struct {
	Repository string         `json:"repository"`
	Delegation DelegationInfo `json:"delegation"`
	// Unsigned lists, after a remove, the tags that only the removed role
	// signed: they no longer verify.
	Unsigned []string `json:"unsigned,omitempty"`
}

// DelegateListResult is `signet delegate list R`.
type DelegateListResult struct {
	Repository  string           `json:"repository"`
	Delegations []DelegationInfo `json:"delegations"`
}

// DelegateAdd delegates the tags matching req.Paths to a new role signed
// by req.Threshold of the given keys. The targets key signs the change (a
// YubiKey touch when it is on one); the new role's first, empty metadata
// is signed by whichever of its keys this machine holds. When it holds
// none, a notice says that the role's tags fail verification until a
// holder signs.
func DelegateAdd(ctx context.Context, d *Deps, req DelegateAddRequest) (*DelegateResult, error) {
	repo, err := registry.ParseRepository(req.Repository)
	if err != nil {
		return nil, err
	}
	if len(req.KeyRefs)+len(req.PublicKeyFiles) == 0 {
		return nil, errkind.Mark(errkind.Input, errors.New("delegate add needs at least one --key or --public-key"))
	}
	paths := req.Paths
	if len(paths) == 0 {
		paths = DefaultDelegationPaths
	}
	threshold := req.Threshold
	if threshold == 0 {
		threshold = 1
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	refs := append([]string(nil), req.KeyRefs...)
	for _, f := range req.PublicKeyFiles {
		refs = append(refs, "file:"+f)
	}
	keys := make([]*metadata.Key, 0, len(refs))
	for _, ref := range refs {
		k, err := res.ResolvePublic(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("delegated key %s: %w", ref, err)
		}
		keys = append(keys, k.Public)
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	r, err := d.update(ctx, repo, store, d.keyring(repo, res), func(r *tuf.Repo) error {
		return r.AddDelegation(req.Name, keys, paths, threshold, req.Terminating)
	})
	if err != nil {
		return nil, withRepo(err, repo)
	}
	info, err := delegationInfo(ctx, d, r, req.Name)
	if err != nil {
		return nil, err
	}
	if info.Signatures < info.Threshold {
		d.notice("%s has %d of %d signatures: tags matching %s that targets does not sign fail verification until holders of its keys run signet sign",
			info.Name, info.Signatures, info.Threshold, strings.Join(info.Paths, ","))
	}
	return &DelegateResult{Repository: repo.Name(), Delegation: *info}, nil
}

// DelegateRemoveRequest is `signet delegate remove R NAME`.
type DelegateRemoveRequest struct {
	Repository string
	Name       string
}

// DelegateRemove stops delegating to a role, signed by the targets key:
// tags only that role signed no longer verify (they are listed in the
// result). This is how owners cut off a stolen CI key.
func DelegateRemove(ctx context.Context, d *Deps, req DelegateRemoveRequest) (*DelegateResult, error) {
	repo, err := registry.ParseRepository(req.Repository)
	if err != nil {
		return nil, err
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	var removed *DelegationInfo
	var unsigned []string
	_, err = d.update(ctx, repo, store, d.keyring(repo, res), func(r *tuf.Repo) error {
		info, err := delegationInfo(ctx, d, r, req.Name)
		if errors.Is(err, tuf.ErrNoDelegation) {
			return errkind.Mark(errkind.Input, fmt.Errorf("%s has no delegation named %s (see signet delegate list %s)", repo.Name(), req.Name, repo.Name()))
		}
		if err != nil {
			return err
		}
		before, err := r.ListTargets(ctx)
		if err != nil {
			return err
		}
		if err := r.RemoveDelegation(req.Name); err != nil {
			return err
		}
		removed, unsigned = info, onlySignedBy(before, req.Name)
		return nil
	})
	if err != nil {
		return nil, withRepo(err, repo)
	}
	return &DelegateResult{Repository: repo.Name(), Delegation: *removed, Unsigned: unsigned}, nil
}

// onlySignedBy returns the tags of list that role signs and no other role.
func onlySignedBy(list []tuf.Target, role string) []string {
	others := map[string]bool{}
	for _, t := range list {
		if t.Role != role {
			others[t.Name] = true
		}
	}
	var out []string
	for _, t := range list {
		if t.Role == role && !others[t.Name] {
			out = append(out, t.Name)
		}
	}
	return out
}

// DelegateList lists the delegations of a repository in the order clients
// consult them.
func DelegateList(ctx context.Context, d *Deps, repository string) (*DelegateListResult, error) {
	repo, r, _, err := openRepo(ctx, d, repository, mayDisplay)
	if err != nil {
		return nil, err
	}
	ds, err := r.Delegations(ctx)
	if err != nil {
		return nil, err
	}
	names := d.keyNames()
	out := &DelegateListResult{Repository: repo.Name(), Delegations: []DelegationInfo{}}
	for _, dl := range ds {
		out.Delegations = append(out.Delegations, toDelegationInfo(dl, names))
	}
	return out, nil
}

// delegationInfo describes the delegation name of r; an error wrapping
// tuf.ErrNoDelegation when there is none.
func delegationInfo(ctx context.Context, d *Deps, r *tuf.Repo, name string) (*DelegationInfo, error) {
	ds, err := r.Delegations(ctx)
	if err != nil {
		return nil, err
	}
	for _, dl := range ds {
		if dl.Name == name {
			info := toDelegationInfo(dl, d.keyNames())
			return &info, nil
		}
	}
	return nil, errkind.Mark(errkind.Input, fmt.Errorf("%w: %s", tuf.ErrNoDelegation, name))
}

func toDelegationInfo(dl tuf.Delegation, names map[string]string) DelegationInfo {
	info := DelegationInfo{Name: dl.Name, Threshold: dl.Threshold, Paths: dl.Paths, Terminating: dl.Terminating,
		Version: dl.Version, Expires: dl.Expires, Signatures: dl.Signatures, Targets: dl.Targets, Bins: dl.Bins}
	for _, id := range dl.KeyIDs {
		info.Keys = append(info.Keys, KeyInfo{KeyID: id, Name: names[id]})
	}
	return info
}

// noticePending tells a signer whose publish left a delegated role below
// its threshold who must sign next.
func noticePending(d *Deps, r *tuf.Repo, tags []string) {
	for _, p := range r.Pending() {
		d.notice("%s needs %d signatures, has %d: ask another holder of its keys to run signet sign %s",
			p.Role, p.Threshold, p.Signatures, strings.Join(tags, " "))
	}
}
