package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSettleDelayIsThreeTimesTheSlowestRequestWithinItsBounds(t *testing.T) {
	for _, tc := range []struct {
		floor, slowest time.Duration
		lo, hi         time.Duration
	}{
		{DefaultSettleDelay, 0, DefaultSettleDelay, DefaultSettleDelay},
		{DefaultSettleDelay, 2 * time.Millisecond, DefaultSettleDelay, DefaultSettleDelay + 2*time.Millisecond},
		{DefaultSettleDelay, 100 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond},
		{DefaultSettleDelay, 5 * time.Second, MaxSettleDelay, MaxSettleDelay},
		{0, time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond},
	} {
		c := newClient(t, WithSettleDelay(tc.floor))
		for range 20 {
			if d := c.settleDelay(tc.slowest); d < tc.lo || d > tc.hi {
				t.Fatalf("floor %s, slowest request %s: settle %s, want %s..%s", tc.floor, tc.slowest, d, tc.lo, tc.hi)
			}
		}
	}
}

// TestPublishReadsTheTagBackOnceAfterThreeTimesItsSlowestRequest holds
// every request of a publish for hold: the one read-back of the tag must
// come at least three of those after the registry answered the move.
func TestPublishReadsTheTagBackOnceAfterThreeTimesItsSlowestRequest(t *testing.T) {
	const hold = 40 * time.Millisecond
	h, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var moved time.Time
	var readBacks []time.Time
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		time.Sleep(hold)
		isTag := strings.HasSuffix(r.URL.Path, "/manifests/_tuf")
		mu.Lock()
		if isTag && r.Method == http.MethodHead && !moved.IsZero() {
			readBacks = append(readBacks, arrived)
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
		if isTag && r.Method == http.MethodPut {
			mu.Lock()
			moved = time.Now()
			mu.Unlock()
		}
	}))
	c := newClient(t, WithSettleDelay(0))
	m := loadEmpty(t, c, MetadataRef(uniqueRepo(t, host)))
	if err := m.Publish(context.Background(), map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(readBacks) != 1 {
		t.Fatalf("the tag was read back %d times after the move, want once", len(readBacks))
	}
	if waited := readBacks[0].Sub(moved); waited < settleFactor*hold {
		t.Errorf("read back %s after the move, want at least %d x %s", waited, settleFactor, hold)
	}
}
