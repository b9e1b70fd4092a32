package notary

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"

	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/internal/pemcert"
)

var errTrailing = errors.New("data after the JSON value")

// Notary's key types (tuf/data).
const (
	keyECDSA     = "ecdsa"
	keyECDSAx509 = "ecdsa-x509"
	keyED25519   = "ed25519"
	keyRSA       = "rsa"
	keyRSAx509   = "rsa-x509"
)

// minRSABits is Notary's minimum RSA key size.
const minRSABits = 2048

// publicKey is a parsed key of a role.
type publicKey struct {
	id    string
	typ   string
	pub   crypto.PublicKey
	cert  *x509.Certificate   // leaf, for the x509 types
	chain []*x509.Certificate // certificates after the leaf
}

// keyID is Notary's key ID: the hex SHA-256 of the canonical JSON of the
// key with a null private part (tuf/data.TUFKey.ID).
func keyID(typ string, public []byte) (string, error) {
	b, err := cjson.EncodeCanonical(map[string]any{
		"keytype": typ,
		"keyval": map[string]any{
			"private": nil,
			"public":  base64.StdEncoding.EncodeToString(public),
		},
	})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// parseKey parses a key listed under id, which must be its key ID.
func parseKey(id string, k keyJSON) (*publicKey, error) {
	got, err := keyID(k.Type, k.Value.Public)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyid.Short(id), err)
	}
	if got != id {
		return nil, fmt.Errorf("key listed as %s has key ID %s", keyid.Short(id), keyid.Short(got))
	}
	pk := &publicKey{id: id, typ: k.Type}
	switch k.Type {
	case keyECDSA, keyRSA:
		pub, err := x509.ParsePKIXPublicKey(k.Value.Public)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", keyid.Short(id), err)
		}
		pk.pub = pub
	case keyED25519:
		if len(k.Value.Public) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key %s: ed25519 key of %d bytes", keyid.Short(id), len(k.Value.Public))
		}
		pk.pub = ed25519.PublicKey(k.Value.Public)
	case keyECDSAx509, keyRSAx509:
		certs, err := parseCerts(k.Value.Public)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", keyid.Short(id), err)
		}
		pk.cert, pk.chain, pk.pub = certs[0], certs[1:], certs[0].PublicKey
	default:
		return nil, fmt.Errorf("key %s: unsupported key type %q", keyid.Short(id), k.Type)
	}
	switch pub := pk.pub.(type) {
	case *ecdsa.PublicKey:
		if k.Type != keyECDSA && k.Type != keyECDSAx509 {
			return nil, fmt.Errorf("key %s: an ECDSA key of type %s", keyid.Short(id), k.Type)
		}
	case *rsa.PublicKey:
		if k.Type != keyRSA && k.Type != keyRSAx509 {
			return nil, fmt.Errorf("key %s: an RSA key of type %s", keyid.Short(id), k.Type)
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("key %s: RSA key of %d bits", keyid.Short(id), pub.N.BitLen())
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("key %s: unsupported public key %T", keyid.Short(id), pub)
	}
	return pk, nil
}

// parseCerts decodes a PEM bundle whose first certificate is the leaf.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	certs, err := pemcert.Parse(b)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	if certs[0].IsCA {
		return nil, errors.New("the first certificate is a CA, not a leaf")
	}
	return certs, nil
}

// verify checks sig over msg with the method Notary names (tuf/signed):
// every method hashes msg with SHA-256.
func (k *publicKey) verify(method string, msg, sig []byte) bool {
	digest := sha256.Sum256(msg)
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		if method != "ecdsa" {
			return false
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest[:], r, s)
	case ed25519.PublicKey:
		if method != "eddsa" && method != "ed25519" {
			return false
		}
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
	case *rsa.PublicKey:
		switch method {
		case "rsapss":
			return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: sha256.Size, Hash: crypto.SHA256}) == nil
		case "rsapkcs1v15":
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
		}
	}
	return false
}

// canonical is Notary's signed message: the canonical JSON of "signed".
func canonical(signed []byte) ([]byte, error) {
	return cjson.EncodeCanonical(jsonRaw(signed))
}

// jsonRaw lets cjson re-encode raw JSON (it marshals, then canonicalises).
type jsonRaw []byte

func (r jsonRaw) MarshalJSON() ([]byte, error) { return r, nil }

func lower(s string) string { return strings.ToLower(s) }
