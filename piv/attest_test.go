package piv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

// testChain is a stand-in for Yubico's chain: a CA, a device attestation
// certificate (slot f9) and a slot attestation certificate.
type testChain struct {
	caPEM         []byte
	dev, slotCert *x509.Certificate
	slotKey       *ecdsa.PrivateKey
}

func newTestChain(t *testing.T, serial uint32, slot Slot, policy []byte) testChain {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	mk := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	nb, na := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	caKey, devKey, slotKey := key(), key(), key()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1, KeyUsage: x509.KeyUsageCertSign}
	ca := mk(caT, caT, &caKey.PublicKey, caKey)
	devT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Yubico PIV Attestation"}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign}
	dev := mk(devT, ca, &devKey.PublicKey, caKey)
	sn, _ := asn1.Marshal(int64(serial))
	slotT := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "YubiKey PIV Attestation " + slot.String()}, NotBefore: nb, NotAfter: na,
		ExtraExtensions: []pkix.Extension{{Id: oidFirmware, Value: []byte{5, 4, 3}}, {Id: oidSerial, Value: sn}, {Id: oidPolicy, Value: policy}}}
	sc := mk(slotT, dev, &slotKey.PublicKey, devKey)
	return testChain{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), dev: dev, slotCert: sc, slotKey: slotKey}
}

func TestYubicoRootsParse(t *testing.T) {
	r, err := YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.roots.Subjects()); n != 3 {
		t.Errorf("%d Yubico roots, want 3", n)
	}
	if r.Extra() != 0 {
		t.Errorf("extra roots without AddPEM: %d", r.Extra())
	}
}

func TestAttestationFromTestCAIsAcceptedOnlyWhenThatCAIsAdded(t *testing.T) {
	ch := newTestChain(t, 12345678, 0x82, []byte{2, 2})
	roots, err := YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyAttestation(ch.slotCert, ch.dev, roots, 12345678, 0x82)
	if !errors.Is(err, ErrUntrustedAttestation) || !errkind.Is(err, errkind.Key) {
		t.Fatalf("test chain accepted by Yubico's roots alone, or wrong error: %v", err)
	}
	if err := roots.AddPEM(ch.caPEM); err != nil {
		t.Fatal(err)
	}
	a, err := VerifyAttestation(ch.slotCert, ch.dev, roots, 12345678, 0x82)
	if err != nil {
		t.Fatalf("test chain refused with its CA added: %v", err)
	}
	if a.Serial != 12345678 || a.Slot != 0x82 || a.PINPolicy != PINOnce || a.TouchPolicy != TouchAlways || a.Firmware != (Version{5, 4, 3}) {
		t.Errorf("attestation = %+v", a)
	}
	if !samePublic(a.Public, &ch.slotKey.PublicKey) {
		t.Error("attested public key is not the slot key")
	}
	if _, err := VerifyAttestationPEM(a.PEM, &ch.slotKey.PublicKey, roots, 12345678, 0x82); err != nil {
		t.Errorf("recorded PEM does not verify again: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := VerifyAttestationPEM(a.PEM, &other.PublicKey, roots, 12345678, 0x82); !errors.Is(err, ErrUntrustedAttestation) {
		t.Errorf("attestation accepted for another key: %v", err)
	}
}

func TestAttestationForAnotherCardOrSlotIsRefused(t *testing.T) {
	ch := newTestChain(t, 111, SlotSignature, []byte{3, 3})
	roots, _ := YubicoRoots()
	if err := roots.AddPEM(ch.caPEM); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAttestation(ch.slotCert, ch.dev, roots, 222, SlotSignature); !errors.Is(err, ErrUntrustedAttestation) {
		t.Errorf("attestation of card 111 accepted for 222: %v", err)
	}
	if _, err := VerifyAttestation(ch.slotCert, ch.dev, roots, 111, 0x82); !errors.Is(err, ErrUntrustedAttestation) {
		t.Errorf("attestation of slot 9c accepted for 82: %v", err)
	}
}

func TestAddPEMRefusesDataWithoutCertificates(t *testing.T) {
	roots, _ := YubicoRoots()
	if err := roots.AddPEM([]byte("not pem")); !errkind.Is(err, errkind.Input) {
		t.Errorf("err = %v", err)
	}
}

func TestPolicyCertificateRecordsPoliciesAndKey(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := policyCertificate(42, 0x82, &k.PublicKey, PINAlways, TouchCached)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublic(c.PublicKey, &k.PublicKey) {
		t.Error("certificate is not for the slot key")
	}
	if c.Subject.CommonName != "signet YubiKey 42 slot 82" {
		t.Errorf("subject %q", c.Subject.CommonName)
	}
	var found bool
	for _, e := range c.Extensions {
		if e.Id.Equal(oidPolicy) {
			found = true
			if e.Value[0] != 3 || e.Value[1] != 3 {
				t.Errorf("policy extension %x, want 0303", e.Value)
			}
		}
	}
	if !found {
		t.Error("no policy extension")
	}
}
