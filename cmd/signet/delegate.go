package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
)

func newDelegateCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("delegate <command>", "Delegate tags to other keys, such as a CI key",
		`Delegate a slice of a repository's tags (shell globs such as v* or
release-*) to other keys: a CI key, or the keys of a release team. The
delegation is signed by the repository's targets key (a YubiKey touch when it
is on one), so the owners keep control: a delegated key signs only the tags
its paths match, and 'signet delegate remove' cuts it off.

Delegations are consulted in the order they were added; a terminating
delegation stops the search for the tags it matches. With --threshold N,
N holders of the delegation's keys must each run 'signet sign' on the same
tags before verify accepts them.`)
	cmd.Example = `  signet key generate ci
  signet delegate add registry.example.com/team/app ci-release --key ci --paths 'v*' --terminating
  signet key export ci --private --online registry.example.com/team/app > ci.bundle
  signet delegate list registry.example.com/team/app
  signet delegate remove registry.example.com/team/app ci-release`
	cmd.AddCommand(
		newDelegateAddCmd(f, nil),
		newDelegateRemoveCmd(f, nil),
		newDelegateListCmd(f, nil),
	)
	return cmd
}

type delegateAddOptions struct {
	f   *factory
	req app.DelegateAddRequest
}

func newDelegateAddCmd(f *factory, runF func(*delegateAddOptions) error) *cobra.Command {
	opts := &delegateAddOptions{f: f}
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
	d, err := opts.f.appDeps()
	if err != nil {
		return err
	}
	res, err := app.DelegateAdd(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.f.Global.JSON() {
		return writeJSON(opts.f.IOStreams.Out, res)
	}
	dl := res.Delegation
	fprintf(opts.f.IOStreams.Out, "Delegated %s of %s to %s (%d of %s)\n",
		strings.Join(dl.Paths, ","), res.Repository, dl.Name, dl.Threshold, delegationKeys(dl))
	return nil
}

type delegateRemoveOptions struct {
	f   *factory
	req app.DelegateRemoveRequest
}

func newDelegateRemoveCmd(f *factory, runF func(*delegateRemoveOptions) error) *cobra.Command {
	opts := &delegateRemoveOptions{f: f}
	cmd := &cobra.Command{
		Use:   "remove R NAME",
		Short: "Stop delegating to a role",
		Long: `Remove the delegation NAME from R, signed by the targets key. Tags that
only NAME signed no longer verify; they are listed. This is how to cut off a
stolen or retired CI key; re-add the delegation with a new key and re-sign
the tags to restore them.`,
		Example: `  signet delegate remove registry.example.com/team/app ci-release`,
		Args:    exactArgs(2, "the repository R and the delegation NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Repository, opts.req.Name = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runDelegateRemove(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runDelegateRemove(ctx context.Context, opts *delegateRemoveOptions) error {
	d, err := opts.f.appDeps()
	if err != nil {
		return err
	}
	res, err := app.DelegateRemove(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.f.Global.JSON() {
		return writeJSON(opts.f.IOStreams.Out, res)
	}
	fprintf(opts.f.IOStreams.Out, "Removed delegation %s from %s\n", res.Delegation.Name, res.Repository)
	if len(res.Unsigned) > 0 {
		notice(opts.f.IOStreams, "these tags are no longer signed: %s", strings.Join(res.Unsigned, " "))
	}
	return nil
}

type delegateListOptions struct {
	f    *factory
	repo string
}

func newDelegateListCmd(f *factory, runF func(*delegateListOptions) error) *cobra.Command {
	opts := &delegateListOptions{f: f}
	cmd := &cobra.Command{
		Use:   "list R",
		Short: "List the delegations of a repository",
		Long: `List the delegations of R in the order clients consult them: name, keys
(by name where this machine knows them), threshold, signatures present, tag
paths and expiry. Needs no key.`,
		Example: `  signet delegate list registry.example.com/team/app
  signet delegate list registry.example.com/team/app -o json`,
		Args: exactArgs(1, "the repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.repo = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDelegateList(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runDelegateList(ctx context.Context, opts *delegateListOptions) error {
	d, err := opts.f.appDeps()
	if err != nil {
		return err
	}
	res, err := app.DelegateList(ctx, d, opts.repo)
	if err != nil {
		return err
	}
	if opts.f.Global.JSON() {
		return writeJSON(opts.f.IOStreams.Out, res)
	}
	return writeDelegations(opts.f.IOStreams.Out, res)
}

func writeDelegations(w io.Writer, res *app.DelegateListResult) error {
	if len(res.Delegations) == 0 {
		_, err := fprintf(w, "%s has no delegations.\n", res.Repository)
		return err
	}
	t := newTable("NAME", "PATHS", "THRESHOLD", "SIGNATURES", "KEYS", "TERMINATING", "TAGS", "EXPIRES")
	for _, dl := range res.Delegations {
		tags := fmt.Sprint(dl.Targets)
		if dl.Bins {
			tags += " (in bins)"
		}
		t.Row(dl.Name, strings.Join(dl.Paths, ","), fmt.Sprint(dl.Threshold), fmt.Sprint(dl.Signatures),
			delegationKeys(dl), fmt.Sprint(dl.Terminating), tags, dl.Expires.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return t.Write(w)
}

// delegationKeys renders a delegation's keys as "KEYID16 (name), ...".
func delegationKeys(dl app.DelegationInfo) string {
	keys := make([]string, 0, len(dl.Keys))
	for _, k := range dl.Keys {
		s := keyid.Short(k.KeyID)
		if k.Name != "" {
			s += " (" + k.Name + ")"
		}
		keys = append(keys, s)
	}
	return strings.Join(keys, ", ")
}
