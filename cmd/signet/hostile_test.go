package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// hostileText is what a hostile registry or metadata writer puts in a
// string to drive the terminal: erase the line, go to column 1, print a
// fake success, hide what follows; BEL, CR, DEL, the 8-bit CSI (as a
// rune and as a raw byte), a tab and a newline.
const hostileText = "\x1b[2K\x1b[1Gsignet: verified OK\x1b[8m\a\r\x7f\u009b31m\x9b\t\n"

// terminalBytes must never reach stdout or stderr raw.
var terminalBytes = []byte{0x1b, 0x07, 0x9b, 0x0d}

// cmdHostile starts a hostile HTTP server on 127.0.0.1 for the script and
// sets VAR to its host:port:
//
//	hostile 403 VAR           answers every request but /v2/ with 403 and an
//	                          error message full of terminal controls
//	hostile drip VAR TARGET   forwards to TARGET, sending answer bodies one
//	                          byte every two seconds
//	hostile liehead VAR TARGET
//	                          forwards to TARGET, but answers HEAD of an
//	                          image tag with a size and digest of its own
//	hostile text VAR          sets VAR to hostileText, VAR_GLOB to a tag
//	                          pattern holding it (valid UTF-8, brackets
//	                          closed) and VAR_TAG to a Notary tag name
//	                          holding CSI and DEL; no server
//	hostile name VAR          sets VAR to a repository name no other run
//	                          used (the real registry is shared); no server
func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: hostile 403|drip|liehead|text VAR [TARGET]")
	}
	var h http.Handler
	switch mode := args[0]; {
	case mode == "text":
		ts.Setenv(args[1], hostileText)
		ts.Setenv(args[1]+"_GLOB", strings.ToValidUTF8(hostileText, "")+"]")
		// Notary's canonical JSON writes strings raw and refuses C0
		// controls; C1 CSI and DEL go through.
		ts.Setenv(args[1]+"_TAG", "\u009b2K\u009b1Gimported OK\u009b8m\x7f")
		return
	case mode == "name":
		ts.Setenv(args[1], fmt.Sprintf("hostile/r%d", time.Now().UnixNano()))
		return
	case mode == "403":
		h = http.HandlerFunc(forbidHostile)
	case len(args) != 3:
		ts.Fatalf("hostile %s needs a TARGET", mode)
	case mode == "drip":
		p := proxyTo(args[2])
		p.FlushInterval = -1
		p.ModifyResponse = func(resp *http.Response) error {
			resp.Body = &dripBody{rc: resp.Body}
			return nil
		}
		h = p
	case mode == "liehead":
		p := proxyTo(args[2])
		p.ModifyResponse = func(resp *http.Response) error {
			path := resp.Request.URL.Path
			if resp.Request.Method == http.MethodHead && strings.Contains(path, "/manifests/") && !strings.HasSuffix(path, "/_tuf") {
				resp.Header.Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
				resp.Header.Set("Content-Length", "2")
				resp.ContentLength = 2
			}
			return nil
		}
		h = p
	default:
		ts.Fatalf("unknown mode %q", mode)
	}
	srv := httptest.NewServer(h)
	ts.Defer(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	ts.Setenv(args[1], strings.TrimPrefix(srv.URL, "http://"))
}

// forbidHostile answers 403 with a registry error whose message would
// print "signet: verified OK" over the real error on a terminal.
func forbidHostile(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		return
	}
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": "DENIED", "message": hostileText}}})
	// encoding/json writes the raw 0x9b byte as U+FFFD: put it back.
	body = bytes.ReplaceAll(body, []byte(`\ufffd`), []byte{0x9b})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	w.Write(body)
}

func proxyTo(target string) *httputil.ReverseProxy {
	u := &url.URL{Scheme: "http", Host: target}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorLog = nil
	return p
}

// dripBody gives one byte every two seconds.
type dripBody struct{ rc io.ReadCloser }

func (b *dripBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	time.Sleep(2 * time.Second)
	return b.rc.Read(p[:1])
}

func (b *dripBody) Close() error { return b.rc.Close() }

// cmdNoControl fails when stdout or stderr of the last command holds a
// byte that drives a terminal (ESC, BEL, CSI, CR).
func cmdNoControl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: nocontrol")
	}
	for _, stream := range []string{"stdout", "stderr"} {
		b := []byte(ts.ReadFile(stream))
		for _, c := range terminalBytes {
			if i := bytes.IndexByte(b, c); i >= 0 {
				ts.Fatalf("%s holds byte %#x at %d: %q", stream, c, i, b[max(0, i-20):min(len(b), i+20)])
			}
		}
	}
}
