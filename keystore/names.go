package keystore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MaxNameLen is the longest key name the keystore accepts.
const MaxNameLen = 200

// ValidateName checks a key name: 1 to 200 characters from
// [A-Za-z0-9._@:/-], starting with a letter or digit, without "..", not
// ending in "/", and not looking like another kind of key reference
// ("yubikey", "yubikey:…", "file:…", "env:…"). Names such as
// "127.0.0.1:5000/team/app/snapshot" are valid.
func ValidateName(name string) error {
	if err := validateName(name); err != nil {
		return inputErr(fmt.Errorf("invalid key name %q: %w", truncate(name), err))
	}
	return nil
}

func validateName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("longer than %d characters", MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && strings.IndexByte("._@:/-", c) >= 0:
		case i == 0:
			return errors.New("must start with a letter or digit")
		default:
			return fmt.Errorf("character %q not allowed (use A-Z a-z 0-9 . _ @ : / -)", c)
		}
	}
	if strings.Contains(name, "..") {
		return errors.New(`must not contain ".."`)
	}
	if strings.HasSuffix(name, "/") {
		return errors.New(`must not end with "/"`)
	}
	if name == "yubikey" || strings.HasPrefix(name, "yubikey:") || strings.HasPrefix(name, "file:") || strings.HasPrefix(name, "env:") {
		return errors.New("looks like a yubikey, file: or env: key reference")
	}
	return nil
}

// fileName maps a valid key name to a file name in keys/: "/" and ":" are
// escaped as %2F and %3A ("%" is not a name character, so the mapping is
// one to one); a name whose escaped form would be too long for a file
// system becomes "~" and the SHA-256 of the name. The name itself is kept
// inside the file.
func fileName(name string) string {
	r := strings.NewReplacer("/", "%2F", ":", "%3A")
	esc := r.Replace(name)
	if len(esc) > 240 {
		sum := sha256.Sum256([]byte(name))
		esc = "~" + hex.EncodeToString(sum[:])
	}
	return esc + ".key"
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
