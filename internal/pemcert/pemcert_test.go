package pemcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

func certPEM(t *testing.T, cn string) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseKeepsCertificatesInOrderAndSkipsOtherBlocks(t *testing.T) {
	t.Parallel()
	data := append(certPEM(t, "leaf"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})...)
	data = append(data, certPEM(t, "ca")...)
	certs, err := Parse(data)
	if err != nil || len(certs) != 2 || certs[0].Subject.CommonName != "leaf" || certs[1].Subject.CommonName != "ca" {
		t.Fatalf("Parse = %v, %v", certs, err)
	}
}

func TestParseRefusesABrokenCertificateAndFindsNoneInGarbage(t *testing.T) {
	t.Parallel()
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})
	if _, err := Parse(bad); err == nil {
		t.Fatal("a broken certificate parsed")
	}
	if certs, err := Parse([]byte("garbage")); err != nil || len(certs) != 0 {
		t.Fatalf("garbage: %v, %v", certs, err)
	}
}
