package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
)

type rotateOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.RotateRequest
}

func newRotateCmd(f *factory, runF func(*rotateOptions) error) *cobra.Command {
	opts := &rotateOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "rotate R ROLE [--add-key REF]... [--remove-key KEYID|NAME]... [--threshold N] [--stage FILE]",
		Short: "Change the keys or threshold of a role",
		Long: `Change the keys of ROLE in repository R: root, targets, snapshot, timestamp
or a delegation. --add-key takes any key reference, and a public key file
(file:NAME.pub, as 'signet key export NAME' writes it) for a key held by
someone else; --remove-key takes a key ID (or a prefix of 4+ hex digits) or a
key name. Both may be repeated.

Rotating a top-level role publishes a new root version, signed by a threshold
of the current root keys and of the new root keys; the rotated role's
metadata is re-signed with its new keys in the same publish. Rotating a
delegation changes the targets role that delegates to it (the targets key
signs) and re-signs the delegation with its new keys. With no flags, rotate
re-signs root, targets or a delegation, renewing its expiry.

When the keys that must sign are not all on this machine, --stage FILE writes
the proposed metadata and the signatures made so far to FILE instead of
publishing: collect the rest with 'signet ceremony sign FILE --key REF' where
the keys are, then 'signet ceremony publish FILE'. See docs/rotation.md for
recovery from leaked and lost keys.`,
		Example: `  # A targets key leaked: replace it, signed with the root YubiKey
  signet key generate targets-2
  signet rotate registry.example.com/team/app targets --add-key targets-2 --remove-key 3fa2b1c4

  # Root from 1 of 1 to 2 of 3, with keys held by other people
  signet rotate registry.example.com/team/app root --add-key file:alice.pub \
      --add-key file:bob.pub --add-key file:carol.pub --remove-key old-root \
      --threshold 2 --stage rotate-root.json`,
		Args: exactArgs(2, "the repository R and the ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Repository, opts.req.Role = args[0], args[1]
			if opts.req.Threshold < 0 {
				return usageError(cmd, fmt.Errorf("--threshold %d: must be at least 1", opts.req.Threshold))
			}
			if cmd.Flags().Changed("threshold") && opts.req.Threshold == 0 {
				return usageError(cmd, errors.New("--threshold 0: must be at least 1"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runRotate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.req.AddKeys, "add-key", nil, "key `REF` to add, or file:NAME.pub (repeatable)")
	fl.StringArrayVar(&opts.req.RemoveKeys, "remove-key", nil, "key ID, ID prefix or key `NAME` to remove (repeatable)")
	fl.IntVar(&opts.req.Threshold, "threshold", 0, "how many of the role's keys must sign (default: unchanged)")
	fl.StringVar(&opts.req.Stage, "stage", "", "write a ceremony to `FILE` instead of publishing, for keys held elsewhere")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runRotate(ctx context.Context, opts *rotateOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Rotate(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	out := opts.IO.Out
	keys := make([]string, 0, len(res.Keys))
	for _, k := range res.Keys {
		s := keyid.Short(k.KeyID)
		if k.Name != "" {
			s += " (" + k.Name + ")"
		}
		keys = append(keys, s)
	}
	if res.Staged == "" {
		fprintf(out, "Rotated %s of %s: %d of %s (root version %d)\n", res.Role, res.Repository, res.Threshold, strings.Join(keys, ", "), res.RootVersion)
		return nil
	}
	fprintf(out, "Staged %s of %s: %d of %s, in %s\n\n", res.Role, res.Repository, res.Threshold, strings.Join(keys, ", "), res.Staged)
	if err := writeCeremonyStatus(out, res.Ceremony); err != nil {
		return err
	}
	if res.Ceremony.Complete {
		notice(opts.IO, "every signature is here: publish with signet ceremony publish %s", res.Staged)
	} else {
		notice(opts.IO, "collect the missing signatures with signet ceremony sign %s --key REF, then signet ceremony publish %s", res.Staged, res.Staged)
	}
	return nil
}
