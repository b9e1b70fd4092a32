package notary

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

// Default bounds; see WithMaxSize.
const (
	DefaultMaxSize = 32 << 20 // any metadata file
	maxRootSize    = 1 << 20  // root and timestamp, whose lengths nobody gives
	defaultTimeout = 60 * time.Second
)

// Client reads trust data from one Notary server.
type Client struct {
	base *url.URL
	opts options
}

// Option configures a Client.
type Option func(*options) error

type options struct {
	hc       *http.Client
	rootCAs  *x509.CertPool
	pinned   []*x509.Certificate
	now      func() time.Time
	maxSize  int64
	insecure bool
}

// WithHTTPClient sets the HTTP client. Default: a client with a 60 s
// timeout over http.DefaultTransport. Conflicts with WithRootCAs.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("nil HTTP client")
		}
		o.hc = hc
		return nil
	}
}

// WithRootCAs sets the CAs that the server's TLS certificate must chain
// to. Default: the system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) error { o.rootCAs = pool; return nil }
}

// WithRootCert pins the repository's root: it must be signed by a
// threshold of root keys with one of these certificates. Default: none,
// and the root is trusted on first use.
func WithRootCert(certs ...*x509.Certificate) Option {
	return func(o *options) error {
		for _, c := range certs {
			if c == nil {
				return errors.New("nil root certificate")
			}
		}
		o.pinned = append(o.pinned, certs...)
		return nil
	}
}

// WithClock sets the clock that expiries are checked against. Default:
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}

// WithMaxSize bounds the size of any one metadata file. Default:
// DefaultMaxSize.
func WithMaxSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return errors.New("max size must be positive")
		}
		o.maxSize = n
		return nil
	}
}

// WithInsecure allows a plain http:// server URL that is not on the
// loopback interface. Default: plain HTTP only to localhost.
func WithInsecure() Option {
	return func(o *options) error { o.insecure = true; return nil }
}

// New returns a client of the Notary server at serverURL (https://HOST
// or, for loopback or with WithInsecure, http://HOST).
func New(serverURL string, opts ...Option) (*Client, error) {
	o := options{now: time.Now, maxSize: DefaultMaxSize}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("notary client: %w", err))
		}
	}
	if o.hc != nil && o.rootCAs != nil {
		return nil, errkind.Mark(errkind.Input, errors.New("notary client: WithHTTPClient and WithRootCAs conflict"))
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("notary server %q: want https://HOST[:PORT][/PATH]", serverURL))
	}
	if u.Scheme == "http" && !o.insecure && !isLoopback(u.Hostname()) {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("notary server %s: plain HTTP only to localhost; use https:// (or --insecure)", u.Redacted()))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if o.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: o.rootCAs, MinVersion: tls.VersionTLS12}
		o.hc = &http.Client{Timeout: defaultTimeout, Transport: t}
	}
	return &Client{base: u, opts: o}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Fetch downloads and verifies the trust data of gun (such as
// docker.io/team/app). A repository that fails verification is refused
// as a whole, with an error wrapping one of the Err sentinels (marked
// errkind.Verification); a server without the GUN gives ErrNotFound
// (errkind.Input); network and server failures are errkind.Registry.
func (c *Client) Fetch(ctx context.Context, gun string) (*Repository, error) {
	if err := checkGUN(gun); err != nil {
		return nil, err
	}
	v := &verifier{
		gun:     gun,
		now:     c.opts.now(),
		pinned:  c.opts.pinned,
		maxSize: c.opts.maxSize,
		maxRoot: min(maxRootSize, c.opts.maxSize),
	}
	s := &session{c: c, gun: gun}
	v.fetch = s.get
	return v.run(ctx)
}

// session is one Fetch: the bearer token, once the server asked for one.
type session struct {
	c     *Client
	gun   string
	token string
}

func (s *session) get(ctx context.Context, role string, max int64) ([]byte, error) {
	b, challenge, err := s.c.get(ctx, s.gun, role, max, s.token)
	if challenge == "" || s.token != "" {
		return b, err
	}
	if s.token, err = s.c.anonymousToken(ctx, challenge); err != nil {
		return nil, err
	}
	b, _, err = s.c.get(ctx, s.gun, role, max, s.token)
	return b, err
}

// checkGUN refuses names that are not repository names.
func checkGUN(gun string) error {
	bad := gun == "" || len(gun) > 255 || strings.HasPrefix(gun, "/") || strings.HasSuffix(gun, "/") ||
		strings.Contains(gun, "//") || strings.Contains(gun, "..")
	for _, r := range gun {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:", r)) {
			bad = true
		}
	}
	if bad {
		return errkind.Mark(errkind.Input, fmt.Errorf("%q is not a Notary GUN (such as docker.io/team/app)", gun))
	}
	return nil
}

// URL returns where role's metadata of gun is served.
func (c *Client) URL(gun, role string) string {
	u := *c.base
	u.Path += "/v2/" + gun + "/_trust/tuf/" + role + ".json"
	return u.String()
}

// get downloads one metadata file, at most max bytes. A 401 with a
// bearer challenge returns the challenge (and an error) when no token
// was sent.
func (c *Client) get(ctx context.Context, gun, role string, max int64, token string) ([]byte, string, error) {
	u := c.URL(gun, role)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", errkind.Mark(errkind.Input, fmt.Errorf("fetching %s: %w", role, err))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.opts.hc.Do(req)
	if err != nil {
		return nil, "", errkind.Mark(errkind.Registry, fmt.Errorf("fetching %s of %s from %s: %w", role, gun, c.base.Redacted(), err))
	}
	defer resp.Body.Close()
	var challenge string
	if resp.StatusCode == http.StatusUnauthorized && token == "" {
		challenge = resp.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(strings.ToLower(challenge), "bearer ") {
			challenge = ""
		}
	}
	b, err := c.body(resp, gun, role, max)
	return b, challenge, err
}

func (c *Client) body(resp *http.Response, gun, role string, max int64) ([]byte, error) {
	switch {
	case resp.StatusCode == http.StatusNotFound && role == roleRoot:
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s at %s: %w", gun, c.base.Redacted(), ErrNotFound))
	case resp.StatusCode == http.StatusNotFound:
		return nil, failf(ErrInvalid, "%s of %s is missing on the server", role, gun)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, errkind.Mark(errkind.Registry, fmt.Errorf("fetching %s of %s: the server refused access (HTTP %d); signet reads Notary servers anonymously", role, gun, resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return nil, errkind.Mark(errkind.Registry, fmt.Errorf("fetching %s of %s: HTTP %d from %s", role, gun, resp.StatusCode, c.base.Redacted()))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, errkind.Mark(errkind.Registry, fmt.Errorf("reading %s of %s: %w", role, gun, err))
	}
	if int64(len(b)) > max {
		return nil, failf(ErrHashMismatch, "%s of %s is larger than %d bytes", role, gun, max)
	}
	return b, nil
}
