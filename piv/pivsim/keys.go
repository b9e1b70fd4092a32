package pivsim

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
)

// Algorithm identifiers (SP 800-78-4 and Yubico's extensions).
const (
	alg3DES   = 0x03
	algAES128 = 0x08
	algAES192 = 0x0a
	algAES256 = 0x0c
	algP256   = 0x11
	algP384   = 0x14
)

// Policies and origins as the card encodes them.
const (
	pinNever  = 0x01
	pinOnce   = 0x02
	pinAlways = 0x03

	touchNever  = 0x01
	touchAlways = 0x02
	touchCached = 0x03

	originGenerated = 0x01
	originImported  = 0x02
)

// Key references.
const (
	slotMgmt        = 0x9b
	slotAttestation = 0xf9
	refPIN          = 0x80
	refPUK          = 0x81
)

func curveFor(alg byte) elliptic.Curve {
	switch alg {
	case algP256:
		return elliptic.P256()
	case algP384:
		return elliptic.P384()
	}
	return nil
}

func ecdhCurve(alg byte) ecdh.Curve {
	if alg == algP384 {
		return ecdh.P384()
	}
	return ecdh.P256()
}

// keySlot reports whether ref names a slot that holds an asymmetric key
// a client may generate or import.
func keySlot(ref byte) bool {
	switch {
	case ref == 0x9a, ref == 0x9c, ref == 0x9d, ref == 0x9e:
		return true
	case ref >= 0x82 && ref <= 0x95:
		return true
	}
	return false
}

func slotName(ref byte) string { return fmt.Sprintf("%02x", ref) }

// defaultPINPolicy is what a slot uses when the client asks for the default.
func defaultPINPolicy(ref byte) byte {
	switch ref {
	case 0x9c:
		return pinAlways
	case 0x9e:
		return pinNever
	}
	return pinOnce
}

// policies resolves requested PIN and touch policies (0 = default).
func policies(ref, pp, tp byte) (byte, byte, bool) {
	if pp == 0 {
		pp = defaultPINPolicy(ref)
	}
	if tp == 0 {
		tp = touchNever
	}
	if pp < pinNever || pp > pinAlways || tp < touchNever || tp > touchCached {
		return 0, 0, false
	}
	return pp, tp, true
}

func (k *slotKey) private() (*ecdsa.PrivateKey, error) {
	c := curveFor(k.Alg)
	if c == nil {
		return nil, fmt.Errorf("unsupported algorithm %#x", k.Alg)
	}
	return ecdsa.ParseRawPrivateKey(c, k.D)
}

// publicPoint is the uncompressed point of the key's public half.
func (k *slotKey) publicPoint() ([]byte, error) {
	priv, err := k.private()
	if err != nil {
		return nil, err
	}
	return priv.PublicKey.Bytes()
}

// generateKey makes a key on the card.
func generateKey(alg, pp, tp byte) (*slotKey, error) {
	c := curveFor(alg)
	if c == nil {
		return nil, fmt.Errorf("unsupported algorithm %#x", alg)
	}
	priv, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		return nil, err
	}
	d, err := priv.Bytes()
	if err != nil {
		return nil, err
	}
	return &slotKey{Alg: alg, PINPolicy: pp, TouchPolicy: tp, Origin: originGenerated, D: d}, nil
}

// importKey validates an imported private scalar.
func importKey(alg byte, d []byte, pp, tp byte) (*slotKey, error) {
	c := curveFor(alg)
	if c == nil {
		return nil, fmt.Errorf("unsupported algorithm %#x", alg)
	}
	if _, err := ecdsa.ParseRawPrivateKey(c, d); err != nil {
		return nil, err
	}
	return &slotKey{Alg: alg, PINPolicy: pp, TouchPolicy: tp, Origin: originImported, D: append([]byte(nil), d...)}, nil
}

// sign signs a digest of at most the curve's size, as the card does.
func (k *slotKey) sign(digest []byte) ([]byte, error) {
	priv, err := k.private()
	if err != nil {
		return nil, err
	}
	if len(digest) == 0 || len(digest) > (priv.Curve.Params().BitSize+7)/8 {
		return nil, fmt.Errorf("digest of %d bytes", len(digest))
	}
	return ecdsa.SignASN1(rand.Reader, priv, digest)
}

// sharedSecret is ECDH with an uncompressed peer point; it returns the X
// coordinate of the shared point.
func (k *slotKey) sharedSecret(peer []byte) ([]byte, error) {
	c := ecdhCurve(k.Alg)
	priv, err := c.NewPrivateKey(k.D)
	if err != nil {
		return nil, err
	}
	pub, err := c.NewPublicKey(peer)
	if err != nil {
		return nil, err
	}
	return priv.ECDH(pub)
}
