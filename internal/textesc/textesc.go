// Package textesc makes text that came from outside signet (a registry's
// error message, a role or tag name from metadata, a Notary tag, a file
// name) safe to print on a terminal: every control character becomes a
// visible escape, so a hostile string cannot erase a line, move the
// cursor, hide text or ring the bell.
//
// String escapes C0 controls (0x00–0x1f, tab and newline included), DEL
// (0x7f), the C1 controls U+0080–U+009F (CSI U+009B among them) and every
// byte that is not valid UTF-8, each into its own visible sequence, so
// nothing is dropped. Everything else, printable Unicode included, is kept
// as it is. The backslash is kept too: errors often quote with %q, which
// escapes already, and doubling its backslashes would make them
// unreadable; so the escape is reversible for text without backslashes.
package textesc

import (
	"strings"
	"unicode/utf8"
)

// String returns s with every control character and invalid UTF-8 byte
// escaped: \t, \n, \r, \xHH for other bytes below 0x80 and for invalid
// bytes, \u00HH for the C1 controls. It returns s itself when
// nothing needs escaping.
func String(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if needsEscape(rune(c)) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || isC1(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			writeASCII(&b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, `\x`, c)
		case isC1(r):
			writeHex(&b, `\u00`, byte(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune) bool { return r < 0x20 || r == 0x7f }

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

func writeASCII(b *strings.Builder, c byte) {
	switch {
	case c == '\t':
		b.WriteString(`\t`)
	case c == '\n':
		b.WriteString(`\n`)
	case c == '\r':
		b.WriteString(`\r`)
	case needsEscape(rune(c)):
		writeHex(b, `\x`, c)
	default:
		b.WriteByte(c)
	}
}

const hexDigits = "0123456789abcdef"

func writeHex(b *strings.Builder, prefix string, c byte) {
	b.WriteString(prefix)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

// JSON escapes what encoding/json leaves raw in its output: DEL and the
// C1 controls become \u007f and \u0080–\u009f. Those runes can only
// stand inside JSON strings, so the result is the same JSON value. Invalid
// UTF-8 never reaches it: encoding/json writes U+FFFD instead.
func JSON(b []byte) []byte {
	out := b[:0:0]
	last := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || isC1(r) {
			out = append(out, b[last:i]...)
			out = append(out, '\\', 'u', '0', '0', hexDigits[byte(r)>>4], hexDigits[byte(r)&0xf])
			last = i + n
		}
		i += n
	}
	if last == 0 {
		return b
	}
	return append(out, b[last:]...)
}
