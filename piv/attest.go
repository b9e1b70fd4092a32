package piv

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/pemcert"
)

// Yubico's attestation extensions (1.3.6.1.4.1.41482.3.x).
var (
	oidFirmware = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 3}
	oidSerial   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 7}
	oidPolicy   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 8}
)

// Attestation is a verified statement by a YubiKey that a key was
// generated on it, in a slot, with these policies.
type Attestation struct {
	Serial      uint32
	Slot        Slot
	Firmware    Version
	PINPolicy   PINPolicy
	TouchPolicy TouchPolicy
	Public      crypto.PublicKey
	// PEM holds the slot's attestation certificate, then the device's
	// attestation certificate (slot f9), as the keystore records them.
	PEM []byte
}

// Attest fetches and verifies the attestation of the key in slot against
// roots. A key imported rather than generated on the device has none:
// ErrNoAttestation. A chain to no trusted root, or a certificate for
// another card or slot: ErrUntrustedAttestation. Both are errkind.Key.
func (y *YubiKey) Attest(ctx context.Context, slot Slot, roots *Roots) (*Attestation, error) {
	if err := slot.check(); err != nil {
		return nil, err
	}
	var slotCert, devCert *x509.Certificate
	err := y.do(ctx, func(c card) error {
		var err error
		slotCert, devCert, err = y.attestationCerts(c, slot)
		return err
	})
	if err != nil {
		return nil, err
	}
	return VerifyAttestation(slotCert, devCert, roots, y.serial, slot)
}

// attestationCerts reads the slot's attestation and the device's f9
// certificate.
func (y *YubiKey) attestationCerts(c card, slot Slot) (slotCert, devCert *x509.Certificate, err error) {
	slotCert, err = c.Attest(slot)
	if err != nil {
		if !errors.Is(err, errNotFound) {
			if _, ok := statusOf(err); !ok {
				return nil, nil, y.cardErr("reading the attestation of slot "+slot.String(), err)
			}
		}
		why := "it holds no key generated on the device"
		if info, ierr := c.KeyInfo(slot); ierr == nil && info.Origin == "imported" {
			why = "its key was imported, not generated on the device"
		} else if errors.Is(ierr, errNotFound) {
			why = "it holds no key"
		}
		return nil, nil, newErr(errkind.Key, ErrNoAttestation, "YubiKey %d slot %s has no attestation: %s", y.serial, slot, why)
	}
	devCert, err = c.AttestationCertificate()
	if err != nil {
		return nil, nil, y.cardErr("reading the device attestation certificate (slot f9)", err)
	}
	return slotCert, devCert, nil
}

// VerifyAttestation checks that slotCert is signed by devCert, that devCert
// chains to roots, and that slotCert is for the card with serial and for
// slot (serial 0 and slot 0 skip those checks). It returns what the
// attestation says.
func VerifyAttestation(slotCert, devCert *x509.Certificate, roots *Roots, serial uint32, slot Slot) (*Attestation, error) {
	if roots == nil {
		return nil, newErr(errkind.Key, ErrUntrustedAttestation, "no attestation roots given")
	}
	untrusted := func(format string, args ...any) error {
		return newErr(errkind.Key, ErrUntrustedAttestation, "attestation of YubiKey %d slot %s refused: %s", serial, slot, fmt.Sprintf(format, args...))
	}
	// Some YubiKey 4 device certificates lack basic constraints; a copy is
	// marked as a CA so that the chain can be built (as piv-go does).
	dev := *devCert
	if !dev.BasicConstraintsValid {
		dev.BasicConstraintsValid, dev.IsCA = true, true
	}
	inter := roots.intermediates.Clone()
	inter.AddCert(&dev)
	opts := x509.VerifyOptions{Roots: roots.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := slotCert.Verify(opts); err != nil {
		return nil, untrusted("it does not chain to a trusted Yubico root (%v)", err)
	}
	a, err := parseAttestation(slotCert)
	if err != nil {
		return nil, untrusted("%v", err)
	}
	if serial != 0 && a.Serial != serial {
		return nil, untrusted("it is for YubiKey %d", a.Serial)
	}
	if slot != 0 && a.Slot != slot {
		return nil, untrusted("it is for slot %s", a.Slot)
	}
	var buf bytes.Buffer
	pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: slotCert.Raw})
	pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: devCert.Raw})
	a.PEM = buf.Bytes()
	return a, nil
}

// VerifyAttestationPEM verifies attestation certificates as Attestation.PEM
// and the keystore hold them (slot certificate, then device certificate),
// and checks that they attest pub.
func VerifyAttestationPEM(data []byte, pub crypto.PublicKey, roots *Roots, serial uint32, slot Slot) (*Attestation, error) {
	certs, err := pemcert.Parse(data)
	if err != nil || len(certs) != 2 {
		return nil, newErr(errkind.Key, ErrNoAttestation, "YubiKey %d slot %s: no attestation recorded", serial, slot)
	}
	a, err := VerifyAttestation(certs[0], certs[1], roots, serial, slot)
	if err != nil {
		return nil, err
	}
	if !samePublic(a.Public, pub) {
		return nil, newErr(errkind.Key, ErrUntrustedAttestation, "attestation of YubiKey %d slot %s is for another key", serial, slot)
	}
	return a, nil
}

// parseAttestation reads Yubico's extensions and the slot from the
// subject ("YubiKey PIV Attestation 9c").
func parseAttestation(c *x509.Certificate) (*Attestation, error) {
	a := &Attestation{Public: c.PublicKey}
	const prefix = "YubiKey PIV Attestation "
	cn := c.Subject.CommonName
	if !strings.HasPrefix(cn, prefix) {
		return nil, fmt.Errorf("subject %q names no slot", cn)
	}
	s, err := ParseSlot(strings.TrimPrefix(cn, prefix))
	if err != nil {
		return nil, fmt.Errorf("subject %q names no slot signet uses", cn)
	}
	a.Slot = s
	var havePolicy, haveSerial bool
	for _, e := range c.Extensions {
		switch {
		case e.Id.Equal(oidFirmware):
			if len(e.Value) != 3 {
				return nil, errors.New("bad firmware version extension")
			}
			a.Firmware = Version{int(e.Value[0]), int(e.Value[1]), int(e.Value[2])}
		case e.Id.Equal(oidSerial):
			var n int64
			if rest, err := asn1.Unmarshal(e.Value, &n); err != nil || len(rest) != 0 || n <= 0 || n > 1<<32-1 {
				return nil, errors.New("bad serial number extension")
			}
			a.Serial, haveSerial = uint32(n), true
		case e.Id.Equal(oidPolicy):
			if len(e.Value) != 2 {
				return nil, errors.New("bad policy extension")
			}
			a.PINPolicy = pinPolicyByte(e.Value[0])
			a.TouchPolicy = touchPolicyByte(e.Value[1])
			havePolicy = true
		}
	}
	if !havePolicy || !haveSerial {
		return nil, errors.New("it lacks Yubico's serial or policy extension")
	}
	return a, nil
}

func pinPolicyByte(b byte) PINPolicy {
	switch b {
	case 1:
		return PINNever
	case 2:
		return PINOnce
	case 3:
		return PINAlways
	}
	return PINPolicy("0x" + strconv.FormatUint(uint64(b), 16))
}

func touchPolicyByte(b byte) TouchPolicy {
	switch b {
	case 1:
		return TouchNever
	case 2:
		return TouchAlways
	case 3:
		return TouchCached
	}
	return TouchPolicy("0x" + strconv.FormatUint(uint64(b), 16))
}

// samePublic reports whether two public keys are equal.
func samePublic(a, b crypto.PublicKey) bool {
	ka, ok := a.(*ecdsa.PublicKey)
	if !ok {
		if e, ok := a.(interface{ Equal(crypto.PublicKey) bool }); ok {
			return e.Equal(b)
		}
		return false
	}
	return ka.Equal(b)
}
