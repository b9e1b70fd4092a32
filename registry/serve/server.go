// Package serve is the embedded OCI registry behind `signet registry
// serve` and `make demo`: go-containerregistry's registry, in memory or
// kept on disk (blobs, content-addressed manifests and a journal of tag
// changes), served on a listener until a context ends. It has no
// authentication. The registry client (package registry) does not import it.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
)

// Option configures New.
type Option func(*options) error

type options struct {
	dir string
	log io.Writer
}

// WithDir keeps the registry's blobs and manifests under dir, so
// that they survive a restart. Without it, everything is in memory.
func WithDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("empty registry directory")
		}
		o.dir = dir
		return nil
	}
}

// WithLog writes a line per request to w (default: no log).
func WithLog(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			return errors.New("nil log writer")
		}
		o.log = w
		return nil
	}
}

// New returns an OCI registry (go-containerregistry's pkg/registry)
// to serve at the site root: in memory, or persistent with WithDir.
// It has no authentication: serve it on loopback, or behind a proxy that
// authenticates.
func New(opts ...Option) (http.Handler, error) {
	o := options{log: io.Discard}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("registry server: %w", err)
		}
	}
	l := log.New(o.log, "", log.LstdFlags)
	if o.dir == "" {
		return ggcr.New(ggcr.Logger(l)), nil
	}
	return newPersistentServer(o.dir, l)
}

// ListenAndServe serves h on addr until ctx is done, then shuts down
// gracefully (at most 5 s for requests in flight). It returns nil after a
// shutdown caused by ctx.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return Serve(ctx, ln, h)
}

// Serve is ListenAndServe on a listener that is already open; it closes ln.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), err)
	}
	return nil
}
