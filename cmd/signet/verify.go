package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type verifyOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.VerifyRequest
}

func newVerifyCmd(f *factory, runF func(*verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "verify R:T [--root FILE]",
		Short: "Verify that a tag points at what was signed for it",
		Long: `Run a full TUF update for R's trust data (root chain, timestamp, snapshot,
targets, delegations) and check that R:T points now at the digest signed
for it. Prints the verified digest and exits 0 only on a match; exits 1
when verification fails, naming the attack it reveals (rollback, freeze,
mix-and-match, untrusted signature, tag moved).

The trusted root is --root FILE, else the one kept in the signet home (from
init, trust pin or an earlier verify). With neither, the repository's first
root is trusted on first use, which signet says on stderr: CI must pin.

When R's trust data has not changed since the last verify of R:T in this
signet home (same _tuf manifest, same trusted files, nothing expired),
signet answers what that full update concluded without running it again:
two requests, the manifest (304 Not Modified) and the tag.`,
		Example: `  signet verify registry.example.com/team/app:v1
  signet verify --root root.json registry.example.com/team/app:v1 -o json`,
		Args: exactArgs(1, "R:T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Tag = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.RootFile, "root", "", "trust this root.json `FILE` (pin) instead of the signet home's")
	return cmd
}

func runVerify(ctx context.Context, opts *verifyOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Verify(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fmt.Fprintln(opts.IO.Out, res.Digest)
	notice(opts.IO, "verified %s (signed by %s, root version %d)", res.Tag, res.Role, res.RootVersion)
	return nil
}
