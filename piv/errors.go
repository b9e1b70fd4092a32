package piv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
)

// Errors callers can test for with errors.Is. Every error this package
// returns is classified with errkind as well.
var (
	// ErrNoCard: no YubiKey is attached, or none with the serial asked for.
	ErrNoCard = errors.New("no YubiKey found")
	// ErrSeveralCards: several YubiKeys are attached and no serial was given.
	ErrSeveralCards = errors.New("several YubiKeys attached")
	// ErrCardRemoved: the YubiKey was pulled out (or pcscd went away)
	// during the command.
	ErrCardRemoved = errors.New("YubiKey removed")
	// ErrWrongPIN: the card refused the PIN; the message says how many
	// tries are left.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrPINBlocked: no PIN tries are left; the PUK unblocks it.
	ErrPINBlocked = errors.New("PIN blocked")
	// ErrWrongPUK: the card refused the PUK.
	ErrWrongPUK = errors.New("wrong PUK")
	// ErrPINUnattended: one PIN try is left and the PIN came from the
	// environment, so signet will not risk blocking the card unattended.
	ErrPINUnattended = errors.New("PIN from the environment refused with one try left")
	// ErrNotTouched: a key with a touch policy was not touched in time.
	ErrNotTouched = errors.New("YubiKey not touched")
	// ErrSlotEmpty: the slot holds no key.
	ErrSlotEmpty = errors.New("slot empty")
	// ErrSlotOccupied: Setup was asked for a slot that holds a key, without Force.
	ErrSlotOccupied = errors.New("slot occupied")
	// ErrNoAttestation: the key has no attestation (it was imported, not
	// generated on the device, or the firmware cannot attest).
	ErrNoAttestation = errors.New("no attestation")
	// ErrUntrustedAttestation: the attestation does not chain to a trusted
	// root, or does not match the card and slot.
	ErrUntrustedAttestation = errors.New("attestation not trusted")
	// ErrNotSetUp: the card's management key is neither the factory one nor
	// kept in PIN-protected data, so signet cannot manage it.
	ErrNotSetUp = errors.New("management key unavailable")
	// ErrKeyMismatch: the key in the slot is not the expected one.
	ErrKeyMismatch = errors.New("key in slot does not match")
	// ErrNoYubiKeySupport: this signet was built without PC/SC (without
	// cgo, see Supported), so it cannot reach any YubiKey. errkind.Key.
	ErrNoYubiKeySupport = errors.New("built without YubiKey support")
)

// errNotFound: the card holds no such object, key or application.
var errNotFound = errors.New("data object or application not found")

// notFoundError is a card's "not found" answer: errors.Is(err,
// errNotFound), with the answer (and its status word) kept as the cause.
type notFoundError struct{ cause error }

func (e *notFoundError) Error() string        { return e.cause.Error() }
func (e *notFoundError) Is(target error) bool { return target == errNotFound }
func (e *notFoundError) Unwrap() error        { return e.cause }

// authError is the card refusing a PIN or PUK, with the tries left (0:
// blocked).
type authError struct {
	retries int
	cause   error
}

func (e *authError) Error() string { return e.cause.Error() }
func (e *authError) Unwrap() error { return e.cause }

// kindErr wraps a sentinel with a message and a kind: errors.Is finds the
// sentinel, errkind.Of the kind, and Error() is the message alone.
type kindErr struct {
	msg      string
	sentinel error
	cause    error
}

func (e *kindErr) Error() string { return e.msg }

func (e *kindErr) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// newErr returns an error of kind k matching sentinel, saying msg.
func newErr(k errkind.Kind, sentinel error, format string, args ...any) error {
	return errkind.Mark(k, &kindErr{msg: fmt.Sprintf(format, args...), sentinel: sentinel})
}

// wrapErr is newErr with a cause appended to the message.
func wrapErr(k errkind.Kind, sentinel, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return errkind.Mark(k, &kindErr{msg: msg, sentinel: sentinel, cause: cause})
}

// keyErr marks a card failure as a key/hardware problem.
func keyErr(format string, args ...any) error {
	return errkind.Mark(errkind.Key, fmt.Errorf(format, args...))
}

// statusOf returns the status word of a card's answer inside err.
func statusOf(err error) (uint16, bool) {
	var s interface{ Status() uint16 }
	if errors.As(err, &s) {
		return s.Status(), true
	}
	return 0, false
}

// authRetries reports whether err is the card refusing a PIN or PUK, and
// how many tries are left (0: blocked).
func authRetries(err error) (int, bool) {
	var ae *authError
	if errors.As(err, &ae) {
		return ae.retries, true
	}
	return 0, false
}

// transportMessages are what libpcsclite says (through piv-go) when the
// card, its reader or pcscd went away.
var transportMessages = []string{
	"smart card has been removed",
	"no Smart Card is currently in the device",
	"power has been removed from the smart card",
	"smart card has been reset",
	"reader is not currently available",
	"supplied handle was invalid",
	"cannot find a smart card reader",
	"reader name is not recognized",
	"resource manager is not running",
	"resource manager has shut down",
	"communications error",
	"not responding to a reset",
	"end a non-existent transaction", // pcscd dropped the session: card removed or reset
	"transmitting request",
	"scard response too short", // piv-go: the card answered nothing, as when pulled out mid-command
}

// isTransport reports whether err is the card or pcscd going away rather
// than an answer from the card.
func isTransport(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := statusOf(err); ok {
		return false
	}
	msg := err.Error()
	for _, m := range transportMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// cardErr classifies an unexpected failure of a card operation: the card
// going away becomes ErrCardRemoved, anything else a key/hardware error
// saying what was being done.
func (y *YubiKey) cardErr(what string, err error) error {
	if isTransport(err) {
		// The cause (pcsc's wording, or "scard response too short: 0")
		// says nothing more to the user; it stays in the chain.
		return errkind.Mark(errkind.Key, &kindErr{sentinel: ErrCardRemoved, cause: err,
			msg: fmt.Sprintf("YubiKey %d was removed while %s; plug it in and run the command again", y.serial, what)})
	}
	return keyErr("YubiKey %d: %s: %w", y.serial, what, err)
}

func (y *YubiKey) removedErr(cause error) error {
	return wrapErr(errkind.Key, ErrCardRemoved, cause,
		"YubiKey %d was removed or stopped answering; plug it in and run the command again", y.serial)
}
