package textesc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// terminalBytes are the bytes a hostile string uses to drive a terminal:
// ESC, BEL, CR, BS, DEL and the 8-bit CSI.
var terminalBytes = []byte{0x1b, 0x07, 0x0d, 0x08, 0x7f, 0x9b}

func TestStringEscapesControlsVisiblyAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain v1.2 ünïcödé 日本":           "plain v1.2 ünïcödé 日本",
		"\x1b[2K\x1b[1Gsignet: OK\x1b[8m": `\x1b[2K\x1b[1Gsignet: OK\x1b[8m`,
		"bell\a cr\r bs\b del\x7f":        `bell\x07 cr\r bs\x08 del\x7f`,
		"tab\tnl\n":                       `tab\tnl\n`,
		"csi\u009b31m c1\u0085":           `csi\u009b31m c1\u0085`,
		"raw\x9b\xff":                     `raw\x9b\xff`,
		`back\slash \x1b`:                 `back\slash \x1b`,
		"nul\x00":                         `nul\x00`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONEscapesWhatEncodingJSONLeavesRaw(t *testing.T) {
	t.Parallel()
	v := map[string]string{"name": "a\x1b\a\r\x7f\u009b\u0085b"}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.ContainsAny(raw, "\x7f") || !bytes.Contains(raw, []byte("\u009b")) {
		t.Fatalf("encoding/json escaped DEL and C1 itself (%q): the post-pass may be dropped", raw)
	}
	out := JSON(raw)
	for _, c := range terminalBytes {
		if bytes.IndexByte(out, c) >= 0 {
			t.Errorf("byte %#x left in %q", c, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["name"] != v["name"] {
		t.Fatalf("escaped JSON %q decodes to %q, %v", out, back, err)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "v1", "\x1b[2K", "\u009b", "\xff\xfe", `\x1b`, "\\", "a\tb\nc\r", "日本\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, c := range terminalBytes {
			if c == 0x9b {
				continue // a continuation byte of printable runes; checked below
			}
			if strings.IndexByte(out, c) >= 0 {
				t.Fatalf("String(%q) = %q holds byte %#x", s, out, c)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || isC1(r) {
				t.Fatalf("String(%q) = %q holds control %U", s, out, r)
			}
		}
		if !strings.Contains(s, `\`) {
			back, err := unescape(out)
			if err != nil || back != s {
				t.Fatalf("unescape(String(%q)) = %q, %v: the escape lost content", s, back, err)
			}
		}
		// Rune by rune: each maps on its own (to itself, or to an escape
		// starting with a backslash), so nothing is dropped or merged.
		var each strings.Builder
		for i, r := range s {
			n := len(string(r))
			if r == utf8.RuneError {
				_, n = utf8.DecodeRuneInString(s[i:])
			}
			each.WriteString(String(s[i : i+n]))
		}
		if each.String() != out {
			t.Fatalf("String(%q) = %q, rune by rune %q", s, out, each.String())
		}
		raw, _ := json.Marshal(s)
		j := JSON(raw)
		for _, r := range string(j) {
			if r < 0x20 || r == 0x7f || isC1(r) {
				t.Fatalf("JSON(%q) holds control %U", raw, r)
			}
		}
		var dec string
		if err := json.Unmarshal(j, &dec); err != nil || utf8.ValidString(s) && dec != s {
			t.Fatalf("JSON(%q) decodes to %q, %v", raw, dec, err)
		}
	})
}
