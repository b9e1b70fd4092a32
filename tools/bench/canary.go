package bench

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
)

// Canary is a loopback listener to set as HTTP_PROXY and HTTPS_PROXY for a
// tool that must stay offline: every connection to it is a request the tool
// tried to send beyond loopback (Go never proxies loopback addresses). It
// counts the connection and closes it at once, so the attempt fails.
type Canary struct {
	ln    net.Listener
	count atomic.Int64
}

// StartCanary listens on a free loopback port until ctx ends or Close.
func StartCanary(ctx context.Context) (*Canary, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the canary proxy: %w", err)
	}
	c := &Canary{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			conn.Close()
		}
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	return c, nil
}

// URL is the proxy URL to put in HTTP_PROXY and HTTPS_PROXY.
func (c *Canary) URL() string { return "http://" + c.ln.Addr().String() }

// Attempts is how many connections reached the canary.
func (c *Canary) Attempts() int64 { return c.count.Load() }

// Env is the environment that sends every non-loopback request to the
// canary.
func (c *Canary) Env() []string {
	u := c.URL()
	return []string{"HTTP_PROXY=" + u, "HTTPS_PROXY=" + u, "http_proxy=" + u, "https_proxy=" + u, "NO_PROXY=", "no_proxy="}
}

// Close stops the canary.
func (c *Canary) Close() error { return c.ln.Close() }
