package signer

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestParseRefReadsEveryForm(t *testing.T) {
	t.Parallel()
	cases := map[string]Ref{
		"yubikey":                    {Kind: RefYubiKey},
		"yubikey:12345678":           {Kind: RefYubiKey, Serial: 12345678},
		"yubikey:12345678/9C":        {Kind: RefYubiKey, Serial: 12345678, Slot: "9c"},
		"yubikey:1/82":               {Kind: RefYubiKey, Serial: 1, Slot: "82"},
		"yubikey:4294967295/95":      {Kind: RefYubiKey, Serial: 4294967295, Slot: "95"},
		"file:ci.pem":                {Kind: RefFile, Path: "ci.pem"},
		"file:/abs/path with space":  {Kind: RefFile, Path: "/abs/path with space"},
		"env:CI_KEY":                 {Kind: RefEnv, Var: "CI_KEY"},
		"ci":                         {Kind: RefKeystore, Name: "ci"},
		"3f2a9c01":                   {Kind: RefKeystore, Name: "3f2a9c01"},
		"127.0.0.1:5000/app/targets": {Kind: RefKeystore, Name: "127.0.0.1:5000/app/targets"},
	}
	for in, want := range cases {
		got, err := ParseRef(in)
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestParseRefRefusesMalformedReferencesAsInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "yubikey:", "yubikey:abc", "yubikey:0", "yubikey:-1", "yubikey:4294967296",
		"yubikey:123/9b", "yubikey:123/96", "yubikey:123/", "yubikey:/9c", "yubikey:123/9c/x", "file:", "env:", "env:1X",
		"env:A-B", "has space", "/abs", "a/../b", strings.Repeat("k", 201)} {
		_, err := ParseRef(in)
		if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "invalid key reference") {
			t.Errorf("ParseRef(%q) = %v", in, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"yubikey", "yubikey:12345678/9c", "yubikey:1", "file:x.pem", "env:SIGNET_KEY", "ci",
		"127.0.0.1:5000/team/app/snapshot", "yubikey:12/", "env:", "a/../b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if errkind.Of(err) != errkind.Input || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseRef(%q): error %v", s, err)
			}
			return
		}
		again, err := ParseRef(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRef(%q) = %+v, but its String %q parses to %+v, %v", s, r, r.String(), again, err)
		}
	})
}
