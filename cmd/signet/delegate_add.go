package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type delegateAddOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.DelegateAddRequest
}

func newDelegateAddCmd(f *factory, runF func(*delegateAddOptions) error) *cobra.Command {
	opts := &delegateAddOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "add R NAME --key REF|--public-key FILE [--paths GLOB]... [--threshold N] [--terminating]",
		Short: "Delegate tags matching globs to a new role",
		Long: `Delegate the tags of R that match --paths (shell globs; default '*', every
tag) to a new role NAME ([a-z0-9-]+) signed by the given keys. --key takes a
key reference (a keystore name, yubikey:SERIAL/SLOT, file:PATH); only the
public key is put into the trust data. --public-key takes a PEM public key
file, for a key that lives elsewhere. Both may be repeated.

The targets key signs the change. When this machine also holds a private
delegated key, it signs the new role's first (empty) metadata; otherwise
tags that fall to the role fail verification until a holder runs 'signet
sign'.

A --terminating delegation with a threshold of 1 (a CI role) puts new tags
into 256 hash bins of its own, signed by its own key, once it lists 128
tags, so a CI push stays small however many tags it signed (docs/ci.md).`,
		Example: `  signet delegate add registry.example.com/team/app ci-release --key ci --paths 'v*' --terminating
  signet delegate add registry.example.com/team/app releases \
      --public-key alice.pub --public-key bob.pub --threshold 2 --paths 'release-*' --terminating`,
		Args: exactArgs(2, "the repository R and the delegation NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Repository, opts.req.Name = args[0], args[1]
			if len(opts.req.KeyRefs)+len(opts.req.PublicKeyFiles) == 0 {
				return usageError(cmd, errors.New("name the delegated keys with --key REF or --public-key FILE"))
			}
			if opts.req.Threshold < 1 {
				return usageError(cmd, fmt.Errorf("--threshold %d: must be at least 1", opts.req.Threshold))
			}
			if runF != nil {
				return runF(opts)
			}
			return runDelegateAdd(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.req.KeyRefs, "key", nil, "delegated key `REF` (repeatable)")
	fl.StringArrayVar(&opts.req.PublicKeyFiles, "public-key", nil, "delegated key as a PEM public key `FILE` (repeatable)")
	fl.StringArrayVar(&opts.req.Paths, "paths", nil, "tag `GLOB` the delegation covers, such as 'v*' (repeatable; default '*')")
	fl.IntVar(&opts.req.Threshold, "threshold", 1, "how many of the keys must sign")
	fl.BoolVar(&opts.req.Terminating, "terminating", false, "clients look no further for the tags this delegation matches")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runDelegateAdd(ctx context.Context, opts *delegateAddOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.DelegateAdd(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	dl := res.Delegation
	fprintf(opts.IO.Out, "Delegated %s of %s to %s (%d of %s)\n",
		strings.Join(dl.Paths, ","), res.Repository, dl.Name, dl.Threshold, delegationKeys(dl))
	return nil
}
