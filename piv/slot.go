package piv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
)

// Slot is a PIV key slot: 9a, 9c, 9d, 9e or a retired slot 82 to 95.
type Slot uint8

// Slots signet uses by name.
const (
	SlotAuthentication     Slot = 0x9a
	SlotSignature          Slot = 0x9c // the default for a root key
	SlotKeyManagement      Slot = 0x9d
	SlotCardAuthentication Slot = 0x9e
	firstRetired           Slot = 0x82
	lastRetired            Slot = 0x95
)

// ParseSlot parses a slot in hex ("9c", "82", "0x9c"; case does not
// matter). Other slots (the attestation slot f9, 9b) are refused.
func ParseSlot(s string) (Slot, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	v, err := strconv.ParseUint(t, 16, 8)
	if err != nil || len(t) != 2 || !Slot(v).valid() {
		return 0, errkind.Mark(errkind.Input, fmt.Errorf("invalid PIV slot %q: want 9a, 9c, 9d, 9e or 82 to 95", s))
	}
	return Slot(v), nil
}

func (s Slot) valid() bool {
	switch {
	case s == SlotAuthentication, s == SlotSignature, s == SlotKeyManagement, s == SlotCardAuthentication:
		return true
	case s >= firstRetired && s <= lastRetired:
		return true
	}
	return false
}

// Retired reports whether s is one of the retired key management slots
// 82 to 95, where signet puts targets keys.
func (s Slot) Retired() bool { return s >= firstRetired && s <= lastRetired }

// String returns the slot in lower-case hex, as ykman and the keystore
// write it ("9c", "82").
func (s Slot) String() string { return fmt.Sprintf("%02x", uint8(s)) }

// check refuses a slot signet does not use (errkind.Input).
func (s Slot) check() error {
	if !s.valid() {
		return errkind.Mark(errkind.Input, fmt.Errorf("invalid PIV slot %s", s))
	}
	return nil
}

// candidateSlots is the order in which Setup picks a slot when none is
// given: 9c, then the retired slots 82 to 95. Never 9a or 9e, where other
// tools such as yubikey-agent keep their keys.
func candidateSlots() []Slot {
	out := []Slot{SlotSignature}
	for s := firstRetired; s <= lastRetired; s++ {
		out = append(out, s)
	}
	return out
}

// PINPolicy says when a key needs the PIN.
type PINPolicy string

// PIN policies. Setup accepts PINOnce and PINAlways.
const (
	PINNever  PINPolicy = "never"
	PINOnce   PINPolicy = "once"   // once per session (per signet command)
	PINAlways PINPolicy = "always" // before every signature
)

// TouchPolicy says when a key needs a touch of the YubiKey.
type TouchPolicy string

// Touch policies.
const (
	TouchNever  TouchPolicy = "never"
	TouchAlways TouchPolicy = "always" // every signature
	TouchCached TouchPolicy = "cached" // one touch covers 15 seconds
)

// ParsePINPolicy parses "once" or "always".
func ParsePINPolicy(s string) (PINPolicy, error) {
	switch p := PINPolicy(s); p {
	case PINOnce, PINAlways:
		return p, nil
	}
	return "", errkind.Mark(errkind.Input, fmt.Errorf("invalid PIN policy %q: want once or always", s))
}

// ParseTouchPolicy parses "always", "cached" or "never".
func ParseTouchPolicy(s string) (TouchPolicy, error) {
	switch p := TouchPolicy(s); p {
	case TouchAlways, TouchCached, TouchNever:
		return p, nil
	}
	return "", errkind.Mark(errkind.Input, fmt.Errorf("invalid touch policy %q: want always, cached or never", s))
}

// Version is a YubiKey firmware version.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// atLeast reports whether v >= major.minor.patch.
func (v Version) atLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

func itoa(n int) string { return fmt.Sprint(n) }
