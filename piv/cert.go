package piv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// policyCertificate makes the certificate Setup writes into the slot: it
// names the card and slot and records the PIN and touch policies, in the
// subject and in Yubico's policy extension, so that ykman, yubico-piv-tool
// and OpenSC show what the slot holds. It is self-issued (issuer =
// subject) and signed by a throwaway software key, as yubikey-agent does:
// signing it with the slot's key would cost a touch and prove nothing the
// attestation does not prove better.
func policyCertificate(serial uint32, slot Slot, pub crypto.PublicKey, pp PINPolicy, tp TouchPolicy) (*x509.Certificate, error) {
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	name := pkix.Name{
		CommonName:         fmt.Sprintf("signet YubiKey %d slot %s", serial, slot),
		Organization:       []string{"signet"},
		OrganizationalUnit: []string{"pin-policy=" + string(pp), "touch-policy=" + string(tp)},
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: sn.Add(sn, big.NewInt(1)),
		Subject:      name,
		Issuer:       name,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(30, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{
			{Id: oidPolicy, Value: []byte{policyByte(pp), touchByte(tp)}},
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func policyByte(p PINPolicy) byte {
	switch p {
	case PINNever:
		return 1
	case PINAlways:
		return 3
	}
	return 2
}

func touchByte(p TouchPolicy) byte {
	switch p {
	case TouchNever:
		return 1
	case TouchCached:
		return 3
	}
	return 2
}
