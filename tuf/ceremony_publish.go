package tuf

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/ctxsleep"
	"github.com/signet-dev/signet/internal/errkind"
)

// PublishCeremony publishes a ceremony whose every threshold is met: the
// proposed root and targets roles exactly as signed, with a new snapshot
// and timestamp signed by keys (the online keys of the proposed root). It
// refuses
//   - a ceremony with a threshold not met: a *MissingKeysError marked
//     errkind.Verification (nothing is published until every required key
//     has signed);
//   - proposed metadata that has expired (errkind.Input: stage it again);
//   - a repository that moved on (ErrBaseMoved, errkind.Input): its root is
//     not the base root any more, or a staged targets role has a new
//     version. A refresh or a push to roles the ceremony does not replace
//     does not matter.
//
// Like Update, it starts again from the newest metadata when another
// publisher wins a race.
func PublishCeremony(ctx context.Context, store Store, c *Ceremony, keys Keyring, opts ...RepoOption) (*Repo, error) {
	if err := c.incomplete(); err != nil {
		return nil, err
	}
	var lastErr error
	var took time.Duration
	for attempt := 0; attempt < maxPublishAttempts; attempt++ {
		if attempt > 0 {
			// Publishers that collided spread out, as in Update.
			if err := ctxsleep.Sleep(ctx, updateBackoff(attempt, took)); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		r, err := Open(ctx, store, opts...)
		if err != nil {
			return nil, err
		}
		if err := r.checkCeremony(ctx, c); err != nil {
			return nil, err
		}
		err = r.publishStaged(ctx, c, keys)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		lastErr, took = err, time.Since(start)
	}
	return nil, errkind.Mark(errkind.Registry, fmt.Errorf("gave up after %d attempts: %w", maxPublishAttempts, lastErr))
}

// checkCeremony checks that c applies to r as published now, is signed
// by the thresholds of go-tuf's own checks and has not expired.
func (r *Repo) checkCeremony(ctx context.Context, c *Ceremony) error {
	digest, err := rootDigest(r.root)
	if err != nil {
		return err
	}
	if r.root.Signed.Version != c.Base.RootVersion || digest != c.Base.RootSHA256 {
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: root is at version %d, the ceremony was staged on version %d: stage the change again", ErrBaseMoved, r.root.Signed.Version, c.Base.RootVersion))
	}
	for _, name := range roleNames(c.Base.Roles) {
		var now int64
		if name == metadata.TARGETS {
			now = r.targets.Signed.Version
		} else if meta, ok := r.snapshot.Signed.Meta[name+".json"]; ok {
			now = meta.Version
		}
		if now != c.Base.Roles[name] {
			return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s is at version %d, the ceremony was staged on version %d: stage the change again", ErrBaseMoved, name, now, c.Base.Roles[name]))
		}
	}
	if c.root != nil {
		if r.root.VerifyDelegate(metadata.ROOT, c.root) != nil || c.root.VerifyDelegate(metadata.ROOT, c.root) != nil {
			return errkind.Mark(errkind.Verification, fmt.Errorf("the proposed root is not signed by a threshold of the current and of its own root keys"))
		}
	}
	signer := r.root
	if c.root != nil {
		signer = c.root
	}
	if t := c.targets[metadata.TARGETS]; t != nil {
		if signer.VerifyDelegate(metadata.TARGETS, t) != nil {
			return errkind.Mark(errkind.Verification, fmt.Errorf("the proposed targets is not signed by a threshold of the targets keys"))
		}
		for name, m := range c.targets {
			if name != metadata.TARGETS && t.VerifyDelegate(name, m) != nil {
				return errkind.Mark(errkind.Verification, fmt.Errorf("the proposed %s is not signed by a threshold of its delegated keys", name))
			}
		}
	}
	now := r.now()
	for _, name := range c.Proposed() {
		_, exp, _ := c.File(name)
		if !now.Before(exp) {
			return errkind.Mark(errkind.Input, fmt.Errorf("the proposed %s expired at %s: stage the change again", name, exp.UTC().Format("2006-01-02T15:04:05Z")))
		}
	}
	return nil
}

// publishStaged publishes c's files as signed, then a new snapshot and
// timestamp.
func (r *Repo) publishStaged(ctx context.Context, c *Ceremony, keys Keyring) error {
	if err := unlock(ctx, keys, r.onlineKeys()); err != nil {
		return err
	}
	now := r.now()
	put := map[string][]byte{}
	var remove []string
	if c.root != nil {
		data, err := c.root.ToBytes(false)
		if err != nil {
			return fmt.Errorf("encoding root: %w", err)
		}
		put[rootFile(c.root.Signed.Version)] = data
		r.root = c.root
	}
	for _, name := range c.Proposed() {
		m, ok := c.targets[name]
		if !ok {
			continue
		}
		data, err := m.ToBytes(false)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", name, err)
		}
		put[versioned(m.Signed.Version, name)] = data
		if old := c.Base.Roles[name]; old > 0 {
			remove = append(remove, versioned(old, name))
		}
		r.snapshot.Signed.Meta[name+".json"] = snapshotMeta(name, m.Signed.Version, data)
		if name == metadata.TARGETS {
			r.targets = m
		} else {
			r.delegated[name] = m
		}
	}

	return r.publishWithSnapshot(ctx, keys, now, put, remove)
}
