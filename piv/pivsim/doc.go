// Package pivsim is a virtual YubiKey: the PIV applet of a YubiKey 5
// (firmware 5.4 behaviour by default, 5.7 with its AES-192 default
// management key on request) as a pure APDU processor, plus the client side
// of the vsmartcard vpcd protocol, so that the real PC/SC stack (piv-go,
// libpcsclite, pcscd, the vpcd reader driver) talks to it as to a card in a
// reader.
//
// A Card keeps its state (PIN, PUK, management key, keys, data objects and a
// per-card test attestation CA that stands in for Yubico's) in a JSON state
// file written atomically after every change, so keys survive a restart.
// Touch is simulated: by default the card touches itself after a short
// delay; it can be told never to touch, or to touch only after the touch
// timeout, so the timeout path is testable. Counters of touches, signatures
// and PIN verifications let tests assert "one push = one touch".
//
// cmd/pivsim runs one or two cards; its control server (see Client) lets
// tests in other packages read the counters, change the touch mode, factory
// reset a card and pull it out of the reader. Package pivsimtest gives
// tests the environment that scripts/lib/pcsc.sh exports.
package pivsim
