package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestAdmissionServeParsesItsFlags(t *testing.T) {
	f, _, _ := newTestFactory(nil)
	var got *admissionServeOptions
	cmd := newAdmissionServeCmd(f, func(o *admissionServeOptions) error { got = o; return nil })
	err := execCmd(cmd, "--addr", "127.0.0.1:8443", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--policy", "p.yaml", "--check-timeout", "3s")
	if err != nil || got.Addr != "127.0.0.1:8443" || got.TLSCert != "c.pem" || got.TLSKey != "k.pem" || got.Policy != "p.yaml" || got.CheckTimeout != 3*time.Second {
		t.Fatalf("flags: %v %+v", err, got)
	}
	cmd = newAdmissionServeCmd(f, func(o *admissionServeOptions) error { got = o; return nil })
	if err := execCmd(cmd, "--addr", ":8443", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--policy", "p.yaml"); err != nil || got.CheckTimeout != 8*time.Second {
		t.Fatalf("default check timeout: %v %+v", err, got)
	}
	for _, missing := range []string{"--addr", "--tls-cert", "--tls-key", "--policy"} {
		args := []string{"--addr", ":8443", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--policy", "p.yaml"}
		for i := range args {
			if args[i] == missing {
				args = append(args[:i:i], args[i+2:]...)
				break
			}
		}
		cmd := newAdmissionServeCmd(f, func(*admissionServeOptions) error { t.Fatal("ran without " + missing); return nil })
		if err := execCmd(cmd, args...); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), missing) {
			t.Fatalf("without %s: %v", missing, err)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signet-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// minimalRoot is root metadata, as much as a policy needs to load.
const minimalRoot = `{"signed":{"_type":"root","spec_version":"1.0.31","version":1,"expires":"2099-01-01T00:00:00Z","consistent_snapshot":true,"keys":{},"roles":{"root":{"keyids":[],"threshold":1},"targets":{"keyids":[],"threshold":1},"snapshot":{"keyids":[],"threshold":1},"timestamp":{"keyids":[],"threshold":1}}},"signatures":[]}`

func TestAdmissionServeAnswersOverTLSOnlyAndStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "root.json"), []byte(minimalRoot), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("rules: [{repositories: [\"r.example/*\"], root: root.json}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	ios := &iostreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: pw}
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, []string{"--timeout", "1ms", "--home", filepath.Join(dir, "home"), "admission", "serve",
			"--addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--policy", policy}, mapEnv(nil), ios)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("no output from admission serve")
	}
	rest, ok := strings.CutPrefix(lines.Text(), "signet: serving the admission webhook on https://")
	if !ok {
		t.Fatalf("first line = %q, want 'signet: serving the admission webhook on https://ADDR ...'", lines.Text())
	}
	addr, _, _ := strings.Cut(rest, " ")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %s", resp.Status)
	}
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get("https://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a TLS 1.1 client was answered")
	}
	cancel()
	var after []string
	for lines.Scan() {
		after = append(after, lines.Text())
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit code after cancel = %d, output %q", code, after)
	}
	// The refused TLS 1.1 handshake may be logged before it.
	if len(after) == 0 || after[len(after)-1] != "signet: stopped" {
		t.Fatalf("after cancel: %q", after)
	}
}

func TestAdmissionServeRefusesABadPolicyBeforeListening(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("rules: [{repositories: [\"r.example/*\"], root: root.json, extra: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runSignet(t, nil, "--home", filepath.Join(dir, "home"), "admission", "serve", "--addr", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile, "--policy", policy)
	if r.code != 2 || !strings.Contains(r.errOut, "unknown field") || strings.Count(r.errOut, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want 2 and one line naming the unknown field", r.code, r.errOut)
	}
}
