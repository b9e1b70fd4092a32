//go:build cgo || windows

package pivsim_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/signet-dev/signet/piv/pivsim"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

// open opens the card with the serial through pcscd and closes it when the
// test ends (or earlier through the returned function).
func open(t *testing.T, env *pivsimtest.Env, serial uint32) (*piv.YubiKey, func()) {
	t.Helper()
	reader := env.Reader
	if serial == env.Serial2 {
		reader = env.Reader2
	}
	yk, err := piv.Open(reader)
	if err != nil {
		t.Fatalf("opening %q: %v", reader, err)
	}
	closed := false
	closeFn := func() {
		if !closed {
			closed = true
			yk.Close()
		}
	}
	t.Cleanup(closeFn)
	got, err := yk.Serial()
	if err != nil || got != serial {
		t.Fatalf("card in %q: serial %d, %v; want %d", reader, got, err, serial)
	}
	return yk, closeFn
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// setTouch changes the touch configuration of a card for this test.
func setTouch(t *testing.T, env *pivsimtest.Env, serial uint32, cfg pivsim.TouchConfig) {
	t.Helper()
	if _, err := env.Client.SetTouch(ctx(t), serial, cfg); err != nil {
		t.Fatal(err)
	}
}

func counters(t *testing.T, env *pivsimtest.Env, serial uint32) pivsim.Counters {
	t.Helper()
	n, err := env.Client.Counters(ctx(t), serial)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// attestationRoots loads the simulator CAs scripts/lib/pcsc.sh wrote.
func attestationRoots(t *testing.T, env *pivsimtest.Env) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(env.AttestationCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificates in %s", env.AttestationCA)
	}
	return pool
}

// selfSigned makes a certificate for the slot's key, signed by the card.
func selfSigned(t *testing.T, signer crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatalf("signing a certificate on the card: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tool runs an independent client and returns its combined output.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (scripts/deps.sh installs it): %v", name, err)
	}
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(c, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s output lacks %q:\n%s", what, w, out)
		}
	}
}
