package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
)

// keyChoice is the key a sign without --key uses: a targets key at hand
// signs as targets (held lists them; tuf finds them by key ID), else the
// one key at hand that a delegation matching every tag lists.
type keyChoice struct {
	role string
	held []signer.Held
}

// chooseKey picks who signs names when no --key was given. A targets key at
// hand wins (an owner's home); otherwise exactly one key at hand may be
// listed by a delegation whose paths match every name (CI with only
// SIGNET_KEY). None is an errkind.Key error and several an errkind.Input
// error; both name the roles that may sign, the keys at hand, and --key.
func chooseKey(ctx context.Context, res *signer.Resolver, r *tuf.Repo, names []string) (keyChoice, error) {
	held, err := res.AtHand(ctx)
	if err != nil {
		return keyChoice{}, err
	}
	roles := r.RolesFor(names)
	var targets []signer.Held
	for _, h := range held {
		if slices.Contains(roles[0].KeyIDs, h.KeyID) {
			targets = append(targets, h)
		}
	}
	if len(targets) > 0 {
		return keyChoice{role: metadata.TARGETS, held: targets}, nil
	}
	var found []keyChoice
	seen := map[string]bool{}
	for _, rk := range roles[1:] {
		for _, h := range held {
			if slices.Contains(rk.KeyIDs, h.KeyID) && !seen[h.KeyID] {
				seen[h.KeyID] = true
				found = append(found, keyChoice{role: rk.Role, held: []signer.Held{h}})
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return keyChoice{}, errkind.Mark(errkind.Key, fmt.Errorf("no key at hand may sign %s: %s may; keys at hand: %s; name the key with --key",
			strings.Join(names, " "), describeRoles(roles), signer.HeldNames(held)))
	}
	options := make([]string, len(found))
	for i, c := range found {
		options[i] = fmt.Sprintf("%s as %s", c.held[0], c.role)
	}
	return keyChoice{}, errkind.Mark(errkind.Input, fmt.Errorf("several keys at hand may sign %s (%s): choose one with --key NAME",
		strings.Join(names, " "), strings.Join(options, ", ")))
}

// describeRoles names roles with their keys: "targets (key 0123abcd4567),
// ci-release (keys ...)".
func describeRoles(roles []tuf.RoleKeys) string {
	parts := make([]string, len(roles))
	for i, rk := range roles {
		ids := keyid.Shorts(rk.KeyIDs)
		noun := "key"
		if len(ids) != 1 {
			noun = "keys"
		}
		parts[i] = fmt.Sprintf("%s (%s %s)", rk.Role, noun, strings.Join(ids, ", "))
	}
	return strings.Join(parts, ", ")
}

// announce is the notice saying which key a sign without --key chose.
func (c keyChoice) announce() string {
	return fmt.Sprintf("signing as %s with %s (no --key given)", c.role, signer.HeldNames(c.held))
}
