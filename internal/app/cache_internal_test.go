package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTheCacheKeepsTheNewestHalfWhenFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 10 {
		p := filepath.Join(dir, fmt.Sprintf("f%02d", i))
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		ts := time.Unix(int64(1000+i), 0)
		if err := os.Chtimes(p, ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	pruneCache(dir, 20)
	if entries, _ := os.ReadDir(dir); len(entries) != 10 {
		t.Fatalf("pruned below the bound: %d left", len(entries))
	}
	pruneCache(dir, 8)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 || entries[0].Name() != "f06" {
		t.Fatalf("after pruning: %v", entries)
	}
}
