// Package notarytest gives tests Notary v1 trust data to read: metadata
// made by the notary Go library itself (the generator in
// notary/testdata/notarygen, run with `go run` in its own module), served
// over HTTP in Notary's URL layout, a proxy that alters responses on the
// way, and the real notary-server and notary client that
// scripts/lib/notary.sh starts for `make test`.
package notarytest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// Fixture is one generated repository.
type Fixture struct {
	GUN string
	// Files maps a role (root, targets, targets/releases, ...) to its
	// metadata.
	Files map[string][]byte
	// RootCert is the root key's certificate; RootCertFile holds it as PEM.
	RootCert     *x509.Certificate
	RootCertFile string
}

// Generate makes a Notary repository for gun with the notary library.
// Each sign is ROLE:TAG=SHA256HEX:SIZE; every delegation named is created.
func Generate(t testing.TB, gun string, signs ...string) *Fixture {
	t.Helper()
	fx, err := GenerateDir(t.TempDir(), gun, signs...)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// GenerateDir is Generate into the directory out, for callers without a
// testing.TB (testscript commands).
func GenerateDir(out, gun string, signs ...string) (*Fixture, error) {
	args := []string{"run", ".", "-gun", gun, "-out", out}
	for _, s := range signs {
		args = append(args, "-sign", s)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("notarygen needs the go command: %w", err)
	}
	dir, err := generatorDir()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("notarygen: %w\n%s", err, b)
	}
	return Load(out, gun)
}

// Load reads a repository that notarygen wrote into dir.
func Load(dir, gun string) (*Fixture, error) {
	fx := &Fixture{GUN: gun, Files: map[string][]byte{}, RootCertFile: filepath.Join(dir, "root.crt")}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		fx.Files[strings.TrimSuffix(filepath.ToSlash(rel), ".json")] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	if fx.RootCert, err = readCert(fx.RootCertFile); err != nil {
		return nil, err
	}
	return fx, nil
}

func readCert(file string) (*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM", file)
	}
	return x509.ParseCertificate(block.Bytes)
}

func generatorDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate notarytest's source")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "notarygen"), nil
}

// Server serves trust data in Notary's layout,
// /v2/<GUN>/_trust/tuf/<role>.json. Set replaces a file while it runs.
type Server struct {
	URL string
	gun string
	mu  sync.Mutex
	fs  map[string][]byte
}

// Serve serves fx until the test ends.
func Serve(t testing.TB, fx *Fixture) *Server {
	t.Helper()
	s := NewServer(fx)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// NewServer returns the handler of fx's files, for callers that run their
// own HTTP server; URL is left empty.
func NewServer(fx *Fixture) *Server {
	s := &Server{gun: fx.GUN, fs: map[string][]byte{}}
	for k, v := range fx.Files {
		s.fs[k] = v
	}
	return s
}

// Set replaces (or, with nil, removes) a role's file.
func (s *Server) Set(role string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		delete(s.fs, role)
		return
	}
	s.fs[role] = b
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/v2/" + s.gun + "/_trust/tuf/"
	role, ok := strings.CutPrefix(r.URL.Path, prefix)
	role, ok2 := strings.CutSuffix(role, ".json")
	s.mu.Lock()
	b, found := s.fs[role]
	s.mu.Unlock()
	if !ok || !ok2 || !found || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// Proxy forwards to upstream and lets rewrite change each response body
// (by request path) on the way: an attacker in the middle.
func Proxy(t testing.TB, upstream string, rewrite func(path string, body []byte) []byte) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = rewrite(resp.Request.URL.Path, b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Live is the notary-server v0.7.0 and notary client that
// scripts/lib/notary.sh started and installed (SIGNET_TEST_NOTARY,
// SIGNET_TEST_NOTARY_BIN_DIR).
type Live struct {
	URL string
	Bin string // the notary client
}

// NeedLive returns the live server, skipping the test without it (fatal
// under `make test`).
func NeedLive(t testing.TB) *Live {
	t.Helper()
	u := testenv.Need(t, "SIGNET_TEST_NOTARY")
	dir := testenv.Need(t, "SIGNET_TEST_NOTARY_BIN_DIR")
	return &Live{URL: u, Bin: filepath.Join(dir, "notary")}
}

// Client runs the notary client with its own trust directory, so each
// test has its own keys; passphrases come from the environment.
func (l *Live) Client(t testing.TB) func(args ...string) {
	t.Helper()
	dir := t.TempDir()
	return func(args ...string) {
		t.Helper()
		cmd := exec.Command(l.Bin, append([]string{"-s", l.URL, "-d", dir}, args...)...)
		cmd.Env = append(os.Environ(),
			"NOTARY_ROOT_PASSPHRASE=root-pass-for-tests",
			"NOTARY_TARGETS_PASSPHRASE=targets-pass-for-tests",
			"NOTARY_SNAPSHOT_PASSPHRASE=snapshot-pass-for-tests",
			"NOTARY_DELEGATION_PASSPHRASE=delegation-pass-for-tests",
		)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("notary %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
}
