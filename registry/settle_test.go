package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSettleDelayIsFourTimesTheSlowestRequestWithinItsBounds(t *testing.T) {
	for _, tc := range []struct {
		floor, slowest time.Duration
		lo, hi         time.Duration
	}{
		{DefaultSettleDelay, 0, DefaultSettleDelay, DefaultSettleDelay},
		{DefaultSettleDelay, 2 * time.Millisecond, DefaultSettleDelay, DefaultSettleDelay + 2*time.Millisecond},
		{DefaultSettleDelay, 100 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond},
		{DefaultSettleDelay, 5 * time.Second, MaxSettleDelay, MaxSettleDelay},
		{0, time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond},
	} {
		c := newClient(t, WithSettleDelay(tc.floor))
		for range 20 {
			if d := c.settleDelay(tc.slowest); d < tc.lo || d > tc.hi {
				t.Fatalf("floor %s, slowest request %s: settle %s, want %s..%s", tc.floor, tc.slowest, d, tc.lo, tc.hi)
			}
		}
	}
}

// TestPublishReadsTheTagBackOnceAfterFourTimesItsSlowestRequest holds
// every request of a publish for hold: the one read-back of the tag must
// come at least four of those after the registry answered the move.
func TestPublishReadsTheTagBackOnceAfterFourTimesItsSlowestRequest(t *testing.T) {
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

// TestPreparedUploadSessionsAreUsedByThePublish opens three sessions
// ahead, then publishes three files: the publish opens none itself, and
// one session that fails is replaced by a fresh upload.
func TestPreparedUploadSessionsAreUsedByThePublish(t *testing.T) {
	for _, failOne := range []bool{false, true} {
		var armed atomic.Bool // fail the next PUT of an upload
		host, seen := serveScripted(t, func(n int, kind string, w http.ResponseWriter, r *http.Request) bool {
			if kind == "PUT uploads" && armed.CompareAndSwap(true, false) {
				http.Error(w, "injected", http.StatusInternalServerError)
				return true
			}
			return false
		})
		ctx := context.Background()
		c := newClient(t, fastRetry, WithSettleDelay(0))
		tag := MetadataRef(uniqueRepo(t, host))
		if err := loadEmpty(t, c, tag).Publish(ctx, map[string][]byte{"1.root.json": []byte("r")}, nil); err != nil {
			t.Fatal(err)
		}
		m, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		before := seen.count("POST uploads")
		c.PrepareUploads(ctx, tag.Context(), 3)
		armed.Store(failOne)
		put := map[string][]byte{"timestamp.json": []byte("t"), "2.snapshot.json": []byte("s"), "2.targets.json": []byte("g")}
		if err := m.Publish(ctx, put, nil); err != nil {
			t.Fatalf("publish with prepared sessions (one failing: %v): %v", failOne, err)
		}
		want := 3
		if failOne {
			want = 4
		}
		if got := seen.count("POST uploads") - before; got != want {
			t.Errorf("one failing: %v: %d upload sessions opened, want %d", failOne, got, want)
		}
		after, err := c.Metadata(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		for fn, b := range put {
			if got, err := after.ReadFile(ctx, fn, 0); err != nil || string(got) != string(b) {
				t.Errorf("%s after the publish: %q, %v", fn, got, err)
			}
		}
	}
}
