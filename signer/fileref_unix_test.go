//go:build unix

package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

func TestFileRefsRefuseAPrivateKeyOthersCanReadAndAFIFO(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	plain := writeFile(t, dir, "ci.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubPEM, _ := keystore.PublicKeyPEM(&priv.PublicKey)
	pub := writeFile(t, dir, "ci.pub", pubPEM)
	for _, p := range []string{plain, pub} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := NewResolver(nil)
	_, err := r.Resolve(ctx, "file:"+plain)
	if errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "chmod 600 "+plain) {
		t.Fatalf("Resolve(file: of a 0644 private key) = %v, want a key error saying chmod 600", err)
	}
	if _, err := r.ResolvePublic(ctx, "file:"+pub); err != nil {
		t.Fatalf("ResolvePublic(file: of a 0644 public key) = %v", err)
	}
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := r.Resolve(ctx, "file:"+fifo); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Resolve(file: of a FIFO) = %v, want an input error, at once", err)
	}
}
