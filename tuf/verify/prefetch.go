package verify

import (
	"context"
	"strings"
	"sync"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// prefetch reads, in parallel and ahead of the updater, the files a lookup
// of one target will ask for: timestamp.json and the newest snapshot,
// targets and hash-bins files of the view, then (once the hash-bins role is
// read) the bin the target falls in. The updater asks for them one after
// the other and verifies each before asking for the next, so without this
// every file costs a round trip to the registry after the CPU work on the
// previous one; with it, the reads overlap each other and that work.
//
// It only moves reads earlier: the bytes are what View.ReadFile returns
// (which checks them against the view's digests), and the updater verifies
// them as it would have. A file prefetch guessed wrong, or could not read,
// is read again by the updater as usual.
type prefetch struct {
	mu    sync.Mutex
	files map[string]*prefetched
	wg    sync.WaitGroup
}

type prefetched struct {
	done chan struct{}
	data []byte
	err  error
}

// startPrefetch starts reading the files of view that a lookup of target
// is expected to need. Call wait before the view's context ends.
func startPrefetch(ctx context.Context, view tufmeta.View, target string) *prefetch {
	p := &prefetch{files: map[string]*prefetched{}}
	latest := latestVersions(view.Files())
	p.start(ctx, view, metadata.TIMESTAMP+".json", nil)
	for _, role := range []string{metadata.SNAPSHOT, metadata.TARGETS} {
		if name, ok := latest[role]; ok {
			p.start(ctx, view, name, nil)
		}
	}
	if name, ok := latest[tufmeta.BinsRole]; ok {
		p.start(ctx, view, name, func(data []byte) {
			// Not verified yet: whatever it holds may only cost a wasted
			// read, never a crash.
			defer func() { _ = recover() }()
			bins, err := metadata.Targets().FromBytes(data)
			if err != nil || bins.Signed.Delegations == nil || bins.Signed.Delegations.SuccinctRoles == nil {
				return
			}
			succinct := bins.Signed.Delegations.SuccinctRoles
			if succinct.BitLength < 1 || succinct.BitLength > 32 {
				return
			}
			for _, bin := range succinct.GetRolesForTarget(target) {
				if name, ok := latest[bin.Name]; ok {
					p.start(ctx, view, name, nil)
				}
			}
		})
	}
	return p
}

// start reads name in the background, then calls next with its content.
func (p *prefetch) start(ctx context.Context, view tufmeta.View, name string, next func([]byte)) {
	f := &prefetched{done: make(chan struct{})}
	p.mu.Lock()
	p.files[name] = f
	p.mu.Unlock()
	p.wg.Go(func() {
		f.data, f.err = view.ReadFile(ctx, name, fetchRoleMax(name))
		close(f.done)
		if f.err == nil && next != nil {
			next(f.data)
		}
	})
}

// get returns the content of name when prefetch read it, waiting for a
// read in flight; ok is false when prefetch did not read it.
func (p *prefetch) get(name string) ([]byte, bool) {
	if p == nil {
		return nil, false
	}
	p.mu.Lock()
	f := p.files[name]
	p.mu.Unlock()
	if f == nil {
		return nil, false
	}
	<-f.done
	return f.data, f.err == nil
}

// wait waits for every read prefetch started.
func (p *prefetch) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// latestVersions maps each role of a consistent-snapshot file list to its
// newest file name ("3.snapshot.json" for snapshot); roots are left out.
func latestVersions(files []string) map[string]string {
	out := map[string]string{}
	best := map[string]int64{}
	for _, name := range files {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		role, v := fetchRole(name)
		if v <= 0 || role == metadata.ROOT {
			continue
		}
		if v > best[role] {
			best[role], out[role] = v, name
		}
	}
	return out
}
