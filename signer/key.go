package signer

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Key is a resolved key: its TUF public key and, for a signing key, a
// signer that go-tuf's Metadata.Sign accepts. The signature's key ID is ID.
type Key struct {
	ID          string        // TUF key ID of Public
	Name        string        // keystore or bundle name; "" for a key from a file
	Description string        // for messages: "software key ci", "YubiKey 12345678 slot 9c"
	Public      *metadata.Key // as it goes into root or targets metadata
	Signer      signature.Signer
	// Hardware is true for a key on a YubiKey (its private half never
	// leaves the card), whether or not the card is at hand.
	Hardware bool
}

// ErrKeyNotFound is returned (marked errkind.Key) by ByKeyID when no signing
// key with the ID is available.
var ErrKeyNotFound = errors.New("signing key not found")

// FromSigner builds a Key around a signer, computing its TUF key and key ID
// from the signer's public key. The YubiKey support uses it for card keys.
func FromSigner(name, description string, s signature.Signer) (*Key, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("reading public key of %s: %w", description, err))
	}
	k, err := FromPublic(name, description, pub)
	if err != nil {
		return nil, err
	}
	k.Signer = s
	return k, nil
}

// FromPublic builds a Key without a signer from a public key (ECDSA P-256 or
// Ed25519).
func FromPublic(name, description string, pub crypto.PublicKey) (*Key, error) {
	mk, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", description, err))
	}
	id, err := mk.ID()
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", description, err))
	}
	return &Key{ID: id, Name: name, Description: description, Public: mk}, nil
}

// softwareKey wraps a private key in sigstore's signer: ECDSA with SHA-256
// (ASN.1 signatures, scheme ecdsa-sha2-nistp256) or pure Ed25519, which is
// what go-tuf verifies for those key types.
func softwareKey(name, description string, priv crypto.Signer) (*Key, error) {
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("loading %s: %w", description, err))
	}
	return FromSigner(name, description, s)
}

// The sigstore signers softwareKey loads are what go-tuf signs with.
var (
	_ signature.Signer = (*signature.ECDSASigner)(nil)
	_ signature.Signer = (*signature.ED25519Signer)(nil)
)
