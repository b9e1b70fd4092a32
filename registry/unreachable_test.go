package registry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestHTTPSToAPlainHTTPRegistrySuggestsInsecureInOneLine(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	// registry.test is not localhost, so the client speaks HTTPS; every
	// connection still goes to the plain-HTTP server on 127.0.0.1.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	c, err := New(WithTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := ParseTag("registry.test:5000/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(context.Background(), tag)
	if errkind.Of(err) != errkind.Registry {
		t.Fatalf("kind = %v (%v), want Registry (exit 4)", errkind.Of(err), err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "registry registry.test:5000 is not reachable (it answers plain HTTP, not HTTPS") ||
		!strings.HasSuffix(msg, "pass --insecure if plain HTTP to it is what you want") || strings.Contains(msg, "\n") {
		t.Fatalf("error = %q, want one line naming the registry and --insecure", msg)
	}
	if strings.Contains(msg, "http://") {
		t.Fatalf("error = %q: tried plain HTTP without --insecure", msg)
	}
}
