package tuf

import (
	"context"
	"errors"
	"fmt"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// ErrExists is returned by Init when the store already holds a repository.
var ErrExists = errors.New("trust data already exists")

// InitConfig describes a new repository: the keys of each top-level role
// (public halves; the Keyring signs), the root threshold and the expiries.
type InitConfig struct {
	RootKeys      []*metadata.Key
	RootThreshold int // default 1
	TargetsKeys   []*metadata.Key
	SnapshotKeys  []*metadata.Key
	TimestampKeys []*metadata.Key
	Expiries      Expiries // zero fields take the defaults
	// Bins, when not 0, puts tags into that many hash bins from the start
	// (a power of two; see ConvertToBins).
	Bins int
}

func (c *InitConfig) validate() error {
	if c.RootThreshold == 0 {
		c.RootThreshold = 1
	}
	for role, keys := range map[string][]*metadata.Key{
		metadata.ROOT: c.RootKeys, metadata.TARGETS: c.TargetsKeys,
		metadata.SNAPSHOT: c.SnapshotKeys, metadata.TIMESTAMP: c.TimestampKeys,
	} {
		if len(keys) == 0 {
			return fmt.Errorf("no %s key given", role)
		}
	}
	if c.RootThreshold < 1 || c.RootThreshold > len(c.RootKeys) {
		return fmt.Errorf("root threshold %d: must be between 1 and the number of root keys (%d)", c.RootThreshold, len(c.RootKeys))
	}
	def := DefaultExpiries()
	if c.Expiries.Root == 0 {
		c.Expiries.Root = def.Root
	}
	if c.Expiries.Targets == 0 {
		c.Expiries.Targets = def.Targets
	}
	if c.Expiries.Snapshot == 0 {
		c.Expiries.Snapshot = def.Snapshot
	}
	if c.Expiries.Timestamp == 0 {
		c.Expiries.Timestamp = def.Timestamp
	}
	return nil
}

// Init creates a repository in an empty store: root version 1 signed by
// the root keys the keyring holds (at least the threshold), an empty
// targets role, snapshot and timestamp, published in one step. It fails
// with ErrExists when the store already holds metadata.
func Init(ctx context.Context, store tufmeta.Store, cfg InitConfig, keys Keyring, opts ...RepoOption) (*Repo, error) {
	o, err := buildRepoOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	view, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	if len(view.Files()) > 0 {
		return nil, errkind.Mark(errkind.Input, ErrExists)
	}
	now := o.now()
	root := metadata.Root(expiry(now, cfg.Expiries.Root))
	root.Signed.UnrecognizedFields = map[string]any{policyField: cfg.Expiries.toField()}
	for role, list := range map[string][]*metadata.Key{
		metadata.ROOT: cfg.RootKeys, metadata.TARGETS: cfg.TargetsKeys,
		metadata.SNAPSHOT: cfg.SnapshotKeys, metadata.TIMESTAMP: cfg.TimestampKeys,
	} {
		for _, k := range list {
			if err := root.Signed.AddKey(k, role); err != nil {
				return nil, errkind.Mark(errkind.Input, fmt.Errorf("adding %s key: %w", role, err))
			}
		}
	}
	root.Signed.Roles[metadata.ROOT].Threshold = cfg.RootThreshold

	r := &Repo{
		view:      view,
		now:       o.now,
		opts:      o,
		root:      root,
		targets:   metadata.Targets(expiry(now, cfg.Expiries.Targets)),
		snapshot:  metadata.Snapshot(expiry(now, cfg.Expiries.Snapshot)),
		timestamp: metadata.Timestamp(expiry(now, cfg.Expiries.Timestamp)),
		delegated: map[string]*metadata.Metadata[metadata.TargetsType]{},
		changed:   map[string]bool{},
	}
	// Versions start at 1: publish bumps what changed, so start one below.
	r.targets.Signed.Version = 0
	r.snapshot.Signed.Version = 0
	r.timestamp.Signed.Version = 0
	r.changed[metadata.TARGETS] = true
	r.rootChanged = true
	r.root.Signed.Version = 0
	if cfg.Bins != 0 {
		if err := r.ConvertToBins(cfg.Bins); err != nil {
			return nil, err
		}
	}
	if err := r.Publish(ctx, keys); err != nil {
		return nil, err
	}
	return r, nil
}
