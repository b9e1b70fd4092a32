package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/keystore"
)

type trustForgetOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)

	Repository string
}

func newTrustForgetCmd(f *factory, runF func(*trustForgetOptions) error) *cobra.Command {
	opts := &trustForgetOptions{IO: f.IOStreams, Keystore: f.Keystore}
	return &cobra.Command{
		Use:   "forget R",
		Short: "Stop trusting the root of an image repository",
		Long: `Remove the trusted root and other trusted metadata of repository R. The next
'signet verify' of R trusts the root it finds (trust on first use) unless a
root is pinned again. Forgetting a repository that is not trusted is not an
error.`,
		Example: `  signet trust forget registry.example.com/team/app`,
		Args:    exactArgs(1, "one repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Repository = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runTrustForget(cmd.Context(), opts)
		},
	}
}

func runTrustForget(_ context.Context, opts *trustForgetOptions) error {
	repo, err := app.ForgetRoot(opts.Keystore, opts.Repository)
	if err != nil {
		return err
	}
	notice(opts.IO, "forgot the trusted root of %s", repo.Name())
	return nil
}
