package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
)

type trustShowOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	JSON     func() bool
	Now      func() time.Time

	Repository string
	Raw        bool // print the root.json itself, to hand out
}

func newTrustShowCmd(f *factory, runF func(*trustShowOptions) error) *cobra.Command {
	opts := &trustShowOptions{IO: f.IOStreams, Keystore: f.Keystore, JSON: f.Global.JSON, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "show R [--raw]",
		Short: "Show the trusted root of an image repository",
		Long: `Show the root signet trusts for repository R: its version, expiry, and the
keys and threshold of each top-level role. Exit status 1 when no root is
trusted for R. With --raw, print the root.json itself: the file to hand to
CI and to the people who pull, for --root or 'signet trust pin'. The
columns are named as the fields of -o json (docs/usage.md).`,
		Example: `  signet trust show registry.example.com/team/app
  signet trust show registry.example.com/team/app -o json
  signet trust show registry.example.com/team/app --raw > root.json`,
		Args: exactArgs(1, "one repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Repository = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runTrustShow(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Raw, "raw", false, "print the trusted root.json as it is")
	return cmd
}

func runTrustShow(_ context.Context, opts *trustShowOptions) error {
	data, sum, err := app.TrustedRoot(opts.Keystore, opts.Repository, opts.Now())
	if err != nil {
		return err
	}
	if opts.Raw {
		_, err = opts.IO.Out.Write(data)
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, sum)
	}
	expires := sum.Expires.Format(time.RFC3339)
	if sum.Expired {
		expires += " (expired)"
	}
	w := opts.IO.Out
	fprintf(w, "repository:  %s\nroot:        version %d, expires %s\nfingerprint: %s\n\n", sum.Repository, sum.Version, expires, sum.Fingerprint)
	t := newTable("ROLE", "THRESHOLD", "KEYS")
	for _, role := range app.TopRoles() {
		rs, ok := sum.Roles[role]
		if !ok {
			continue
		}
		ids := make([]string, len(rs.Keys))
		for i, k := range rs.Keys {
			ids[i] = keyid.Short(k.KeyID) + " (" + k.Type + ")"
		}
		t.Row(role, strconv.Itoa(rs.Threshold)+" of "+strconv.Itoa(len(rs.Keys)), strings.Join(ids, ", "))
	}
	return t.Write(w)
}
