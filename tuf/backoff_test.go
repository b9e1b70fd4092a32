package tuf

import (
	"testing"
	"time"
)

// The backoff after a conflict grows from the time the failed attempt took
// to 16 times that, capped at retryMaxDelay.
func TestUpdateBackoffDoublesFromTheAttemptsLengthUpToItsCaps(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n       int
		took    time.Duration
		ceiling time.Duration
	}{
		{1, 0, retryMinDelay},
		{1, 100 * time.Millisecond, 100 * time.Millisecond},
		{3, 100 * time.Millisecond, 400 * time.Millisecond},
		{9, 50 * time.Millisecond, 800 * time.Millisecond},
		{9, 100 * time.Millisecond, retryMaxDelay},
		{2, 2 * time.Second, retryMaxDelay},
	} {
		var most time.Duration
		for range 2000 {
			d := updateBackoff(c.n, c.took)
			if d < 0 || d > c.ceiling {
				t.Fatalf("updateBackoff(%d, %v) = %v, outside [0, %v]", c.n, c.took, d, c.ceiling)
			}
			most = max(most, d)
		}
		// 2000 uniform draws all below 90% of the ceiling: chance 0.9^2000.
		if most < c.ceiling*9/10 {
			t.Errorf("updateBackoff(%d, %v): the longest of 2000 waits was %v, the ceiling %v", c.n, c.took, most, c.ceiling)
		}
	}
}
