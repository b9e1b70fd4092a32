package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type delegateRemoveOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.DelegateRemoveRequest
}

func newDelegateRemoveCmd(f *factory, runF func(*delegateRemoveOptions) error) *cobra.Command {
	opts := &delegateRemoveOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "remove R NAME",
		Short: "Stop delegating to a role",
		Long: `Remove the delegation NAME from R, signed by the targets key. Tags that
only NAME signed no longer verify; they are listed. This is how to cut off a
stolen or retired CI key; re-add the delegation with a new key and re-sign
the tags to restore them.`,
		Example: `  signet delegate remove registry.example.com/team/app ci-release`,
		Args:    exactArgs(2, "the repository R and the delegation NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Repository, opts.req.Name = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runDelegateRemove(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runDelegateRemove(ctx context.Context, opts *delegateRemoveOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.DelegateRemove(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "Removed delegation %s from %s\n", res.Delegation.Name, res.Repository)
	if len(res.Unsigned) > 0 {
		notice(opts.IO, "these tags are no longer signed: %s", strings.Join(res.Unsigned, " "))
	}
	return nil
}
