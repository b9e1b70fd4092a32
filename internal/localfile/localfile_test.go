package localfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestReadIsBoundedAndCheckPrivateWantsMode600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("Read at the limit = %q, %v", b, err)
	}
	// Unmarked: the caller says whose file it is (input, or the keystore's).
	if _, err := Read(p, 9); !errors.Is(err, ErrTooLarge) || errkind.Of(err) != errkind.Internal {
		t.Fatalf("Read over the limit = %v, want ErrTooLarge, unmarked", err)
	}
	err := CheckPrivate(p)
	if !errors.Is(err, ErrNotPrivate) || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("CheckPrivate(0644) = %v, want ErrNotPrivate (key) saying chmod 600", err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(p); err != nil {
		t.Fatalf("CheckPrivate(0600) = %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read(missing) = %v", err)
	}
}
