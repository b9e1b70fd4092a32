package piv

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
)

// card is what signet uses of an open PIV card, in this package's own
// types. pcsc.go adapts piv-go's *piv.YubiKey to it; that reaches a real
// YubiKey, or the virtual one of piv/pivsim, through PC/SC (libpcsclite and
// pcscd on Linux). Errors the card answers with keep their status word
// (statusOf); a missing object is errNotFound and a refused PIN or PUK an
// *authError.
type card interface {
	Close() error
	Version() Version
	Serial() (uint32, error)

	Retries() (int, error)
	VerifyPIN(pin string) error
	SetPIN(oldPIN, newPIN string) error
	SetPUK(oldPUK, newPUK string) error
	Unblock(puk, newPIN string) error
	Reset() error

	SetManagementKey(oldKey, newKey []byte) error
	// ProtectedManagementKey reads the management key kept in
	// PIN-protected data; nil when none is kept there.
	ProtectedManagementKey(pin string) ([]byte, error)
	// SetProtectedManagementKey keeps mk in PIN-protected data,
	// authenticating with the management key key.
	SetProtectedManagementKey(key, mk []byte) error

	// GenerateKey makes an ECDSA P-256 key in slot.
	GenerateKey(key []byte, slot Slot, pin PINPolicy, touch TouchPolicy) (crypto.PublicKey, error)
	KeyInfo(slot Slot) (keyInfo, error)
	Certificate(slot Slot) (*x509.Certificate, error)
	SetCertificate(key []byte, slot Slot, cert *x509.Certificate) error
	Attest(slot Slot) (*x509.Certificate, error)
	AttestationCertificate() (*x509.Certificate, error)
	// PrivateKey returns the key in slot as a signer that sends no PIN:
	// the caller verifies it first when the key's policy needs it.
	PrivateKey(slot Slot, public crypto.PublicKey) (crypto.Signer, error)
}

// cardSource is what piv needs of PC/SC besides an open card: the reader
// names, and the PIV card in one of them with its serial. pcscSource
// (pcsc.go) is piv-go's, the only one a signet binary uses; tests give a
// fake one to Open's internal twin, open, so that the PIN and removal
// logic runs without pcscd.
type cardSource interface {
	readers() ([]string, error)
	openCard(reader string) (card, uint32, error)
}

// keyInfo is what the card says about the key in a slot (firmware 5.3 and
// later).
type keyInfo struct {
	Algorithm   string // e.g. "ECCP256"; "" when unknown
	PINPolicy   PINPolicy
	TouchPolicy TouchPolicy
	Origin      string // "generated" or "imported"; "" when unknown
	Public      crypto.PublicKey
}

// The factory PIN, PUK and management key of a YubiKey.
const (
	defaultPIN = "123456"
	defaultPUK = "12345678"
)

var defaultManagementKey = []byte{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8}

// CardInfo describes one attached YubiKey.
type CardInfo struct {
	Serial  uint32
	Reader  string // PC/SC reader name
	Version Version
}

// busy is a reader whose card could not be opened, for error messages.
type busy struct {
	reader string
	err    error
}

// scan opens each reader in turn, calling f with every PIV card that
// answers with a serial; f keeps the card (returns true) or has it closed.
// Readers with no card are skipped; readers whose card another program
// holds are returned.
func scan(src cardSource, f func(c card, info CardInfo) (keep bool)) ([]busy, error) {
	names, err := src.readers()
	if errors.Is(err, ErrNoYubiKeySupport) {
		return nil, err
	}
	if err != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("listing smart card readers (is pcscd running?): %w", err))
	}
	var skipped []busy
	for _, r := range names {
		c, serial, err := src.openCard(r)
		if err != nil {
			if !noCard(err) {
				skipped = append(skipped, busy{reader: r, err: err})
			}
			continue
		}
		if !f(c, CardInfo{Serial: serial, Reader: r, Version: c.Version()}) {
			c.Close()
		}
	}
	return skipped, nil
}

// noCard reports whether opening a reader failed because it is empty or
// holds something that is not a PIV card.
func noCard(err error) bool {
	if errors.Is(err, errNotFound) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "no Smart Card is currently in the device") ||
		strings.Contains(msg, "smart card has been removed") ||
		strings.Contains(msg, "not responding to a reset") ||
		strings.Contains(msg, "selecting piv applet")
}

// List returns the attached YubiKeys, ordered by serial. A card another
// program holds open is left out (a YubiKey is opened exclusively).
func List(ctx context.Context) ([]CardInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []CardInfo
	if _, err := scan(pcscSource{}, func(_ card, info CardInfo) bool {
		out = append(out, info)
		return false
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b CardInfo) int { return int(a.Serial) - int(b.Serial) })
	return out, nil
}

// find opens the card with serial, or the only card when serial is 0.
func find(src cardSource, serial uint32) (card, CardInfo, error) {
	var (
		found []CardInfo
		kept  card
		info  CardInfo
	)
	skipped, err := scan(src, func(c card, ci CardInfo) bool {
		found = append(found, ci)
		if kept == nil && (serial == 0 || ci.Serial == serial) {
			kept, info = c, ci
			return true
		}
		return false
	})
	if err != nil {
		return nil, CardInfo{}, err
	}
	if serial == 0 && len(found) > 1 {
		kept.Close()
		return nil, CardInfo{}, newErr(errkind.Input, ErrSeveralCards,
			"several YubiKeys are attached (serials %s): choose one with --serial or yubikey:SERIAL", serialList(found))
	}
	if kept != nil {
		return kept, info, nil
	}
	what := "no YubiKey found"
	if serial != 0 {
		what = fmt.Sprintf("YubiKey %d not found", serial)
	}
	switch {
	case len(skipped) > 0:
		return nil, CardInfo{}, wrapErr(errkind.Key, ErrNoCard, skipped[0].err,
			"%s; the card in %q could not be opened (is another program using it?)", what, skipped[0].reader)
	case len(found) > 0:
		return nil, CardInfo{}, newErr(errkind.Key, ErrNoCard, "%s; attached: %s", what, serialList(found))
	}
	return nil, CardInfo{}, newErr(errkind.Key, ErrNoCard, "%s: plug it in", what)
}

func serialList(cards []CardInfo) string {
	s := make([]string, len(cards))
	for i, c := range cards {
		s[i] = fmt.Sprint(c.Serial)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}
