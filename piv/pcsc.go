//go:build cgo || windows

package piv

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	pivgo "github.com/go-piv/piv-go/v2/piv"
)

// This file and pcsc_none.go are where signet's two builds part: with cgo
// (libpcsclite on Linux, the PCSC framework on macOS) or on Windows
// (winscard.dll, no cgo needed), piv-go reaches the cards; a build without
// either has no PC/SC and every card operation fails with
// ErrNoYubiKeySupport. Nothing else in signet imports piv-go.

// Supported reports whether this build of signet can reach YubiKeys.
const Supported = true

// pcscCard adapts piv-go's *piv.YubiKey to card, translating slots,
// policies and errors into this package's own.
type pcscCard struct{ yk *pivgo.YubiKey }

var _ card = pcscCard{}

// pcscSource finds cards through piv-go.
type pcscSource struct{}

var _ cardSource = pcscSource{}

// readers lists the PC/SC readers.
func (pcscSource) readers() ([]string, error) { return pivgo.Cards() }

// openCard opens the card in reader and reads its serial.
func (pcscSource) openCard(reader string) (card, uint32, error) {
	yk, err := pivgo.Open(reader)
	if err != nil {
		return nil, 0, pcscErr(err)
	}
	serial, err := yk.Serial()
	if err != nil {
		yk.Close()
		return nil, 0, fmt.Errorf("reading serial: %w", pcscErr(err))
	}
	return pcscCard{yk}, serial, nil
}

// pcscErr turns piv-go's "not found" and "wrong PIN or PUK" into
// errNotFound and *authError, keeping the cause (and its status word).
func pcscErr(err error) error {
	if err == nil {
		return nil
	}
	var ae pivgo.AuthErr
	if errors.As(err, &ae) {
		return &authError{retries: ae.Retries, cause: err}
	}
	if errors.Is(err, pivgo.ErrNotFound) {
		return &notFoundError{cause: err}
	}
	return err
}

func (c pcscCard) Close() error { return pcscErr(c.yk.Close()) }

func (c pcscCard) Version() Version {
	v := c.yk.Version()
	return Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch}
}

func (c pcscCard) Serial() (uint32, error) {
	s, err := c.yk.Serial()
	return s, pcscErr(err)
}

func (c pcscCard) Retries() (int, error) {
	n, err := c.yk.Retries()
	return n, pcscErr(err)
}

func (c pcscCard) VerifyPIN(pin string) error         { return pcscErr(c.yk.VerifyPIN(pin)) }
func (c pcscCard) SetPIN(oldPIN, newPIN string) error { return pcscErr(c.yk.SetPIN(oldPIN, newPIN)) }
func (c pcscCard) SetPUK(oldPUK, newPUK string) error { return pcscErr(c.yk.SetPUK(oldPUK, newPUK)) }
func (c pcscCard) Unblock(puk, newPIN string) error   { return pcscErr(c.yk.Unblock(puk, newPIN)) }
func (c pcscCard) Reset() error                       { return pcscErr(c.yk.Reset()) }
func (c pcscCard) SetManagementKey(old, new []byte) error {
	return pcscErr(c.yk.SetManagementKey(old, new))
}

func (c pcscCard) ProtectedManagementKey(pin string) ([]byte, error) {
	md, err := c.yk.Metadata(pin)
	if err != nil {
		return nil, pcscErr(err)
	}
	if md.ManagementKey == nil {
		return nil, nil
	}
	return *md.ManagementKey, nil
}

func (c pcscCard) SetProtectedManagementKey(key, mk []byte) error {
	return pcscErr(c.yk.SetMetadata(key, &pivgo.Metadata{ManagementKey: &mk}))
}

func (c pcscCard) GenerateKey(key []byte, slot Slot, pin PINPolicy, touch TouchPolicy) (crypto.PublicKey, error) {
	pub, err := c.yk.GenerateKey(key, pivSlot(slot), pivgo.Key{Algorithm: pivgo.AlgorithmEC256, PINPolicy: pin.piv(), TouchPolicy: touch.piv()})
	return pub, pcscErr(err)
}

func (c pcscCard) KeyInfo(slot Slot) (keyInfo, error) {
	ki, err := c.yk.KeyInfo(pivSlot(slot))
	if err != nil {
		return keyInfo{}, pcscErr(err)
	}
	out := keyInfo{
		Algorithm:   algorithmName(ki.Algorithm),
		PINPolicy:   pinPolicyOf(ki.PINPolicy),
		TouchPolicy: touchPolicyOf(ki.TouchPolicy),
		Public:      ki.PublicKey,
	}
	switch ki.Origin {
	case pivgo.OriginGenerated:
		out.Origin = "generated"
	case pivgo.OriginImported:
		out.Origin = "imported"
	}
	return out, nil
}

func (c pcscCard) Certificate(slot Slot) (*x509.Certificate, error) {
	cert, err := c.yk.Certificate(pivSlot(slot))
	return cert, pcscErr(err)
}

func (c pcscCard) SetCertificate(key []byte, slot Slot, cert *x509.Certificate) error {
	return pcscErr(c.yk.SetCertificate(key, pivSlot(slot), cert))
}

func (c pcscCard) Attest(slot Slot) (*x509.Certificate, error) {
	cert, err := c.yk.Attest(pivSlot(slot))
	return cert, pcscErr(err)
}

func (c pcscCard) AttestationCertificate() (*x509.Certificate, error) {
	cert, err := c.yk.AttestationCertificate()
	return cert, pcscErr(err)
}

// PrivateKey returns the key in slot as a signer that sends no PIN: the
// caller verifies the PIN itself.
func (c pcscCard) PrivateKey(slot Slot, public crypto.PublicKey) (crypto.Signer, error) {
	priv, err := c.yk.PrivateKey(pivSlot(slot), public, pivgo.KeyAuth{PINPolicy: pivgo.PINPolicyNever})
	if err != nil {
		return nil, pcscErr(err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the key in slot %s cannot sign", slot)
	}
	return pcscSigner{s}, nil
}

// pcscSigner translates the errors of a card signature.
type pcscSigner struct{ crypto.Signer }

func (s pcscSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(rand, digest, opts)
	return sig, pcscErr(err)
}

// pivSlot returns piv-go's slot for a valid slot (see Slot.check).
func pivSlot(s Slot) pivgo.Slot {
	switch s {
	case SlotAuthentication:
		return pivgo.SlotAuthentication
	case SlotSignature:
		return pivgo.SlotSignature
	case SlotKeyManagement:
		return pivgo.SlotKeyManagement
	case SlotCardAuthentication:
		return pivgo.SlotCardAuthentication
	}
	ps, _ := pivgo.RetiredKeyManagementSlot(uint32(s))
	return ps
}

func (p PINPolicy) piv() pivgo.PINPolicy {
	switch p {
	case PINNever:
		return pivgo.PINPolicyNever
	case PINAlways:
		return pivgo.PINPolicyAlways
	}
	return pivgo.PINPolicyOnce
}

func (p TouchPolicy) piv() pivgo.TouchPolicy {
	switch p {
	case TouchNever:
		return pivgo.TouchPolicyNever
	case TouchCached:
		return pivgo.TouchPolicyCached
	}
	return pivgo.TouchPolicyAlways
}

// pinPolicyOf names piv-go's PIN policy; "" when unknown.
func pinPolicyOf(p pivgo.PINPolicy) PINPolicy {
	switch p {
	case pivgo.PINPolicyNever:
		return PINNever
	case pivgo.PINPolicyOnce:
		return PINOnce
	case pivgo.PINPolicyAlways:
		return PINAlways
	case pivgo.PINPolicyMatchOnce:
		return "match-once"
	case pivgo.PINPolicyMatchAlways:
		return "match-always"
	}
	return ""
}

// touchPolicyOf names piv-go's touch policy; "" when unknown.
func touchPolicyOf(p pivgo.TouchPolicy) TouchPolicy {
	switch p {
	case pivgo.TouchPolicyNever:
		return TouchNever
	case pivgo.TouchPolicyAlways:
		return TouchAlways
	case pivgo.TouchPolicyCached:
		return TouchCached
	}
	return ""
}

func algorithmName(a pivgo.Algorithm) string {
	switch a {
	case pivgo.AlgorithmEC256:
		return "ECCP256"
	case pivgo.AlgorithmEC384:
		return "ECCP384"
	case pivgo.AlgorithmEd25519:
		return "ED25519"
	case pivgo.AlgorithmX25519:
		return "X25519"
	case pivgo.AlgorithmRSA1024:
		return "RSA1024"
	case pivgo.AlgorithmRSA2048:
		return "RSA2048"
	case pivgo.AlgorithmRSA3072:
		return "RSA3072"
	case pivgo.AlgorithmRSA4096:
		return "RSA4096"
	}
	return ""
}
