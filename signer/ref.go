package signer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

// RefKind says which form a key reference has.
type RefKind int

// The forms of a key reference (docs/design.md §5).
const (
	RefKeystore RefKind = iota // NAME or key-ID prefix of a keystore key
	RefYubiKey                 // yubikey, yubikey:SERIAL, yubikey:SERIAL/SLOT
	RefFile                    // file:PATH, a PEM key or a signet bundle
	RefEnv                     // env:VAR, a PEM key or a signet bundle in the variable
)

// Ref is a parsed key reference.
type Ref struct {
	Kind   RefKind
	Serial uint32 // RefYubiKey: 0 means the one YubiKey connected
	Slot   string // RefYubiKey: lower-case hex slot, "" means signet's choice
	Path   string // RefFile
	Var    string // RefEnv
	Name   string // RefKeystore: a key name or key-ID prefix
}

// String returns the reference in the form ParseRef reads.
func (r Ref) String() string {
	switch r.Kind {
	case RefYubiKey:
		switch {
		case r.Serial == 0:
			return "yubikey"
		case r.Slot == "":
			return "yubikey:" + strconv.FormatUint(uint64(r.Serial), 10)
		}
		return "yubikey:" + strconv.FormatUint(uint64(r.Serial), 10) + "/" + r.Slot
	case RefFile:
		return "file:" + r.Path
	case RefEnv:
		return "env:" + r.Var
	}
	return r.Name
}

// ParseRef parses a key reference: "yubikey", "yubikey:SERIAL",
// "yubikey:SERIAL/SLOT" (SERIAL in decimal, SLOT in hex: 9a, 9c, 9d, 9e or
// 82-95), "file:PATH", "env:VAR", or otherwise the name or key-ID prefix of
// a keystore key. A malformed reference is an errkind.Input error.
func ParseRef(s string) (Ref, error) {
	r, err := parseRef(s)
	if err != nil {
		return Ref{}, errkind.Mark(errkind.Input, fmt.Errorf("invalid key reference %q: %w", truncate(s), err))
	}
	return r, nil
}

func parseRef(s string) (Ref, error) {
	switch {
	case s == "":
		return Ref{}, errors.New("empty")
	case s == "yubikey":
		return Ref{Kind: RefYubiKey}, nil
	case strings.HasPrefix(s, "yubikey:"):
		return parseYubiKey(strings.TrimPrefix(s, "yubikey:"))
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return Ref{}, errors.New("want file:PATH")
		}
		return Ref{Kind: RefFile, Path: p}, nil
	case strings.HasPrefix(s, "env:"):
		v := strings.TrimPrefix(s, "env:")
		if !validEnvName(v) {
			return Ref{}, errors.New("want env:VAR with VAR a variable name ([A-Za-z_][A-Za-z0-9_]*)")
		}
		return Ref{Kind: RefEnv, Var: v}, nil
	}
	if err := keystore.ValidateName(s); err != nil {
		return Ref{}, errors.New("not yubikey[:SERIAL[/SLOT]], file:PATH, env:VAR or a key name")
	}
	return Ref{Kind: RefKeystore, Name: s}, nil
}

func parseYubiKey(rest string) (Ref, error) {
	serial, slot, hasSlot := strings.Cut(rest, "/")
	n, err := strconv.ParseUint(serial, 10, 32)
	if err != nil || n == 0 {
		return Ref{}, errors.New("want yubikey:SERIAL or yubikey:SERIAL/SLOT with SERIAL the decimal serial number")
	}
	r := Ref{Kind: RefYubiKey, Serial: uint32(n)}
	if hasSlot {
		norm, ok := keystore.NormalizeSlot(slot)
		if !ok {
			return Ref{}, fmt.Errorf("slot %q: want 9a, 9c, 9d, 9e or 82 to 95 (hex)", truncate(slot))
		}
		r.Slot = norm
	}
	return r, nil
}

func validEnvName(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
