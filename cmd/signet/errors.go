package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/textesc"
)

// exitInterrupted is the exit code after SIGINT or SIGTERM, as shells report
// a process killed by SIGINT (128+2).
const exitInterrupted = 130

// errSilent is returned by a command that has already said everything on
// stderr and only needs its exit code (for example `status` finding an
// expired role). Wrap it with errkind.Mark to choose the code.
var errSilent = errors.New("")

// exitCode is the one place where an error becomes an exit code
// (docs/design.md §5) and the one line printed for it.
func exitCode(ctx context.Context, err error) (code int, line string) {
	if err == nil {
		return 0, ""
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())) {
		return exitInterrupted, "signet: interrupted"
	}
	code = int(errkind.Of(err))
	if errors.Is(err, errSilent) {
		return code, ""
	}
	return code, "signet: " + textesc.String(oneLine(err.Error()))
}

// oneLine folds a message onto one line: an error is one line on stderr,
// whatever a library below put into it. exitCode then escapes what is
// left (textesc.String): an error quotes registries, metadata and files,
// and none of them may drive the terminal.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// trackRun makes every command of the tree record that its RunE started,
// and returns where it is recorded: an error before that came from cobra
// parsing the command line (parseError).
func trackRun(root *cobra.Command) *bool {
	ran := new(bool)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				*ran = true
				return run(cmd, args)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return ran
}

// parseError classifies an error cobra returned before any command ran
// (an unknown command, a required flag missing, flags that exclude each
// other) as bad usage: unmarked it would be an internal error (exit 5).
func parseError(err error) error {
	if err != nil && errkind.Is(err, errkind.Internal) {
		return errkind.Mark(errkind.Input, err)
	}
	return err
}

// usageError marks a command-line mistake (exit 2) and points at the help.
func usageError(cmd *cobra.Command, err error) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath()))
}

// flagError is the root command's FlagErrorFunc: unknown flags and bad flag
// values are usage errors.
func flagError(cmd *cobra.Command, err error) error { return usageError(cmd, err) }

// exactArgs is cobra.ExactArgs as a usage error that names the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(cmd, fmt.Errorf("want %s, got %d argument%s", names, len(args), plural(len(args))))
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs as a usage error that names the arguments.
func minArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError(cmd, fmt.Errorf("want %s, got %d argument%s", names, len(args), plural(len(args))))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs as a usage error that names the arguments.
func rangeArgs(lo, hi int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageError(cmd, fmt.Errorf("want %s, got %d argument%s", names, len(args), plural(len(args))))
		}
		return nil
	}
}

// noArgs rejects positional arguments, and unknown subcommands of a group
// command such as `signet key frobnicate`.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's own default for its suggestions
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			return usageError(cmd, fmt.Errorf("unknown command %q for %q: did you mean %s?", args[0], cmd.CommandPath(), strings.Join(s, " or ")))
		}
		return usageError(cmd, fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
	}
	return usageError(cmd, fmt.Errorf("unexpected argument %q", args[0]))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
