// Command signet signs container image pushes with TUF metadata kept in the
// OCI registry, with root and signing keys on YubiKeys.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// No core dump may hold a PIN, a passphrase or a decrypted key
	// (docs/security.md). Best effort: a refusal leaves the limit as it was.
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0})
	os.Exit(run())
}

// run runs signet in the real process environment and returns its exit code.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runWith(ctx, os.Args[1:], os.Getenv, systemIOStreams(ctx.Done()))
}

// runWith runs signet with args, reading the environment through env and
// talking through ios, and returns the exit code of DESIGN.md §5. It touches
// no process globals, so tests call it directly. Every error is printed here,
// once, as one line on stderr.
func runWith(ctx context.Context, args []string, env func(string) string, ios *iostreams) int {
	f := newFactory(ios, env)
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	f.close()
	code, line := exitCode(ctx, err)
	if line != "" {
		fmt.Fprintln(ios.ErrOut, line)
	}
	return code
}
