package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesTheFileWithItsModeAndLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	for _, durable := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.json")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, []byte("new"), 0o600, durable); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != "new" {
			t.Fatalf("durable=%v: content %q, %v", durable, got, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("durable=%v: mode %v", durable, fi.Mode().Perm())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("durable=%v: %d files left in the directory", durable, len(entries))
		}
	}
}

func TestWriteIntoAMissingDirectoryFailsAndIsTempNamesItsFiles(t *testing.T) {
	t.Parallel()
	if err := Write(filepath.Join(t.TempDir(), "no", "f"), []byte("x"), 0o600, false); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if !IsTemp(".lookups.memo.tmp-123") || IsTemp("lookups.memo") || IsTemp("3.snapshot.json") {
		t.Fatal("IsTemp does not tell Write's temporary files from others")
	}
}
