// Package piv performs YubiKey PIV operations for signet on top of piv-go:
// listing and opening cards by serial, setting up a factory-fresh YubiKey
// (PIN, PUK, a random management key kept in PIN-protected data, an ECDSA
// P-256 key generated on the device), attestation against Yubico's PIV
// roots, PIN and PUK changes, reset, and signing through a key on the card.
//
// It knows nothing of TUF and never prompts: secrets and notices go through
// callbacks the caller gives (PINFunc, Notice), and it never reads the
// environment. Errors are classified with internal/errkind: a PIN, touch,
// card or attestation problem is errkind.Key; a bad slot or several cards
// with no serial chosen is errkind.Input.
//
// piv-go is reached only through pcsc.go, built with cgo (libpcsclite on
// Linux, the PCSC framework on macOS) or on Windows (winscard.dll, no cgo);
// elsewhere pcsc_none.go takes its place, Supported is false and every card
// operation fails with ErrNoYubiKeySupport, so signet still builds and does
// everything but YubiKeys.
//
// One YubiKey value owns one open card (PC/SC exclusive access) for the
// length of a command. It serialises calls with a mutex, asks for the PIN at
// most once, never retries a wrong PIN, and reopens the card by serial when
// it was pulled out and put back between two calls.
//
// Cancellation: every method takes the command's context and checks it
// before each card operation it starts (opening or reopening the card,
// verifying the PIN, signing). piv-go's calls block in PC/SC and cannot be
// interrupted, so a cancelled context never cuts an operation short: one
// already sent to the card (a signature waiting about 15 s for a touch)
// runs to its end, and the command stops right after it.
package piv
