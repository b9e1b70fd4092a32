package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/keystore"
)

type trustPinOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	JSON     func() bool
	Now      func() time.Time

	Repository string
	Root       string // --root FILE ("-" is stdin)
}

func newTrustPinCmd(f *factory, runF func(*trustPinOptions) error) *cobra.Command {
	opts := &trustPinOptions{IO: f.IOStreams, Keystore: f.Keystore, JSON: f.Global.JSON, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "pin R --root FILE",
		Short: "Trust a TUF root for an image repository",
		Long: `Pin FILE, a TUF root.json, as the trusted root of repository R, replacing any
root trusted before. The file must be a root signed by a threshold of its
own root keys. Later roots are only accepted through the signed root chain.
Get the file from a trusted channel: on a machine that already trusts R
(the owner's, after 'signet init'), 'signet trust show R --raw > root.json'
writes it ('-o json' prints a summary, not the root).`,
		Example: `  signet trust pin registry.example.com/team/app --root root.json
  curl -s https://example.com/app-root.json | signet trust pin registry.example.com/team/app --root -`,
		Args: exactArgs(1, "one repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Repository = args[0]
			if opts.Root == "" {
				return usageError(cmd, errors.New("--root FILE is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrustPin(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Root, "root", "", "the root.json `FILE` to trust (\"-\" for stdin)")
	return cmd
}

func runTrustPin(ctx context.Context, opts *trustPinOptions) error {
	read := func() ([]byte, error) { return readInput(ctx, opts.IO, opts.Root, maxRootInput) }
	sum, err := app.PinRoot(opts.Keystore, opts.Repository, read, opts.Now())
	if err != nil {
		return err
	}
	if sum.Expired {
		notice(opts.IO, "warning: this root expired on %s; verification fails until a newer root is published", sum.Expires.Format(time.RFC3339))
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, sum)
	}
	notice(opts.IO, "pinned root version %d of %s (expires %s, fingerprint %s)", sum.Version, sum.Repository, sum.Expires.Format(time.RFC3339), sum.Fingerprint)
	return nil
}

// maxRootInput bounds the root.json `trust pin` reads.
const maxRootInput = 10 << 20
