package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-dev/signet/internal/ctxsleep"
)

// Counts is what crossed a Proxy: requests answered, and bytes read from and
// written to its clients on the wire (HTTP headers included).
type Counts struct {
	Requests int64 `json:"requests"`
	BytesIn  int64 `json:"bytesIn"`  // client to registry
	BytesOut int64 `json:"bytesOut"` // registry to client
	// Chain is the critical path (Proxy.Since): the most requests of a
	// command that followed one another, each sent after the one before
	// it was answered. Only meaningful with a delay (SetDelay), which
	// keeps requests sent together overlapping.
	Chain int64 `json:"chain,omitempty"`

	spans int // requests timed so far, for Since
}

// Bytes is all bytes in both directions.
func (c Counts) Bytes() int64 { return c.BytesIn + c.BytesOut }

// Sub is c minus an earlier snapshot.
func (c Counts) Sub(earlier Counts) Counts {
	return Counts{
		Requests: c.Requests - earlier.Requests,
		BytesIn:  c.BytesIn - earlier.BytesIn,
		BytesOut: c.BytesOut - earlier.BytesOut,
	}
}

// span is when one request arrived at the proxy and when its answer was
// written, in nanoseconds since the proxy started.
type span struct{ start, end int64 }

// Proxy is a reverse proxy on loopback in front of one registry that
// counts every request and every byte. The Host header is passed through,
// so the URLs the registry hands out (blob upload locations) point back at
// the proxy.
type Proxy struct {
	mu       sync.Mutex
	log      io.Writer // nil: no request log
	addr     string
	srv      *http.Server
	requests atomic.Int64
	in, out  atomic.Int64
	delay    atomic.Int64 // nanoseconds each request is held
	epoch    time.Time
	spans    []span // guarded by mu
}

// ProxyOption configures StartProxy.
type ProxyOption func(*Proxy) error

// WithRequestLog writes a line per request (method, path and query) to w.
// Default: no log.
func WithRequestLog(w io.Writer) ProxyOption {
	return func(p *Proxy) error {
		if w == nil {
			return fmt.Errorf("nil request log")
		}
		p.log = w
		return nil
	}
}

// StartProxy listens on a free loopback port and forwards to the registry
// at target (host:port, plain HTTP) until ctx ends or Close is called.
func StartProxy(ctx context.Context, target string, opts ...ProxyOption) (*Proxy, error) {
	u, err := url.Parse("http://" + target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad registry address %q", target)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the proxy: %w", err)
	}
	p := &Proxy{addr: ln.Addr().String(), epoch: time.Now()}
	for _, o := range opts {
		if err := o(p); err != nil {
			ln.Close()
			return nil, err
		}
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Since(p.epoch)
			p.requests.Add(1)
			p.Logf("%s %s", r.Method, r.URL.RequestURI())
			if d := time.Duration(p.delay.Load()); d > 0 {
				if ctxsleep.Sleep(r.Context(), d) != nil {
					return
				}
			}
			rp.ServeHTTP(w, r)
			p.mu.Lock()
			p.spans = append(p.spans, span{int64(start), int64(time.Since(p.epoch))})
			p.mu.Unlock()
		}),
		ReadHeaderTimeout: 30 * time.Second,
	}
	// Serve only fails when the listener does; the commands then fail with
	// connection errors, which is what the driver reports.
	go func() { _ = p.srv.Serve(&countingListener{Listener: ln, p: p}) }()
	go func() {
		<-ctx.Done()
		_ = p.Close()
	}()
	return p, nil
}

// Addr is the proxy's host:port; use it as the registry in image names.
func (p *Proxy) Addr() string { return p.addr }

// SetDelay holds every request for d before forwarding it, as if the
// registry were a round trip of d away (0: none, the default).
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Snapshot returns the totals so far; subtract two snapshots for one
// command, or pass one to Since.
func (p *Proxy) Snapshot() Counts {
	p.mu.Lock()
	n := len(p.spans)
	p.mu.Unlock()
	return Counts{Requests: p.requests.Load(), BytesIn: p.in.Load(), BytesOut: p.out.Load(), spans: n}
}

// Since returns what crossed the proxy after the snapshot before, with the
// critical path (Counts.Chain) of the requests answered since then.
func (p *Proxy) Since(before Counts) Counts {
	now := p.Snapshot()
	c := now.Sub(before)
	p.mu.Lock()
	c.Chain = int64(chain(p.spans[before.spans:now.spans]))
	p.mu.Unlock()
	return c
}

// chain is the longest sequence of spans each starting after the one
// before it ended.
func chain(spans []span) int {
	n := len(spans)
	byStart, byEnd := make([]int, n), make([]int, n)
	for i := range n {
		byStart[i], byEnd[i] = i, i
	}
	slices.SortFunc(byStart, func(a, b int) int { return cmp.Compare(spans[a].start, spans[b].start) })
	slices.SortFunc(byEnd, func(a, b int) int { return cmp.Compare(spans[a].end, spans[b].end) })
	length := make([]int, n)
	best, k, longest := 0, 0, 0
	for _, i := range byStart {
		// Every span that ended before i started began before it too, so
		// its length is known.
		for ; k < n && spans[byEnd[k]].end <= spans[i].start; k++ {
			best = max(best, length[byEnd[k]])
		}
		length[i] = best + 1
		longest = max(longest, length[i])
	}
	return longest
}

// Logf writes a line to the request log, if there is one: the driver marks
// which command the requests that follow belong to.
func (p *Proxy) Logf(format string, args ...any) {
	if p.log == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.log, format+"\n", args...)
}

// Close stops the proxy.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

type countingListener struct {
	net.Listener
	p *Proxy
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, p: l.p}, nil
}

type countingConn struct {
	net.Conn
	p *Proxy
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.p.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.p.out.Add(int64(n))
	return n, err
}
