package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// lazyAuth is the transport of a connection without credentials: it sends
// requests as they are, without go-containerregistry's ping and token
// exchange first, and only when the registry answers 401 does it set up
// that authentication (the ping reads the registry's challenge; a public
// repository on a token registry gets an anonymous token) and send the
// request again. A registry that needs no authentication, such as a
// private one on loopback, is then reached with no extra round trip: a
// verify whose trust data is cached makes two requests, the _tuf manifest
// and the tag.
type lazyAuth struct {
	base   http.RoundTripper
	reg    name.Registry
	scopes []string
	ua     string

	mu     sync.Mutex
	authed http.RoundTripper
}

func newLazyAuth(base http.RoundTripper, reg name.Registry, scopes []string, ua string) *lazyAuth {
	return &lazyAuth{base: base, reg: reg, scopes: scopes, ua: ua}
}

func (l *lazyAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	authed := l.authed
	l.mu.Unlock()
	if authed != nil {
		return authed.RoundTrip(req)
	}
	first := req
	if req.Body != nil && req.GetBody == nil {
		// A body that cannot be replayed goes straight to the
		// authenticated transport.
		t, err := l.upgrade(req.Context())
		if err != nil {
			return nil, err
		}
		return t.RoundTrip(req)
	}
	if req.Body != nil {
		first = req.Clone(req.Context())
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		first.Body = body
	}
	if first.Header.Get("User-Agent") == "" {
		first.Header.Set("User-Agent", l.ua)
	}
	resp, err := l.base.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	t, err := l.upgrade(req.Context())
	if err != nil {
		return nil, err
	}
	again := req.Clone(req.Context())
	if req.Body != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		again.Body = body
	}
	return t.RoundTrip(again)
}

// upgrade sets up go-containerregistry's authenticating transport, once.
func (l *lazyAuth) upgrade(ctx context.Context) (http.RoundTripper, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.authed != nil {
		return l.authed, nil
	}
	t, err := transport.NewWithContext(ctx, l.reg, authn.Anonymous, transport.NewUserAgent(l.base, l.ua), l.scopes)
	if err != nil {
		return nil, fmt.Errorf("authenticating to %s: %w", l.reg.RegistryStr(), err)
	}
	l.authed = t
	return t, nil
}
