package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/internal/errkind"
)

// Defaults of the Client's options.
const (
	DefaultMaxMetadataSize = 16 << 20         // bytes per metadata file
	DefaultMaxManifestSize = 4 << 20          // bytes per manifest
	DefaultRequestTimeout  = 60 * time.Second // without an answer or data moving
	defaultUserAgent       = "signet"
)

// Client talks to OCI registries. It is safe for concurrent use.
type Client struct {
	opts options
	base http.RoundTripper // guarded, bounded, timed; below ggcr's auth

	mu    sync.Mutex
	conns map[string]*conn // by repository name
}

type options struct {
	insecure    bool
	keychain    authn.Keychain
	transport   http.RoundTripper
	userAgent   string
	maxMetadata int64
	maxManifest int64
	// manifestCache is WithManifestCache's directory; "" for none.
	manifestCache string
	timeout       time.Duration
	minRate       TransferRate
	retry         RetryPolicy
	settle        time.Duration
}

// Option configures a Client.
type Option func(*options) error

// WithInsecure allows plain HTTP to every registry. Without it, plain HTTP
// is used only for "localhost", "127.0.0.1" and "[::1]" (with or without a
// port), and refused elsewhere.
func WithInsecure(insecure bool) Option {
	return func(o *options) error {
		o.insecure = insecure
		return nil
	}
}

// WithKeychain sets where credentials come from. The default is
// authn.DefaultKeychain: the Docker config file and its credential helpers.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("nil keychain")
		}
		o.keychain = k
		return nil
	}
}

// WithTransport sets the HTTP transport under authentication, for example
// one with custom TLS roots. The default is remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		if t == nil {
			return errors.New("nil transport")
		}
		o.transport = t
		return nil
	}
}

// WithUserAgent sets the User-Agent of every request (default "signet").
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithMaxMetadataSize bounds each metadata file read from the metadata
// artifact (default DefaultMaxMetadataSize).
func WithMaxMetadataSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("metadata size limit %d is not positive", n)
		}
		o.maxMetadata = n
		return nil
	}
}

// WithMaxManifestSize bounds every manifest read, of images and of the
// metadata artifact (default DefaultMaxManifestSize).
func WithMaxManifestSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("manifest size limit %d is not positive", n)
		}
		o.maxManifest = n
		return nil
	}
}

// WithRequestTimeout sets how long a request may go without the registry
// answering or data moving before it fails (default DefaultRequestTimeout).
// Large uploads and downloads that make progress are not cut off.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("request timeout %s is not positive", d)
		}
		o.timeout = d
		return nil
	}
}

// TransferRate is the slowest a registry may send an answer's body: once
// Grace has passed since the answer came, the request fails as soon as
// fewer than BytesPerSecond bytes a second of the body have arrived on
// average. With the request timeout, which bounds the wait for the
// answer, it makes the overall deadline of every request: an answer of n
// bytes takes at most max(Grace, n/BytesPerSecond) to arrive, so a
// registry that sends a byte now and then to defeat the request timeout
// still fails.
type TransferRate struct {
	BytesPerSecond int64
	Grace          time.Duration
}

// DefaultMinTransferRate is what a Client uses without
// WithMinTransferRate: 4 KiB/s on average after 30 s.
func DefaultMinTransferRate() TransferRate {
	return TransferRate{BytesPerSecond: 4 << 10, Grace: 30 * time.Second}
}

// WithMinTransferRate sets the slowest a request may move data (default
// DefaultMinTransferRate()). A failure for being too slow is not retried.
func WithMinTransferRate(r TransferRate) Option {
	return func(o *options) error {
		if r.BytesPerSecond <= 0 || r.Grace <= 0 {
			return fmt.Errorf("minimum transfer rate %d bytes/s after %s is not positive", r.BytesPerSecond, r.Grace)
		}
		o.minRate = r
		return nil
	}
}

// New returns a Client configured by opts.
func New(opts ...Option) (*Client, error) {
	o := options{
		keychain:    authn.DefaultKeychain,
		transport:   remote.DefaultTransport,
		userAgent:   defaultUserAgent,
		maxMetadata: DefaultMaxMetadataSize,
		maxManifest: DefaultMaxManifestSize,
		timeout:     DefaultRequestTimeout,
		minRate:     DefaultMinTransferRate(),
		retry:       DefaultRetryPolicy(),
		settle:      DefaultSettleDelay,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("registry client: %w", err))
		}
	}
	c := &Client{opts: o}
	c.base = &retryTransport{policy: o.retry, next: &guardTransport{
		next:        o.transport,
		insecure:    o.insecure,
		timeout:     o.timeout,
		minRate:     o.minRate,
		maxManifest: o.maxManifest,
	}}
	return c, nil
}

// isLoopback reports whether a registry host (with or without port) is
// one that plain HTTP is automatic for.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// plainHTTP reports whether the client talks plain HTTP to reg.
func (c *Client) plainHTTP(reg name.Registry) bool {
	return c.opts.insecure || isLoopback(reg.RegistryStr())
}

// repo returns r with the scheme this client uses for its registry.
func (c *Client) repo(r name.Repository) (name.Repository, error) {
	if !c.plainHTTP(r.Registry) {
		return r, nil
	}
	return name.NewRepository(r.Name(), name.Insecure)
}

// ref returns r with the scheme this client uses for its registry.
func (c *Client) ref(r name.Reference) (name.Reference, error) {
	if !c.plainHTTP(r.Context().Registry) {
		return r, nil
	}
	return name.ParseReference(r.Name(), name.Insecure)
}

// auth resolves the credentials for repo, and whether there are none.
func (c *Client) auth(ctx context.Context, repo name.Repository) (authn.Authenticator, bool, error) {
	a, err := authn.Resolve(ctx, c.opts.keychain, repo)
	if err != nil {
		return nil, false, errkind.Mark(errkind.Input, fmt.Errorf("reading credentials for %s: %w", repo.RegistryStr(), err))
	}
	return a, a == authn.Anonymous, nil
}

// remoteOptions are the ggcr options for an operation on repo.
func (c *Client) remoteOptions(ctx context.Context, a authn.Authenticator, extra ...remote.Option) []remote.Option {
	return append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(a),
		remote.WithTransport(c.base),
		remote.WithUserAgent(c.opts.userAgent),
		// The transport retries single requests; ggcr restarts whole
		// blob uploads, with the same policy, and repeats nothing else.
		remote.WithRetryBackoff(c.opts.retry.ggcrBackoff()),
		remote.WithRetryPredicate(transientError),
		remote.WithRetryStatusCodes(),
	}, extra...)
}
