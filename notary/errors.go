package notary

import (
	"errors"
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
)

// Verification failures; each is returned wrapped, with the role and the
// detail, and marked errkind.Verification.
var (
	// ErrBadSignature: a role is not signed by a threshold of its keys.
	ErrBadSignature = errors.New("bad signature")
	// ErrExpired: a role's metadata or the root certificate has expired.
	ErrExpired = errors.New("expired")
	// ErrHashMismatch: a file does not have the length or hash its
	// referrer (timestamp or snapshot) gives for it.
	ErrHashMismatch = errors.New("hash mismatch")
	// ErrRootMismatch: the root is not signed by the pinned root
	// certificate (a substituted or rolled-back root).
	ErrRootMismatch = errors.New("root does not match the pinned root certificate")
	// ErrInvalid: malformed metadata, or metadata that breaks Notary's
	// rules (types, roles, key IDs, versions, certificates).
	ErrInvalid = errors.New("invalid trust data")
)

// ErrNotFound is returned (marked errkind.Input) when the server has no
// trust data for the GUN.
var ErrNotFound = errors.New("no trust data for this repository on the server")

func failf(sentinel error, format string, args ...any) error {
	return errkind.Mark(errkind.Verification, fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...)))
}
