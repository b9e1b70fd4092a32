package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/signet-dev/signet/internal/errkind"
)

// Errors the package reports; test for them with errors.Is.
var (
	// ErrNotFound is returned by Resolve when the tag or digest does not
	// exist in the repository (marked errkind.Input).
	ErrNotFound = errors.New("not found in registry")
	// ErrNoMetadata is returned by Client.Metadata when the metadata tag
	// does not exist (marked errkind.Input). The *Metadata returned with it
	// is empty and can be published to create the tag.
	ErrNoMetadata = errors.New("no trust data")
	// ErrConflict is returned by Metadata.Publish when another publisher
	// moved the metadata tag since the Metadata was read (marked
	// errkind.Registry): read it again and redo the change.
	ErrConflict = errors.New("trust data changed while publishing")
	// ErrFileNotFound is returned by Metadata.ReadFile for a file the
	// artifact does not have; it also matches fs.ErrNotExist.
	ErrFileNotFound = fmt.Errorf("metadata file %w", fs.ErrNotExist)
	// ErrTooLarge is returned when a manifest or metadata file is larger
	// than the limit of the read (marked errkind.Input).
	ErrTooLarge = errors.New("too large")
	// ErrCorrupt is returned when the metadata artifact does not have the
	// format of docs/storage.md, or a blob does not match its descriptor
	// (marked errkind.Input).
	ErrCorrupt = errors.New("corrupt trust data")
)

// corrupt returns an ErrCorrupt error about the artifact at where.
func corrupt(where fmt.Stringer, format string, args ...any) error {
	return errkind.Mark(errkind.Input, fmt.Errorf("%w in %s: %s", ErrCorrupt, where, fmt.Sprintf(format, args...)))
}

// statusOf returns the HTTP status of a registry error, or 0.
func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// isNotFound reports whether err says the manifest or repository is missing.
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
			return true
		}
	}
	return false
}

// fail wraps err from an operation on reg as a registry problem, with a
// login hint when the registry wanted credentials. An error already
// classified (bad input, too large, corrupt) keeps its kind.
func fail(what string, reg name.Registry, anonymous bool, err error) error {
	host := reg.RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io"
	}
	switch statusOf(err) {
	case http.StatusUnauthorized:
		if anonymous {
			return errkind.Mark(errkind.Registry, fmt.Errorf("%s: authentication required: run `docker login %s` (%w)", what, host, err))
		}
		return errkind.Mark(errkind.Registry, fmt.Errorf("%s: credentials for %s were rejected: run `docker login %s` (%w)", what, host, host, err))
	case http.StatusForbidden:
		return errkind.Mark(errkind.Registry, fmt.Errorf("%s: access denied by %s (%w)", what, host, err))
	}
	if reason, hint, ok := unreachable(err); ok {
		return errkind.Mark(errkind.Registry, &unreachableError{what: what, host: host, reason: reason, hint: hint, err: err})
	}
	return errkind.Mark(errkind.Registry, fmt.Errorf("%s: %w", what, err))
}

// unreachableError is a registry that could not be talked to at all: one
// line naming it, what went wrong and what to check, without the URL and
// dial details of the cause (which errors.Unwrap still reaches).
type unreachableError struct {
	what, host, reason, hint string
	err                      error
}

func (e *unreachableError) Error() string {
	tries := ""
	var ex *exhaustedError
	if errors.As(e.err, &ex) {
		tries = fmt.Sprintf(", tried %d times", ex.attempts)
	}
	return fmt.Sprintf("%s: registry %s is not reachable (%s%s): %s", e.what, e.host, e.reason, tries, e.hint)
}

func (e *unreachableError) Unwrap() error { return e.err }

// unreachable recognises the failures of reaching a registry (no such
// host, connection refused, a timeout, TLS to a plain-HTTP registry) and
// says what to check.
func unreachable(err error) (reason, hint string, ok bool) {
	const check = "check the address, that the registry is running, and the network (proxy, firewall)"
	var dns *net.DNSError
	var op *net.OpError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &rec) || errors.Is(err, http.ErrSchemeMismatch):
		return "it answers plain HTTP, not HTTPS", "pass --insecure if plain HTTP to it is what you want", true
	case errors.As(err, &dns):
		return "no such host", "check the registry's name and your DNS", true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", check, true
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return "timed out", check, true
	case errors.As(err, &op) && op.Op == "dial":
		return "cannot connect", check, true
	}
	return "", "", false
}
