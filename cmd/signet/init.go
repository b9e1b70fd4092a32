package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/tuf"
)

type initOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.InitRequest
}

func newInitCmd(f *factory, runF func(*initOptions) error) *cobra.Command {
	opts := &initOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	var expires []string
	cmd := &cobra.Command{
		Use:   "init R --root-key REF... [flags]",
		Short: "Create the trust data of an image repository",
		Long: `Create the TUF trust data of image repository R and publish it in the
registry at R:_tuf. Root keys sign the root metadata; the targets key signs
tags; snapshot and timestamp keys are online keys that every push uses.
Without --targets-key, --snapshot-key or --timestamp-key, signet makes a new
software key for that role in the keystore, named R/ROLE.

The new root is pinned in the signet home, so this machine never trusts on
first use for R. Hand root.json ('signet trust show R --raw > root.json')
to CI and to the people who pull, for 'verify --root' or 'trust pin'.

With --require-attestation, root and targets must be YubiKey keys set up
with 'signet yubikey setup', whose attestation chains to Yubico's roots:
generated on the device, never imported.

A push re-signs the targets metadata listing the tags. Once it lists 128
tags, new tags go into 256 hash bins chosen by the tag's hash (TUF's
succinct hash bins), so a push re-signs one small bin and a verify reads
one: the cost stays flat as the repository grows. --bins N starts with N
bins (a power of two).

Expiry defaults: root and targets 365d, snapshot 30d, timestamp 7d. Change
them with --expires ROLE=DURATION (Go durations such as 36h, or days: 30d).`,
		Example: `  signet init registry.example.com/team/app --root-key yubikey --targets-key yubikey:12345678/82
  signet init 127.0.0.1:5000/demo/app --root-key alice-root --targets-key alice
  signet init 127.0.0.1:5000/demo/app --root-key yubikey:111 --root-key yubikey:222 --root-threshold 1`,
		Args: exactArgs(1, "the repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Repository = args[0]
			exp := tuf.Expiries{}
			for _, e := range expires {
				if err := exp.Set(e); err != nil {
					return usageError(cmd, err)
				}
			}
			opts.req.Expiries = exp
			if len(opts.req.RootKeys) == 0 {
				return usageError(cmd, fmt.Errorf("at least one --root-key is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runInit(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.req.RootKeys, "root-key", nil, "root key `REF` (repeat for several root keys)")
	fl.IntVar(&opts.req.RootThreshold, "root-threshold", 1, "how many root keys must sign a new root")
	fl.StringVar(&opts.req.TargetsKey, "targets-key", "", "targets key `REF` (default: a new software key R/targets)")
	fl.StringVar(&opts.req.SnapshotKey, "snapshot-key", "", "snapshot key `REF` (default: a new software key R/snapshot)")
	fl.StringVar(&opts.req.TimestampKey, "timestamp-key", "", "timestamp key `REF` (default: a new software key R/timestamp)")
	fl.StringArrayVar(&expires, "expires", nil, "expiry period `ROLE=DURATION`, e.g. timestamp=7d (repeatable)")
	fl.IntVar(&opts.req.Bins, "bins", 0, "put tags into `N` hash bins from the start (a power of two; default: after 128 tags, 256 bins)")
	fl.BoolVar(&opts.req.RequireAttestation, "require-attestation", false, "accept only YubiKey keys attested by Yubico for root and targets")
	return cmd
}

func runInit(ctx context.Context, opts *initOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Init(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "Initialised trust data for %s (root version %d)\n", res.Repository, res.RootVersion)
	t := newTable("ROLE", "KEY ID", "KEY")
	for _, k := range res.Keys {
		desc := k.Name
		if k.Description != "" {
			desc = k.Description
		}
		if k.Generated {
			desc += " (new)"
		}
		t.Row(k.Role, keyid.Short(k.KeyID), desc)
	}
	return t.Write(opts.IO.Out)
}
