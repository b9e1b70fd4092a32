package app

import (
	"time"

	"github.com/signet-dev/signet/keystore"
)

// KeyResult is what `key generate` and `key import` report (`-o json`).
type KeyResult struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Type          string `json:"type"`
	KeyID         string `json:"keyid"`
	PublicKeyFile string `json:"publicKeyFile,omitempty"`
	// PublicKey is the public key (PEM) when key generate wrote no file.
	PublicKey string `json:"publicKey,omitempty"`
}

// NewKeyResult is the KeyResult of a keystore key whose public key went to
// pubFile ("" for none) or is pubPEM (nil for none).
func NewKeyResult(info keystore.KeyInfo, pubFile string, pubPEM []byte) KeyResult {
	return KeyResult{Name: info.Name, Kind: string(info.Kind), Type: string(info.Type), KeyID: info.KeyID, PublicKeyFile: pubFile, PublicKey: string(pubPEM)}
}

// ExportedKey is one key of `key export -o json`.
type ExportedKey struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	KeyID     string `json:"keyid"`
	PublicKey string `json:"publicKey"`
}

// ExportPublicKeys returns the public keys of the named keystore keys, in
// order.
func ExportPublicKeys(ks *keystore.Store, names []string) ([]ExportedKey, error) {
	var keys []ExportedKey
	for _, name := range names {
		info, err := ks.Get(name)
		if err != nil {
			return nil, err
		}
		pub, err := keystore.PublicKeyPEM(info.Public)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ExportedKey{Name: info.Name, Type: string(info.Type), KeyID: info.KeyID, PublicKey: string(pub)})
	}
	return keys, nil
}

// KeyListEntry is one key of `key list -o json`.
type KeyListEntry struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Type        string    `json:"type"`
	KeyID       string    `json:"keyid"`
	Created     time.Time `json:"created"`
	Serial      uint32    `json:"serial,omitempty"`
	Slot        string    `json:"slot,omitempty"`
	PINPolicy   string    `json:"pinPolicy,omitempty"`
	TouchPolicy string    `json:"touchPolicy,omitempty"`
	// RotatedOutOf is the repository whose trusted root no longer lists
	// this key although its name says it is that repository's.
	RotatedOutOf string `json:"rotatedOutOf,omitempty"`
}

// ListKeys is `key list`: every key of ks, marked when it was rotated out
// of a repository (KeyUses.RotatedOutOf).
func ListKeys(ks *keystore.Store) ([]KeyListEntry, error) {
	keys, err := ks.List()
	if err != nil {
		return nil, err
	}
	uses, err := TrustedKeyUses(ks)
	if err != nil {
		return nil, err
	}
	entries := make([]KeyListEntry, 0, len(keys))
	for _, k := range keys {
		entries = append(entries, KeyListEntry{
			Name: k.Name, Kind: string(k.Kind), Type: string(k.Type), KeyID: k.KeyID, Created: k.Created,
			Serial: k.Serial, Slot: k.Slot, PINPolicy: k.PINPolicy, TouchPolicy: k.TouchPolicy,
			RotatedOutOf: uses.RotatedOutOf(k.Name, k.KeyID),
		})
	}
	return entries, nil
}
