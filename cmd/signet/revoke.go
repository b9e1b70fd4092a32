package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
)

type revokeOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	// Prompter confirms the revocation; NoInput is --no-input.
	Prompter func() Prompter
	NoInput  func() bool
	req      app.RevokeRequest
	yes      bool
}

func newRevokeCmd(f *factory, runF func(*revokeOptions) error) *cobra.Command {
	opts := &revokeOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps, Prompter: f.Prompter, NoInput: func() bool { return f.Global.NoInput }}
	cmd := &cobra.Command{
		Use:   "revoke R:T [--yes]",
		Short: "Remove a tag's signature",
		Long: `Remove the signature of R:T from the trust data, so verify of R:T fails
from now on. The image itself stays in the registry. Asks for confirmation
on a terminal; --yes (or --no-input) skips it.`,
		Example: `  signet revoke registry.example.com/team/app:v1 --yes`,
		Args:    exactArgs(1, "R:T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Tag = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runRevoke(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&opts.req.Key, "key", "", "signing key `REF` of the role that signed the tag")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runRevoke(ctx context.Context, opts *revokeOptions) error {
	if !opts.yes && !opts.NoInput() && opts.IO.Terminal != nil {
		ok, err := opts.Prompter().Confirm(fmt.Sprintf("Revoke the signature of %s? [y/N] ", opts.req.Tag), "yes")
		if err != nil {
			return err
		}
		if !ok {
			return errkind.Mark(errkind.Input, fmt.Errorf("revoke cancelled: nothing was changed"))
		}
	}
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Revoke(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "Revoked %s %s (role %s)\n", res.Tag, res.Digest, res.Role)
	return nil
}
