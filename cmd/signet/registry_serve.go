package main

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/serve"
)

func newRegistryCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("registry <command>", "Run an embedded OCI registry",
		`Run an OCI registry inside signet, for trying signet out, demos and tests.`)
	cmd.Example = `  signet registry serve --addr 127.0.0.1:5000 --dir /tmp/registry`
	cmd.AddCommand(newRegistryServeCmd(f, nil))
	return cmd
}

type registryServeOptions struct {
	IO      *iostreams
	Verbose func() bool

	Addr string // --addr host:port
	Dir  string // --dir: keep blobs and manifests here; "" keeps them in memory
}

func newRegistryServeCmd(f *factory, runF func(*registryServeOptions) error) *cobra.Command {
	opts := &registryServeOptions{IO: f.IOStreams, Verbose: func() bool { return f.Global.Verbose }}
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:5000] [--dir DIR]",
		Short: "Serve an OCI registry until interrupted",
		Long: `Serve an OCI registry (go-containerregistry's) on --addr until SIGINT or
SIGTERM. Everything is kept in memory unless --dir names a directory, where
blobs and manifests are kept across restarts. The registry has no
authentication: keep it on loopback. With -v every request is logged on
stderr. Port 0 picks a free port; the address served is printed on stderr.
--timeout does not apply.`,
		Example: `  signet registry serve
  signet registry serve --addr 127.0.0.1:0 --dir ./registry-data`,
		Args:        exactArgs(0, "no arguments"),
		Annotations: map[string]string{noTimeoutAnnotation: "serves until interrupted"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runRegistryServe(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:5000", "listen on `HOST:PORT`")
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "keep the registry's data in `DIR` (default: in memory)")
	return cmd
}

func runRegistryServe(ctx context.Context, opts *registryServeOptions) error {
	var sopts []serve.Option
	if opts.Dir != "" {
		sopts = append(sopts, serve.WithDir(opts.Dir))
	}
	if opts.Verbose() {
		sopts = append(sopts, serve.WithLog(opts.IO.ErrOut))
	}
	h, err := serve.New(sopts...)
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return errkind.Mark(errkind.Registry, fmt.Errorf("listening on %s: %w", opts.Addr, err))
	}
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() {
		notice(opts.IO, "warning: the registry has no authentication and listens on %s, beyond this machine", addr)
	}
	notice(opts.IO, "serving on http://%s", addr)
	if err := serve.Serve(ctx, ln, h); err != nil {
		return errkind.Mark(errkind.Registry, err)
	}
	notice(opts.IO, "stopped")
	return nil
}
