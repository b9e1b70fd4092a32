// Package ctxsleep waits for a while unless a context ends first: the
// backoffs and settle delays of publishing and retrying, and the pauses of
// the benchmark, must all stop at once on Ctrl-C.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, or returns ctx's error as soon as ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
