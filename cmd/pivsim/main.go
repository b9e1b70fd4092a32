// Command pivsim runs one or two virtual YubiKeys (package
// github.com/signet-dev/signet/piv/pivsim) as cards in vpcd's readers, so
// that pcscd, piv-go, ykman, yubico-piv-tool and OpenSC see them as
// YubiKeys. It also serves a control API on loopback for tests.
//
//	pivsim [--state FILE] [--serial N] [--addr 127.0.0.1:35963]
//	       [--second-state FILE [--second-serial N] [--second-addr ADDR]]
//	       [--ctl 127.0.0.1:0] [--ctl-file FILE] [--firmware 5.4.3]
//	       [--touch auto|never|late] [--touch-delay 50ms] [--touch-timeout 15s]
//	pivsim ca --state FILE [--out FILE]
//	pivsim reset --state FILE
//	pivsim ctl [--addr ADDR] COMMAND [--serial N] ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run dispatches the subcommands and turns errors into exit codes: 2 for
// bad usage, 1 for anything else.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(args) > 0 && args[0] == "ca":
		err = runCA(args[1:], stdout)
	case len(args) > 0 && args[0] == "reset":
		err = runReset(args[1:], stdout)
	case len(args) > 0 && args[0] == "ctl":
		err = runCtl(ctx, args[1:], stdout)
	default:
		err = runServe(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "pivsim: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "pivsim: %v\n", err)
	return 1
}

// usageError is a mistake on the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
