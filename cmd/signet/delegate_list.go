package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
)

type delegateListOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	repo string
}

func newDelegateListCmd(f *factory, runF func(*delegateListOptions) error) *cobra.Command {
	opts := &delegateListOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
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
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.DelegateList(ctx, d, opts.repo)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	return writeDelegations(opts.IO.Out, res)
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
