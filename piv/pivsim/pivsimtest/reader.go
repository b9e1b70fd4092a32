package pivsimtest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// WaitReader waits until pcscd reports a card present (or absent) in the
// named reader, as `opensc-tool --list-readers` shows it. Open a card only
// after that: piv-go leaks its exclusive handle when an open races a
// reader's state change, and the card then stays busy for the process.
func WaitReader(ctx context.Context, reader string, present bool) error {
	want := "No"
	if present {
		want = "Yes"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out []byte
	for {
		var err error
		out, err = exec.CommandContext(ctx, "opensc-tool", "--list-readers").CombinedOutput()
		if err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				if strings.HasSuffix(line, reader) && len(f) > 2 && f[1] == want {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pcscd did not see the card in %q as present=%v within 20 s:\n%s", reader, present, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
