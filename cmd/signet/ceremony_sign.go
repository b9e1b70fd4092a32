package main

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type ceremonySignOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.CeremonySignRequest
}

func newCeremonySignCmd(f *factory, runF func(*ceremonySignOptions) error) *cobra.Command {
	opts := &ceremonySignOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: ceremonyDeps(f)}
	cmd := &cobra.Command{
		Use:   "sign FILE --key REF",
		Short: "Add a key's signatures to a staged ceremony, offline",
		Long: `Sign every proposed file of the ceremony in FILE that needs the key REF
(a keystore name, yubikey, yubikey:SERIAL/SLOT, file:PATH, env:VAR) and
write FILE back. No registry is contacted. Check the changes and the
fingerprints shown by 'signet ceremony status FILE' before signing.`,
		Example: `  signet ceremony sign rotate-root.json --key yubikey:12345678/9c`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.File = args[0]
			if opts.req.Key == "" {
				return usageError(cmd, errors.New("--key REF is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runCeremonySign(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.Key, "key", "", "the signing key `REF`")
	return cmd
}

func runCeremonySign(ctx context.Context, opts *ceremonySignOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.CeremonySign(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "Signed %s in %s\n\n", strings.Join(res.SignedNow, ", "), res.File)
	if err := writeCeremonyStatus(opts.IO.Out, res); err != nil {
		return err
	}
	if res.Complete {
		notice(opts.IO, "every signature is here: publish with signet ceremony publish %s", res.File)
	}
	return nil
}
