package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/registry/registrytest/faultproxy"
)

// TestThroughRandomFaultsEveryCallSucceedsOrFailsCleanly publishes, reads,
// pushes and pulls through a proxy that fails a third of the requests:
// each call either succeeds or fails as a registry error, and the
// artifact always reads back whole, with the content of the last publish
// that succeeded or of a later one.
func TestThroughRandomFaultsEveryCallSucceedsOrFailsCleanly(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		p, err := faultproxy.Start(host, faultproxy.Config{Seed: 42, Error: 0.1, TooMany: 0.08, Drop: 0.1, Slow: 0.05, SlowDelay: 30 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		faulty := newClient(t, WithRetry(RetryPolicy{Attempts: 4, MinDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Budget: 10 * time.Second}))
		direct := newClient(t)
		repo := registrytest.UniqueRepo(t, host)
		viaProxy := mustRepo(t, p.Addr()+"/"+repo.RepositoryStr())

		ok, failed := 0, 0
		last := -1 // the version the artifact holds
		for i := range 20 {
			content := fmt.Sprintf("version %d", i)
			m, err := faulty.Metadata(ctx, MetadataRef(viaProxy))
			if err == nil || m != nil && len(m.Files()) == 0 {
				err = m.Publish(ctx, map[string][]byte{"timestamp.json": []byte(content)}, nil)
			}
			switch {
			case err == nil:
				ok++
			case errkind.Is(err, errkind.Registry):
				failed++
			default:
				t.Fatalf("round %d: err = %v (kind %v), want success or a registry error", i, err, errkind.Of(err))
			}
			if strings.Count(err2s(err), "\n") > 0 {
				t.Fatalf("round %d: error of more than one line: %q", i, err)
			}
			// A publish that failed may still have moved the tag (its
			// answer was lost); one that succeeded must have.
			got := readVersion(t, direct, MetadataRef(repo))
			if got < last || got > i || (err == nil && got != i) {
				t.Fatalf("round %d (err %v): artifact holds version %d, before it %d", i, err, got, last)
			}
			last = got
		}
		img := registrytest.RandomImage(t, 1024, 2)
		src := "oci:" + registrytest.WriteLayout(t, img, "v1")
		pushed, pushErr := faulty.PushImage(ctx, src, viaProxy.Tag("v1"), nil)
		if pushErr != nil && !errkind.Is(pushErr, errkind.Registry) {
			t.Fatalf("push through faults: %v", pushErr)
		}
		if pushErr == nil {
			dir := filepath.Join(t.TempDir(), "pulled")
			if err := faulty.PullImage(ctx, viaProxy.Digest(pushed.Digest.String()), dir); err != nil && !errkind.Is(err, errkind.Registry) {
				t.Fatalf("pull through faults: %v", err)
			}
		}
		st := p.Stats()
		t.Logf("%d publishes succeeded, %d failed cleanly; push: %v; proxy %+v", ok, failed, pushErr, st)
		if ok == 0 || st.Errors+st.TooMany+st.Dropped == 0 {
			t.Fatalf("nothing succeeded or no fault was injected: %d ok, %+v", ok, st)
		}
	})
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readVersion reads "version N" from the artifact's timestamp.json; -1
// when there is no artifact yet.
func readVersion(t *testing.T, c *Client, tag name.Tag) int {
	t.Helper()
	m, err := c.Metadata(context.Background(), tag)
	if errors.Is(err, ErrNoMetadata) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.ReadFile(context.Background(), "timestamp.json", 0)
	if err != nil {
		t.Fatalf("artifact at %s does not read whole: %v", tag, err)
	}
	var v int
	if _, err := fmt.Sscanf(string(b), "version %d", &v); err != nil {
		t.Fatalf("timestamp.json is %q", b)
	}
	return v
}
