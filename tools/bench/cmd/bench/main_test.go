package main

import (
	"slices"
	"testing"
)

func TestParseFlagsReadsSizesAndRejectsBadOnes(t *testing.T) {
	c, err := parseFlags([]string{"-registry", "127.0.0.1:5000", "-work", "/tmp/x", "-sizes", "10 1000,100000"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.sizes, []int{10, 1000, 100000}) {
		t.Errorf("sizes = %v", c.sizes)
	}
	for _, args := range [][]string{
		{"-work", "/tmp/x"},
		{"-registry", "r:1", "-work", "/tmp/x", "-sizes", "100 10"},
		{"-registry", "r:1", "-work", "/tmp/x", "-sizes", "ten"},
		{"-registry", "r:1", "-work", "/tmp/x", "-sizes", ""},
		{"-registry", "r:1", "-work", "/tmp/x", "-runs", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted bad flags", args)
		}
	}
}
