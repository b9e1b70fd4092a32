package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// KeyType is the algorithm of a key.
type KeyType string

// The supported key types. RSA is not supported.
const (
	ECDSAP256 KeyType = "ecdsa-p256" // ECDSA on NIST P-256 with SHA-256 (default)
	Ed25519   KeyType = "ed25519"
)

// ParseKeyType parses a --type value; "" means ECDSAP256.
func ParseKeyType(s string) (KeyType, error) {
	switch KeyType(s) {
	case "", ECDSAP256:
		return ECDSAP256, nil
	case Ed25519:
		return Ed25519, nil
	}
	return "", inputErr(fmt.Errorf("unknown key type %q: use ecdsa-p256 or ed25519", truncate(s)))
}

// TypeOf returns the KeyType of a public key, or an errkind.Input error
// for an unsupported one (RSA, other curves).
func TypeOf(pub crypto.PublicKey) (KeyType, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ECDSAP256, nil
		}
		return "", inputErr(fmt.Errorf("unsupported ECDSA curve %s: only P-256 is supported", k.Curve.Params().Name))
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return Ed25519, nil
		}
	case *rsa.PublicKey:
		return "", inputErr(errors.New("RSA keys are not supported: use an ecdsa-p256 or ed25519 key"))
	}
	return "", inputErr(fmt.Errorf("unsupported key type %T: use an ecdsa-p256 or ed25519 key", pub))
}

// ParsedKey is a key read from PEM: a private key (Private set) or a public
// key only.
type ParsedKey struct {
	Type    KeyType
	Public  crypto.PublicKey
	Private crypto.Signer // nil for a public key
}

// maxPEM bounds the PEM input ParsePEM accepts.
const maxPEM = 1 << 20

// ParsePEM reads the first key in PEM data, in any of the forms users
// already have:
//
//   - "PRIVATE KEY" (PKCS#8) and "EC PRIVATE KEY" (SEC1), as openssl writes;
//   - legacy encrypted PEM (Proc-Type: 4,ENCRYPTED on an EC PRIVATE KEY);
//   - "ENCRYPTED PRIVATE KEY" (PKCS#8 PBES2 with PBKDF2-HMAC-SHA1/SHA256 or
//     scrypt, and AES-CBC), as `openssl genpkey -aes256` and
//     `openssl pkcs8 -topk8 -v2 aes256` write;
//   - "ENCRYPTED SIGSTORE PRIVATE KEY" (and the older "ENCRYPTED COSIGN
//     PRIVATE KEY"), cosign's scrypt+secretbox format;
//   - "PUBLIC KEY" (PKIX) and "CERTIFICATE", which give a public key only.
//
// "EC PARAMETERS" blocks are skipped. passphrase is called at most once,
// and only for an encrypted key; its result is cleared after use. Only
// ECDSA P-256 and Ed25519 keys are accepted. Unreadable input is an
// errkind.Input error; a wrong passphrase is errkind.Key wrapping
// ErrWrongPassphrase.
func ParsePEM(data []byte, passphrase func() ([]byte, error)) (ParsedKey, error) {
	if len(data) > maxPEM {
		return ParsedKey{}, inputErr(fmt.Errorf("key data is larger than %d bytes", maxPEM))
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return ParsedKey{}, inputErr(errors.New("no PEM key found"))
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		return parseBlock(block, passphrase)
	}
}

func parseBlock(block *pem.Block, passphrase func() ([]byte, error)) (ParsedKey, error) {
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return ParsedKey{}, inputErr(fmt.Errorf("parsing public key: %w", err))
		}
		return publicKey(pub)
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return ParsedKey{}, inputErr(fmt.Errorf("parsing certificate: %w", err))
		}
		return publicKey(cert.PublicKey)
	case "PRIVATE KEY", "EC PRIVATE KEY":
		der := block.Bytes
		//nolint:staticcheck // legacy encrypted PEM is what older openssl writes; we only read it
		if x509.IsEncryptedPEMBlock(block) {
			pass, err := getPassphrase(passphrase)
			if err != nil {
				return ParsedKey{}, err
			}
			//nolint:staticcheck // see above
			der, err = x509.DecryptPEMBlock(block, pass)
			clear(pass)
			if err != nil {
				return ParsedKey{}, wrongPassphrase()
			}
			defer clear(der)
			k, err := parsePrivateDER(block.Type, der)
			if err != nil && !isUnsupported(err) {
				return ParsedKey{}, wrongPassphrase()
			}
			return k, err
		}
		return parsePrivateDER(block.Type, der)
	case "ENCRYPTED PRIVATE KEY":
		pass, err := getPassphrase(passphrase)
		if err != nil {
			return ParsedKey{}, err
		}
		der, err := decryptPKCS8(block.Bytes, pass)
		clear(pass)
		if err != nil {
			return ParsedKey{}, err
		}
		defer clear(der)
		k, err := parsePrivateDER("PRIVATE KEY", der)
		if err != nil && !isUnsupported(err) {
			// The padding happened to look right, but the plaintext is garbage.
			return ParsedKey{}, wrongPassphrase()
		}
		return k, err
	case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY":
		if err := checkEnvelope(block.Bytes); err != nil {
			return ParsedKey{}, inputErr(fmt.Errorf("parsing cosign key: %w", err))
		}
		pass, err := getPassphrase(passphrase)
		if err != nil {
			return ParsedKey{}, err
		}
		der, err := encrypted.Decrypt(block.Bytes, pass)
		clear(pass)
		if err != nil {
			return ParsedKey{}, wrongPassphrase()
		}
		defer clear(der)
		return parsePrivateDER("PRIVATE KEY", der)
	case "RSA PRIVATE KEY", "RSA PUBLIC KEY":
		return ParsedKey{}, inputErr(errors.New("RSA keys are not supported: use an ecdsa-p256 or ed25519 key"))
	case "OPENSSH PRIVATE KEY":
		return ParsedKey{}, inputErr(errors.New("OpenSSH private keys are not supported: convert with ssh-keygen -p -m PKCS8"))
	}
	return ParsedKey{}, inputErr(fmt.Errorf("unsupported PEM block %q", truncate(block.Type)))
}

// isUnsupported reports whether err is one of ParsePEM's classified errors that
// must pass through unchanged (an unsupported algorithm after decryption).
func isUnsupported(err error) bool {
	var u *unsupportedError
	return errors.As(err, &u)
}

type unsupportedError struct{ error }

func (e *unsupportedError) Unwrap() error { return e.error }

func parsePrivateDER(blockType string, der []byte) (ParsedKey, error) {
	var priv any
	var err error
	if blockType == "EC PRIVATE KEY" {
		priv, err = x509.ParseECPrivateKey(der)
	} else {
		priv, err = x509.ParsePKCS8PrivateKey(der)
	}
	if err != nil {
		return ParsedKey{}, inputErr(fmt.Errorf("parsing private key: %w", err))
	}
	var signer crypto.Signer
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		signer = k
	case ed25519.PrivateKey:
		signer = k
	case *rsa.PrivateKey:
		return ParsedKey{}, &unsupportedError{inputErr(errors.New("RSA keys are not supported: use an ecdsa-p256 or ed25519 key"))}
	default:
		return ParsedKey{}, &unsupportedError{inputErr(fmt.Errorf("unsupported private key type %T", priv))}
	}
	typ, err := TypeOf(signer.Public())
	if err != nil {
		return ParsedKey{}, &unsupportedError{err}
	}
	return ParsedKey{Type: typ, Public: signer.Public(), Private: signer}, nil
}

func publicKey(pub crypto.PublicKey) (ParsedKey, error) {
	typ, err := TypeOf(pub)
	if err != nil {
		return ParsedKey{}, err
	}
	return ParsedKey{Type: typ, Public: pub}, nil
}

func getPassphrase(f func() ([]byte, error)) ([]byte, error) {
	if f == nil {
		return nil, keyErr(errors.New("the key is encrypted and no passphrase was provided"))
	}
	p, err := f()
	if err != nil {
		return nil, keyErr(fmt.Errorf("reading passphrase: %w", err))
	}
	return p, nil
}

func wrongPassphrase() error {
	return keyErr(fmt.Errorf("decrypting key: %w", ErrWrongPassphrase))
}
