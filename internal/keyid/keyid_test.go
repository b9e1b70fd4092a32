package keyid

import (
	"slices"
	"testing"
)

func TestShortKeepsSixteenCharactersAndShortIDsWhole(t *testing.T) {
	full := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got := Short(full); got != "0123456789abcdef" {
		t.Fatalf("Short(full) = %q", got)
	}
	if got := Short("abc"); got != "abc" {
		t.Fatalf("Short(abc) = %q", got)
	}
	if got := Shorts([]string{full, "ab"}); !slices.Equal(got, []string{"0123456789abcdef", "ab"}) {
		t.Fatalf("Shorts = %q", got)
	}
}
