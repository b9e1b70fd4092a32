package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type ceremonyPublishOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	file string
}

func newCeremonyPublishCmd(f *factory, runF func(*ceremonyPublishOptions) error) *cobra.Command {
	opts := &ceremonyPublishOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "publish FILE",
		Short: "Publish a staged ceremony once every threshold is met",
		Long: `Publish the metadata of the ceremony in FILE, with a new snapshot and
timestamp signed by the online keys. It refuses, with exit code 1, while a
threshold is not met, and with exit code 2 when the repository has moved on
since the ceremony was staged (a newer root, or a newer version of a targets
role the ceremony replaces): stage the change again.`,
		Example: `  signet ceremony publish rotate-root.json`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCeremonyPublish(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runCeremonyPublish(ctx context.Context, opts *ceremonyPublishOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.CeremonyPublish(ctx, d, opts.file)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "Published %s of %s (root version %d)\n", strings.Join(res.Published, ", "), res.Repository, res.RootVersion)
	return nil
}
