package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type refreshOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	Env  func(string) string // for NO_COLOR
	repo string
}

func newRefreshCmd(f *factory, runF func(*refreshOptions) error) *cobra.Command {
	opts := &refreshOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps, Env: f.Env}
	cmd := &cobra.Command{
		Use:   "refresh R",
		Short: "Re-sign snapshot and timestamp before they expire",
		Long: `Re-sign the snapshot and timestamp metadata of R with the online keys, so
clients do not see them expire between pushes. Run it from cron more often
than the timestamp period (default 7 days); it needs only the online keys
(SIGNET_KEY from 'signet key export --private --online R' in CI).`,
		Example: `  signet refresh registry.example.com/team/app`,
		Args:    exactArgs(1, "the repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.repo = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runRefresh(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runRefresh(ctx context.Context, opts *refreshOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Refresh(ctx, d, opts.repo)
	if err != nil {
		return err
	}
	return renderStatus(opts.IO, opts.JSON(), opts.Env, res)
}
