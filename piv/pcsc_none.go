//go:build !cgo && !windows

package piv

import "github.com/signet-dev/signet/internal/errkind"

// Supported reports whether this build of signet can reach YubiKeys. This
// one was built without cgo, so without PC/SC (see pcsc.go).
const Supported = false

// pcscSource stands for PC/SC in a build without it.
type pcscSource struct{}

// readers fails: without PC/SC no reader can be listed.
func (pcscSource) readers() ([]string, error) { return nil, unsupported() }

// openCard fails: without PC/SC no card can be opened.
func (pcscSource) openCard(string) (card, uint32, error) { return nil, 0, unsupported() }

func unsupported() error {
	return newErr(errkind.Key, ErrNoYubiKeySupport,
		"this signet was built without YubiKey support (CGO_ENABLED=0): install a release with YubiKey support, or build with cgo and the PC/SC headers (libpcsclite-dev), as docs/install.md says")
}
