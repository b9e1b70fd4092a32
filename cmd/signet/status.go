package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
)

type statusOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	Env  func(string) string // for NO_COLOR
	repo string
}

func newStatusCmd(f *factory, runF func(*statusOptions) error) *cobra.Command {
	opts := &statusOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps, Env: f.Env}
	cmd := &cobra.Command{
		Use:   "status R",
		Short: "Show expiries and warn before they arrive",
		Long: `Show when each role's metadata of R expires. Warns 30 days ahead for
root, targets and delegations, 7 days for snapshot and 2 days for
timestamp, and says what to run (ADVICE). Exits 1 when anything has
expired. The columns are named as the fields of -o json (docs/usage.md).`,
		Example: `  signet status registry.example.com/team/app`,
		Args:    exactArgs(1, "the repository R"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.repo = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runStatus(ctx context.Context, opts *statusOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Status(ctx, d, opts.repo)
	if err != nil {
		return err
	}
	return renderStatus(opts.IO, opts.JSON(), opts.Env, res)
}

func renderStatus(ios *iostreams, asJSON bool, env func(string) string, res *app.StatusResult) error {
	if asJSON {
		if err := writeJSON(ios.Out, res); err != nil {
			return err
		}
	} else {
		c := newColors(ios, env)
		advice := res.FastForwarded > 0
		for _, r := range res.Roles {
			advice = advice || r.Advice != ""
		}
		header := []string{"ROLE", "VERSION", "EXPIRES", "STATE"}
		if advice {
			header = append(header, "ADVICE")
		}
		t := newTable(header...)
		for _, r := range res.Roles {
			state, paint := r.State, c.Green
			switch r.State {
			case "expiring":
				state, paint = r.State+" in "+roughDuration(r.Left), c.Yellow
			case "expired", "fast-forwarded":
				paint = c.Red
			}
			row := []string{r.Role, fmt.Sprint(r.Version), r.Expires.UTC().Format("2006-01-02T15:04:05Z"), state}
			if advice {
				row = append(row, r.Advice)
			}
			t.Row(row...)
			t.Paint(3, paint)
		}
		if err := t.Write(ios.Out); err != nil {
			return err
		}
	}
	if res.FastForwarded > 0 {
		return errkind.Mark(errkind.Verification, fmt.Errorf("%d role(s) of %s have an absurd version (fast-forwarded by a stolen key?): rotate their keys, see docs/rotation.md", res.FastForwarded, res.Repository))
	}
	if res.Expired > 0 {
		return errkind.Mark(errkind.Verification, fmt.Errorf("%d role(s) of %s expired", res.Expired, res.Repository))
	}
	return nil
}

// roughDuration renders a positive duration as days, hours or minutes.
func roughDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}
