package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// openRepo loads the repository's metadata as it is published now.
func openRepo(ctx context.Context, d *Deps, repository string, mode trustMode) (name.Repository, *tuf.Repo, bool, error) {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return repo, nil, false, err
	}
	store, err := d.store(repo)
	if err != nil {
		return repo, nil, false, err
	}
	r, t, err := d.open(ctx, repo, store, mode)
	if err != nil {
		return repo, nil, false, withRepo(err, repo)
	}
	if !t.pinned {
		d.notice("no root of %s is pinned on this machine: what follows is what the registry's own first root leads to, not verified against a trusted root (pin it with signet trust pin)", repo.Name())
	} else {
		d.keepTrust(ctx, repo, t, r)
	}
	return repo, r, t.pinned, nil
}

// KeyInfo is one key of a role, with its keystore name when this machine
// knows it.
type KeyInfo struct {
	KeyID string `json:"keyid"`
	Name  string `json:"name,omitempty"`
}

// RoleSummary is a role with its keys, for inspect.
type RoleSummary struct {
	Name      string    `json:"role"`
	Version   int64     `json:"version"`
	Expires   time.Time `json:"expires"`
	Threshold int       `json:"threshold"`
	Keys      []KeyInfo `json:"keys"`
	Paths     []string  `json:"paths,omitempty"`
	// Terminating is set for a terminating delegation.
	Terminating bool `json:"terminating"`
}

// InspectResult is `signet inspect R`.
type InspectResult struct {
	Repository string `json:"repository"`
	// Pinned is false when no root of the repository is trusted on this
	// machine: what is shown then starts from the registry's own first
	// root and was verified against nothing this machine trusts.
	Pinned  bool          `json:"pinned"`
	Targets []tuf.Target  `json:"targets"`
	Roles   []RoleSummary `json:"roles"`
}

// Inspect lists the signed tags with the role that signed each, and every
// role with its keys, threshold and expiry.
func Inspect(ctx context.Context, d *Deps, repository string) (*InspectResult, error) {
	repo, r, pinned, err := openRepo(ctx, d, repository, mayDisplay)
	if err != nil {
		return nil, err
	}
	targets, err := r.ListTargets(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := r.Roles(ctx)
	if err != nil {
		return nil, err
	}
	names := d.keyNames()
	out := &InspectResult{Repository: repo.Name(), Pinned: pinned, Targets: targets}
	if out.Targets == nil {
		out.Targets = []tuf.Target{}
	}
	for _, ri := range roles {
		rs := RoleSummary{Name: ri.Name, Version: ri.Version, Expires: ri.Expires, Threshold: ri.Threshold, Paths: ri.Paths, Terminating: ri.Terminating}
		for _, id := range ri.KeyIDs {
			rs.Keys = append(rs.Keys, KeyInfo{KeyID: id, Name: names[id]})
		}
		out.Roles = append(out.Roles, rs)
	}
	return out, nil
}

// keyNames maps key IDs to keystore names, best effort: inspect works on a
// machine with no keystore too.
func (d *Deps) keyNames() map[string]string {
	out := map[string]string{}
	for id, k := range d.keyInfos() {
		out[id] = k.Name
	}
	return out
}

// RevokeRequest is `signet revoke R:T`.
type RevokeRequest struct {
	Tag string
	Key string // key reference; empty: whichever key of the signing role is at hand
}

// Revoke removes a tag's signature, so verify of R:T fails from then on.
func Revoke(ctx context.Context, d *Deps, req RevokeRequest) (*Signed, error) {
	tag, err := parseTagRef(req.Tag)
	if err != nil {
		return nil, err
	}
	repo := tag.Context()
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	kr := d.keyring(repo, res)
	if req.Key != "" {
		k, err := res.Resolve(ctx, req.Key)
		if err != nil {
			return nil, err
		}
		kr = d.namedKeyring(repo, res, k)
	}
	var removed tuf.Target
	_, err = d.update(ctx, repo, store, kr, func(r *tuf.Repo) error {
		list, err := r.ListTargets(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, t := range list {
			if t.Name != tag.TagStr() {
				continue
			}
			found, removed = true, t
			if _, err := r.RemoveTargets(ctx, t.Role, []string{t.Name}); err != nil {
				return err
			}
		}
		if !found {
			return errkind.Mark(errkind.Input, fmt.Errorf("%s is not signed: nothing to revoke", tag))
		}
		return nil
	})
	if err != nil {
		return nil, withRepo(err, repo)
	}
	return &Signed{Tag: tag.String(), Digest: "sha256:" + removed.SHA256, Size: removed.Length, MediaType: removed.MediaType, Role: removed.Role}, nil
}

// Refresh re-signs snapshot and timestamp (from cron, before they expire).
func Refresh(ctx context.Context, d *Deps, repository string) (*StatusResult, error) {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return nil, err
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	r, err := d.update(ctx, repo, store, d.keyring(repo, res), nil)
	if err != nil {
		return nil, withRepo(err, repo)
	}
	out, err := statusOf(ctx, d, repo, r)
	if err != nil {
		return nil, err
	}
	out.Pinned = true
	// Snapshot and timestamp were just re-signed for their whole period:
	// one still inside its warning window has a period shorter than the
	// window, and running refresh again would not change that.
	for i, st := range out.Roles {
		if st.Role == metadata.SNAPSHOT || st.Role == metadata.TIMESTAMP {
			out.Roles[i].Advice = ""
		}
	}
	return out, nil
}

// Warning windows of docs/design.md §1: how long before expiry status warns.
var warnBefore = map[string]time.Duration{
	metadata.ROOT:      30 * 24 * time.Hour,
	metadata.TARGETS:   30 * 24 * time.Hour,
	metadata.SNAPSHOT:  7 * 24 * time.Hour,
	metadata.TIMESTAMP: 2 * 24 * time.Hour,
}

// RoleStatus is one role's expiry state: "ok", "expiring" or "expired".
type RoleStatus struct {
	Role    string        `json:"role"`
	Version int64         `json:"version"`
	Expires time.Time     `json:"expires"`
	State   string        `json:"state"`
	Left    time.Duration `json:"-"`
	Advice  string        `json:"advice,omitempty"`
}

// StatusResult is `signet status R`; Expired counts expired roles.
type StatusResult struct {
	Repository string `json:"repository"`
	// Pinned is false when no root of the repository is trusted on this
	// machine (see InspectResult.Pinned).
	Pinned bool `json:"pinned"`
	// FastForwarded counts roles whose version is absurd (above
	// tufmeta.AbsurdVersion): the mark of a stolen online key.
	FastForwarded int          `json:"fastForwarded,omitempty"`
	Roles         []RoleStatus `json:"roles"`
	Expired       int          `json:"expired"`
	Expiring      int          `json:"expiring"`
}

// Status reports every role's expiry, warning docs/design.md §1's windows ahead.
func Status(ctx context.Context, d *Deps, repository string) (*StatusResult, error) {
	repo, r, pinned, err := openRepo(ctx, d, repository, mayDisplay)
	if err != nil {
		return nil, err
	}
	out, err := statusOf(ctx, d, repo, r)
	if err != nil {
		return nil, err
	}
	out.Pinned = pinned
	return out, nil
}

func statusOf(ctx context.Context, d *Deps, repo name.Repository, r *tuf.Repo) (*StatusResult, error) {
	roles, err := r.Roles(ctx)
	if err != nil {
		return nil, err
	}
	now := d.now()
	out := &StatusResult{Repository: repo.Name()}
	for _, ri := range roles {
		window, ok := warnBefore[ri.Name]
		if !ok {
			window = warnBefore[metadata.TARGETS]
		}
		st := RoleStatus{Role: ri.Name, Version: ri.Version, Expires: ri.Expires, Left: ri.Expires.Sub(now), State: "ok"}
		switch {
		case !now.Before(ri.Expires):
			st.State = "expired"
			out.Expired++
		case st.Left < window:
			st.State = "expiring"
			out.Expiring++
		}
		if ri.Version > tufmeta.AbsurdVersion {
			st.State = "fast-forwarded"
			out.FastForwarded++
		}
		if st.State != "ok" {
			st.Advice = renewAdvice(ri.Name, repo.Name())
		}
		if st.State == "fast-forwarded" {
			st.Advice = "a stolen key pushed the version out of reach: signet rotate " + repo.Name() + " " + ri.Name + " (docs/rotation.md)"
		}
		out.Roles = append(out.Roles, st)
	}
	return out, nil
}

func renewAdvice(role, repo string) string {
	switch role {
	case metadata.SNAPSHOT, metadata.TIMESTAMP:
		return "run signet refresh " + repo + " (from cron)"
	case metadata.ROOT:
		return "run signet rotate " + repo + " root to re-sign it"
	default:
		return "sign any tag, or run signet rotate " + repo + " " + strings.TrimSpace(role) + ", to re-sign it"
	}
}
