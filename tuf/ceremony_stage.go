package tuf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
)

// Stage turns the changes made to r (by Rotate) into a Ceremony instead of
// publishing them: the new root and every changed targets role get their
// next version and expiry, exactly as Publish would give them, and are
// signed with the keys of keys that bring a threshold up (keys not at hand
// are fine: others add them with Ceremony.Sign). A staged delegation always
// comes with its delegating targets role, so that the ceremony file holds
// the keys that must sign it. repository names the image repository, for
// the file. r must not be used after Stage.
func (r *Repo) Stage(ctx context.Context, keys Keyring, repository string) (*Ceremony, error) {
	if !r.rootChanged && len(r.changed) == 0 {
		return nil, errkind.Mark(errkind.Input, errors.New("nothing to stage"))
	}
	base, err := readRole(ctx, r.view, rootFile(r.root.Signed.Version), maxRootSize, metadata.Root())
	if err != nil {
		return nil, err
	}
	digest, err := rootDigest(base)
	if err != nil {
		return nil, err
	}
	now := r.now()
	exp := r.Expiries()
	c := &Ceremony{
		Repository: repository,
		Created:    now.UTC().Truncate(time.Second),
		Base:       CeremonyBase{RootVersion: base.Signed.Version, RootSHA256: digest, Roles: map[string]int64{}},
		baseRoot:   base,
		targets:    map[string]*metadata.Metadata[metadata.TargetsType]{},
	}
	if len(r.changed) > 0 {
		r.changed[metadata.TARGETS] = true
	}
	if r.rootChanged {
		r.root.Signed.Version++
		r.root.Signed.Expires = expiry(now, exp.Root)
		r.root.ClearSignatures()
		c.root = r.root
	}
	for role := range r.changed {
		m := r.targetsRole(role)
		if m == nil {
			return nil, fmt.Errorf("internal error: changed role %s is not loaded", role)
		}
		c.Base.Roles[role] = m.Signed.Version
		m.Signed.Version++
		m.Signed.Expires = expiry(now, exp.Targets)
		m.ClearSignatures()
		c.targets[role] = m
	}
	if err := c.checkShape(); err != nil {
		return nil, err
	}
	if err := c.sign(ctx, keys, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Lists reports whether any threshold of the ceremony lists keyID.
func (c *Ceremony) Lists(keyID string) bool {
	for _, t := range c.Thresholds() {
		if slices.Contains(t.KeyIDs, keyID) {
			return true
		}
	}
	return false
}

// Sign adds a signature by every key of keys that a threshold of a
// proposed file lists and that has not signed that file yet, even when
// the threshold is already met. It returns the proposed files it signed
// ("root", "targets", a delegation); none is not an error.
func (c *Ceremony) Sign(ctx context.Context, keys Keyring) ([]string, error) {
	before := map[string]int{}
	for _, name := range c.Proposed() {
		before[name] = len(c.signaturesOf(name))
	}
	if err := c.sign(ctx, keys, false); err != nil {
		return nil, err
	}
	var signed []string
	for _, name := range c.Proposed() {
		if len(c.signaturesOf(name)) > before[name] {
			signed = append(signed, name)
		}
	}
	return signed, nil
}

// sign signs each proposed file with the keys at hand among those its
// thresholds list: only as many as the thresholds still need when
// onlyNeeded is set, else every one that has not signed.
func (c *Ceremony) sign(ctx context.Context, keys Keyring, onlyNeeded bool) error {
	if err := unlock(ctx, keys, c.ceremonyKeys()); err != nil {
		return err
	}
	all := c.Thresholds()
	for _, name := range c.Proposed() {
		var need []Threshold
		for _, t := range all {
			if t.Metadata == name {
				if !onlyNeeded {
					t.Threshold = len(t.KeyIDs)
				}
				need = append(need, t)
			}
		}
		plan, _, err := signingPlan(ctx, keys, need)
		if err != nil {
			return err
		}
		var err2 error
		if name == metadata.ROOT {
			err2 = signPlanned(c.root, name, plan)
		} else {
			err2 = signPlanned(c.targets[name], name, plan)
		}
		if err2 != nil {
			return err2
		}
	}
	return nil
}

// incomplete returns a MissingKeysError (errkind.Verification) for the
// first proposed file whose thresholds are not all met.
func (c *Ceremony) incomplete() error {
	all := c.Thresholds()
	for _, name := range c.Proposed() {
		var file []Threshold
		met := true
		for _, t := range all {
			if t.Metadata == name {
				file = append(file, t)
				met = met && t.Met()
			}
		}
		if !met {
			return errkind.Mark(errkind.Verification, &MissingKeysError{Thresholds: file, Staged: true})
		}
	}
	return nil
}

// roleNames returns the keys of m sorted.
func roleNames(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
