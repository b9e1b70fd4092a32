package app

import (
	"context"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
)

// AddTargetUnchecked signs target into repository's targets role as the
// publisher d, without the checks Sign makes of the name: what a holder of
// a targets key could list, for tests of what readers make of it.
func AddTargetUnchecked(ctx context.Context, d *Deps, repository string, target tuf.Target) error {
	repo, err := registry.ParseRepository(repository)
	if err != nil {
		return err
	}
	store, err := d.store(repo)
	if err != nil {
		return err
	}
	res, err := d.Resolver()
	if err != nil {
		return err
	}
	_, err = d.update(ctx, repo, store, d.keyring(repo, res), func(r *tuf.Repo) error {
		return r.AddTargets(ctx, metadata.TARGETS, []tuf.Target{target})
	})
	return err
}
