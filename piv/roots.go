package piv

import (
	"crypto/x509"
	"embed"
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/pemcert"
)

// Yubico's published attestation CAs (https://developers.yubico.com/PKI/
// and https://developers.yubico.com/PIV/Introduction/PIV_attestation.html):
//
//	yubico-piv-root-ca-263751.pem       Yubico PIV Root CA Serial 263751 (YubiKey 4.3 to 5.7.3)
//	yubico-u2f-root-ca-457200631.pem    Yubico U2F Root CA Serial 457200631 (keys made before mid-2017)
//	yubico-attestation-root-1.pem       Yubico Attestation Root 1 (YubiKey 5.7.4 and later)
//	yubico-attestation-intermediates.pem  its PIV intermediates (A 1, B 1)
//
//go:embed roots/*.pem
var rootFiles embed.FS

// Roots are the CAs an attestation must chain to.
type Roots struct {
	roots         *x509.CertPool
	intermediates *x509.CertPool
	extra         int // roots added with AddPEM
}

// YubicoRoots returns Yubico's PIV attestation roots, embedded in signet.
func YubicoRoots() (*Roots, error) {
	r := &Roots{roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	for _, name := range []string{"yubico-piv-root-ca-263751.pem", "yubico-u2f-root-ca-457200631.pem", "yubico-attestation-root-1.pem"} {
		certs, err := embedded(name)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			if c.Subject.CommonName == "Yubico U2F Root CA Serial 457200631" {
				// The U2F root says path length 0, yet Yubico issued the
				// device attestation certificates of early YubiKeys under
				// it, which then sign the slot certificates: allow the one
				// intermediate those chains need (as piv-go does).
				c.MaxPathLen = 1
			}
			r.roots.AddCert(c)
		}
	}
	inter, err := embedded("yubico-attestation-intermediates.pem")
	if err != nil {
		return nil, err
	}
	for _, c := range inter {
		r.intermediates.AddCert(c)
	}
	return r, nil
}

func embedded(name string) ([]*x509.Certificate, error) {
	data, err := rootFiles.ReadFile("roots/" + name)
	if err != nil {
		return nil, fmt.Errorf("reading embedded %s: %w", name, err)
	}
	certs, err := pemcert.Parse(data)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("embedded %s: no certificate: %v", name, err)
	}
	return certs, nil
}

// AddPEM adds every certificate of a PEM file as a trusted root. It is for
// tests with the virtual YubiKey (the test seam of docs/security.md): the caller
// reads the file and must tell the user that extra roots are in effect.
func (r *Roots) AddPEM(data []byte) error {
	certs, err := pemcert.Parse(data)
	if err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("extra attestation roots: %w", err))
	}
	if len(certs) == 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("extra attestation roots: no certificate in the PEM data"))
	}
	for _, c := range certs {
		r.roots.AddCert(c)
	}
	r.extra += len(certs)
	return nil
}

// Extra returns how many roots were added with AddPEM.
func (r *Roots) Extra() int { return r.extra }
