package verify

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSyncTrustDirRemovesTemporaryFilesACrashLeft(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"root.json": "{}", "timestamp.json": "{}", "tuf_tmp123": "half"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := syncTrustDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tuf_tmp123")); !os.IsNotExist(err) {
		t.Fatalf("temporary file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.json")); err != nil {
		t.Fatalf("metadata removed: %v", err)
	}
}
