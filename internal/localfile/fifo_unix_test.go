//go:build unix

package localfile

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestReadRefusesAFIFOWithoutWaitingForAWriter(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "key.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := Read(fifo, 1<<10); !errors.Is(err, ErrNotRegular) || errkind.Of(err) != errkind.Internal {
		t.Errorf("Read(FIFO) = %v, want ErrNotRegular, unmarked (the caller marks it)", err)
	}
	if _, err := Read(t.TempDir(), 10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Read(directory) = %v, want ErrNotRegular", err)
	}
}
