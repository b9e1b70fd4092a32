package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type pullOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.PullRequest
}

func newPullCmd(f *factory, runF func(*pullOptions) error) *cobra.Command {
	opts := &pullOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "pull R:T --to oci:DIR [--root FILE]",
		Short: "Verify a tag, then pull the image by its verified digest",
		Long: `Verify R:T as signet verify does, then pull the image by the verified
digest into an OCI image layout, so what lands on disk is what was signed
even if the tag moves in between. The image's entry in the layout's
index.json is named by the tag (org.opencontainers.image.ref.name, so
oci:DIR:T selects it); pulling the tag again replaces it.`,
		Example: `  signet pull registry.example.com/team/app:v1 --to oci:./app`,
		Args:    exactArgs(1, "R:T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Tag = args[0]
			if opts.req.To == "" {
				return usageError(cmd, fmt.Errorf("--to oci:DIR is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runPull(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.To, "to", "", "where to write the image: oci:`DIR`")
	cmd.Flags().StringVar(&opts.req.RootFile, "root", "", "trust this root.json `FILE` (pin) instead of the signet home's")
	return cmd
}

func runPull(ctx context.Context, opts *pullOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Pull(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fmt.Fprintln(opts.IO.Out, res.Digest)
	notice(opts.IO, "pulled %s into %s", res.Tag, opts.req.To)
	return nil
}
