// Package faultproxy is a reverse proxy for tests that puts a misbehaving
// network in front of a real registry: seeded at random, it answers 500s
// and 429s without forwarding, drops connections before forwarding, after
// forwarding (the registry acted but the client never hears) or in the
// middle of the answer, and delays answers. Hooks let a test act at the
// Nth request, for example kill a client process while its request is
// held. It listens on loopback only.
package faultproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Config says which faults a Proxy injects. Probabilities are per request
// and are tried in the order of the fields; their sum should stay below 1.
type Config struct {
	Seed uint64
	// Error answers 500, 502 or 503 without forwarding.
	Error float64
	// TooMany answers 429 with "Retry-After: 0" or "1" without forwarding.
	TooMany float64
	// Drop closes the connection without an answer: before forwarding,
	// after forwarding, or after half of the answer's body, a third each.
	Drop float64
	// Slow holds the request for a random time up to SlowDelay first.
	Slow      float64
	SlowDelay time.Duration

	// Faulty, when set, limits faults to the requests it returns true for.
	Faulty func(r *http.Request) bool
	// BeforeForward is called with the request's number (from 1) before
	// it is forwarded, after any random fault chose to let it through;
	// returning false drops the connection without forwarding it.
	BeforeForward func(n int, r *http.Request) bool
	// AfterForward is called with the request's number once the registry
	// answered, before the answer is passed on; returning false drops the
	// connection instead (the registry acted, the client never hears).
	AfterForward func(n int, r *http.Request) bool
}

// Stats counts what a Proxy did.
type Stats struct {
	Requests, Errors, TooMany, Dropped, Slowed int
}

// Proxy forwards to one registry and injects the faults of its Config.
type Proxy struct {
	target string
	cfg    Config
	tr     *http.Transport
	srv    *http.Server
	ln     net.Listener

	mu    sync.Mutex
	rnd   *rand.Rand
	stats Stats
}

// Start listens on 127.0.0.1 and proxies to target (host:port, plain HTTP).
func Start(target string, cfg Config) (*Proxy, error) {
	if cfg.Slow > 0 && cfg.SlowDelay <= 0 {
		return nil, errors.New("faultproxy: Slow needs a SlowDelay")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		target: target,
		cfg:    cfg,
		tr:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 32},
		ln:     ln,
		rnd:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)),
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	p.tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		return p.srv.Close()
	}
	return nil
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

type fault int

const (
	pass fault = iota
	fail
	tooMany
	dropBefore
	dropAfter
	dropMidBody
)

// draw numbers the request and picks its fate.
func (p *Proxy) draw(r *http.Request) (n int, f fault, delay time.Duration, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	n = p.stats.Requests
	if p.cfg.Faulty != nil && !p.cfg.Faulty(r) {
		return n, pass, 0, 0
	}
	x := p.rnd.Float64()
	c := p.cfg
	switch {
	case x < c.Error:
		p.stats.Errors++
		return n, fail, 0, []int{500, 502, 503}[p.rnd.IntN(3)]
	case x < c.Error+c.TooMany:
		p.stats.TooMany++
		return n, tooMany, 0, p.rnd.IntN(2)
	case x < c.Error+c.TooMany+c.Drop:
		p.stats.Dropped++
		return n, []fault{dropBefore, dropAfter, dropMidBody}[p.rnd.IntN(3)], 0, 0
	case x < c.Error+c.TooMany+c.Drop+c.Slow:
		p.stats.Slowed++
		return n, pass, time.Duration(p.rnd.Int64N(int64(c.SlowDelay) + 1)), 0
	}
	return n, pass, 0, 0
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, f, delay, code := p.draw(r)
	switch f {
	case fail:
		http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}`, code)
		return
	case tooMany:
		w.Header().Set("Retry-After", strconv.Itoa(code))
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected fault"}]}`, http.StatusTooManyRequests)
		return
	case dropBefore:
		drop(w)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if p.cfg.BeforeForward != nil && !p.cfg.BeforeForward(n, r) {
		drop(w)
		return
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if f == dropAfter || (p.cfg.AfterForward != nil && !p.cfg.AfterForward(n, r)) {
		drop(w)
		return
	}
	if f == dropMidBody {
		p.cutBody(w, resp)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// forward sends r to the registry, keeping its Host header so that the
// registry's Location headers point back at the proxy.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = "http"
	out.URL.Host = p.target
	out.Host = r.Host
	if r.ContentLength == 0 {
		out.Body = nil
	}
	return p.tr.RoundTrip(out)
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// cutBody writes the answer's head with its full length and half of its
// body, then closes the connection.
// An answer without a body (to HEAD, or a 201) is dropped instead.
func (p *Proxy) cutBody(w http.ResponseWriter, resp *http.Response) {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if len(body) < 2 || resp.Request.Method == http.MethodHead {
		drop(w)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	writeHead(bw.Writer, resp, len(body))
	_, _ = bw.Write(body[:len(body)/2])
	_ = bw.Flush()
}

func writeHead(bw *bufio.Writer, resp *http.Response, length int) {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	h := resp.Header.Clone()
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(length))
	_ = h.Write(bw)
	fmt.Fprint(bw, "\r\n")
}
