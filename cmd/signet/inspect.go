package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
)

type inspectOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	repo string
}

func newInspectCmd(f *factory, runF func(*inspectOptions) error) *cobra.Command {
	opts := &inspectOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "inspect R",
		Short: "Show signed tags, signers, roles, keys and expiries",
		Long: `Show the signed tags of repository R with the role (signer) that signed
each, and every role with its keys, threshold and expiry, like
'docker trust inspect --pretty'. Keys this machine knows are shown by name.
The columns are named as the fields of -o json (docs/usage.md).`,
		Example: `  signet inspect registry.example.com/team/app
  signet inspect registry.example.com/team/app -o json`,
		Args: exactArgs(1, "the repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.repo = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runInspect(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runInspect(ctx context.Context, opts *inspectOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Inspect(ctx, d, opts.repo)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	if opts.JSON() {
		return writeJSON(out, res)
	}
	fprintf(out, "Signatures for %s\n\n", res.Repository)
	if len(res.Targets) == 0 {
		fmt.Fprintln(out, "No signed tags.")
	}
	t := newTable("NAME", "SHA256", "ROLE")
	for _, tg := range res.Targets {
		t.Row(tg.Name, tg.SHA256, tg.Role)
	}
	if err := t.Write(out); err != nil {
		return err
	}
	fprintf(out, "\nRoles and keys for %s\n\n", res.Repository)
	rt := newTable("ROLE", "VERSION", "THRESHOLD", "KEYS", "PATHS", "EXPIRES")
	for _, r := range res.Roles {
		keys := make([]string, 0, len(r.Keys))
		for _, k := range r.Keys {
			s := keyid.Short(k.KeyID)
			if k.Name != "" {
				s += " (" + k.Name + ")"
			}
			keys = append(keys, s)
		}
		paths := strings.Join(r.Paths, ",")
		if paths == "" {
			paths = "-"
		}
		rt.Row(r.Name, fmt.Sprint(r.Version), fmt.Sprint(r.Threshold), strings.Join(keys, ", "), paths, r.Expires.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return rt.Write(out)
}
