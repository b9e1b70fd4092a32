package registry

import (
	"context"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// PrepareUploads starts opening n blob upload sessions in repo, in
// parallel and in the background, for the Client's next Publish there:
// its uploads then take one round trip instead of two, and its check of
// the tag runs alongside them. A command calls it as soon as it knows
// that it will publish, while it still unlocks keys and signs; it returns
// at once. A Publish that starts meanwhile waits for the sessions being
// opened rather than open others. Nothing is reported: a session that
// could not be opened is opened by Publish as without it. A session no
// Publish uses stays open in the registry until the registry purges it
// (distribution: after a week).
func (c *Client) PrepareUploads(ctx context.Context, repo name.Repository, n int) {
	r, err := c.repo(repo)
	if err != nil {
		return
	}
	key := r.Name()
	done := make(chan struct{})
	c.mu.Lock()
	if c.preparing == nil {
		c.preparing = map[string]chan struct{}{}
	}
	c.preparing[key] = done
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			if c.preparing[key] == done {
				delete(c.preparing, key)
			}
			c.mu.Unlock()
			close(done)
		}()
		cn, err := c.connect(ctx, repo, true)
		if err != nil {
			return
		}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if loc, err := cn.startUpload(ctx); err == nil {
					c.mu.Lock()
					if c.sessions == nil {
						c.sessions = map[string][]*url.URL{}
					}
					c.sessions[key] = append(c.sessions[key], loc)
					c.mu.Unlock()
				}
			})
		}
		wg.Wait()
	}()
}

// takeSessions returns up to n of the sessions PrepareUploads opened in
// the connection's repository, once those being opened are; no other
// caller gets them.
func (cn *conn) takeSessions(ctx context.Context, n int) []*url.URL {
	c, key := cn.c, cn.repo.Name()
	c.mu.Lock()
	done := c.preparing[key]
	c.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	have := c.sessions[key]
	n = min(n, len(have))
	if n == 0 {
		return nil
	}
	c.sessions[key] = have[:len(have)-n]
	return have[len(have)-n:]
}
