// Command release writes signet's release files (package tools/release):
//
//	release dist [-out DIR] [-p N]          archives for every target and SHA256SUMS
//	release image [-out DIR] [-dist DIR] [-ca-certs FILE]
//	                                        the OCI image layout, from the static
//	                                        Linux builds of a dist directory
//
// make dist and make image run it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"github.com/signet-dev/signet/tools/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: release dist|image [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	out := fs.String("out", "", "output directory (default dist, or dist/image)")
	dist := fs.String("dist", "dist", "dist directory holding the builds (image)")
	caCerts := fs.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates for the image")
	parallel := fs.Int("p", runtime.NumCPU(), "builds at a time (dist)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := release.ModuleRoot(wd)
	if err != nil {
		return err
	}
	info := release.GitInfo(root)
	switch args[0] {
	case "dist":
		if *out == "" {
			*out = "dist"
		}
		if err := release.WriteDist(ctx, root, *out, info, release.Targets, *parallel); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "release: signet %s for %d targets in %s (SHA256SUMS)\n", info.Version, len(release.Targets), *out)
		return nil
	case "image":
		if *out == "" {
			*out = filepath.Join(*dist, "image")
		}
		if err := release.WriteImage(*out, *dist, *caCerts, info); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "release: OCI image layout of signet %s in %s\n", info.Version, *out)
		return nil
	}
	return fmt.Errorf("unknown command %q: want dist or image", args[0])
}
