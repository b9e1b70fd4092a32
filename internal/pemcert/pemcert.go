// Package pemcert parses the X.509 certificates of PEM data, for the
// places that take certificates from files or metadata: YubiKey attestation
// roots and records, Notary root certificates and pinned Notary roots.
package pemcert

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// Parse returns every CERTIFICATE block of data, in order, skipping blocks
// of other types. A block that does not parse is an error; no certificate
// at all is not (callers that need one check the length).
func Parse(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
}
