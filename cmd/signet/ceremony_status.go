package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type ceremonyStatusOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	file string
}

func newCeremonyStatusCmd(f *factory, runF func(*ceremonyStatusOptions) error) *cobra.Command {
	opts := &ceremonyStatusOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: ceremonyDeps(f)}
	return &cobra.Command{
		Use:   "status FILE",
		Short: "Show who has signed a staged ceremony and who must still sign",
		Long: `Show what a staged ceremony proposes (the key changes, and a fingerprint of
each proposed file to compare with the person who staged it) and, per
threshold, which keys have signed and which must still sign: key IDs, with
names and YubiKey serials where this machine's keystore knows them. Needs no
registry and no passphrase.`,
		Example: `  signet ceremony status rotate-root.json`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCeremonyStatus(cmd.Context(), opts)
		},
	}
}

func runCeremonyStatus(ctx context.Context, opts *ceremonyStatusOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.CeremonyStatusOf(ctx, d, opts.file)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	return writeCeremonyStatus(opts.IO.Out, res)
}
