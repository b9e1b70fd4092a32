// Command signet signs container image pushes with TUF metadata kept in the
// OCI registry, with root and signing keys on YubiKeys.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/signet-dev/signet/internal/dockercli"
)

func main() {
	// No core dump may hold a PIN, a passphrase or a decrypted key
	// (docs/security.md).
	disableCoreDumps()
	tuneGC(os.Getenv)
	os.Exit(run())
}

// gcMemoryLimit is the soft memory limit tuneGC sets: past it the
// collector works harder again, whatever the GC percentage.
const gcMemoryLimit = 256 << 20

// tuneGC makes the garbage collector run less often: a signet command is
// short and its garbage comes in bursts (a verify of a large repository
// parses a snapshot and a bin of hundreds of tags, and collecting at the
// default pace cost a quarter of its CPU), so the heap may grow to five
// times the live heap before a collection instead of twice, within a soft
// limit of 256 MiB, so that
// a bulk sign of 100,000 tags stays at the memory it took before (about
// 275 MB; 520 MB without the limit). GOGC or GOMEMLIMIT in the
// environment win.
func tuneGC(env func(string) string) {
	if env("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if env("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// run runs signet in the real process environment and returns its exit
// code. main passes no options; the test binary run as signet passes the
// test seams (main_test.go).
func run(opts ...factoryOption) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Started as the docker CLI plugin docker-signet: signet is `docker signet`.
	args, plugin := dockercli.PluginArgs(os.Args[0], os.Args[1:], os.Getenv)
	return runAs(ctx, args, plugin, os.Getenv, systemIOStreams(ctx.Done()), opts...)
}

// runWith runs signet with args, reading the environment through env and
// talking through ios, and returns the exit code of docs/design.md §5. It touches
// no process globals, so tests call it directly. Every error is printed here,
// once, as one line on stderr.
func runWith(ctx context.Context, args []string, env func(string) string, ios *iostreams, opts ...factoryOption) int {
	return runAs(ctx, args, nil, env, ios, opts...)
}

// runAs is runWith, as the docker CLI plugin when plugin is not nil.
func runAs(ctx context.Context, args []string, plugin *dockercli.Invocation, env func(string) string, ios *iostreams, opts ...factoryOption) int {
	f := newFactory(ios, env, opts...)
	root := newRootCmd(f)
	if plugin != nil {
		asDockerPlugin(root, f, plugin)
	}
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	ran := trackRun(root)
	err := root.ExecuteContext(ctx)
	if !*ran {
		err = parseError(err)
	}
	err = timeoutError(f, err)
	f.close()
	code, line := exitCode(ctx, err)
	if line != "" {
		fmt.Fprintln(ios.ErrOut, line)
	}
	return code
}
