package admission

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/signet-dev/signet/internal/localfile"
)

// maxPEMFile bounds the certificate and key files.
const maxPEMFile = 1 << 20

// ShutdownTimeout is how long Serve waits, once its context is done, for
// the reviews in flight to be answered.
const ShutdownTimeout = 10 * time.Second

// LoadKeyPair reads the serving certificate (PEM, with its chain) and its
// key. They are read once: after a rotation, restart the server.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := localfile.Read(certFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := localfile.Read(keyFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	clear(keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// Serve serves h over TLS 1.2 or newer on ln until ctx is done, then shuts
// down gracefully: new connections are refused and the reviews in flight
// get ShutdownTimeout to finish. The server's own errors (a failed TLS
// handshake) go to h's log, escaped.
func Serve(ctx context.Context, ln net.Listener, h *Handler, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           h,
		ErrorLog:          log.New(logWriter(func(s string) { h.c.logf("%s", line(s)) }), "", 0),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), err)
	}
	return nil
}

// logWriter turns the lines of a log.Logger into calls of a log func.
type logWriter func(string)

func (w logWriter) Write(p []byte) (int, error) {
	w(string(p))
	return len(p), nil
}
