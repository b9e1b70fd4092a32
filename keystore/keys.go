package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

const (
	nonceSize    = 24
	sealOverhead = secretbox.Overhead
)

// ErrNotFound is returned (marked errkind.Key) when no key has the given
// name or key ID.
var ErrNotFound = errors.New("key not found")

// ErrExists is returned (marked errkind.Input) when a key name, or the same
// key under another name, is already in the keystore.
var ErrExists = errors.New("key already exists")

// ErrNoPrivateKey is returned (marked errkind.Key) by PrivateKey for a
// public-only or hardware record.
var ErrNoPrivateKey = errors.New("no private key in the keystore")

// Generate creates a new software key of type typ (ECDSAP256 when empty)
// under name, sealed with the keystore master key. The first software key
// of a keystore asks for a new passphrase (PassphraseRequest.Confirm);
// later ones ask for the passphrase once per Store.
func (s *Store) Generate(ctx context.Context, name string, typ KeyType) (KeyInfo, error) {
	if err := ValidateName(name); err != nil {
		return KeyInfo{}, err
	}
	var priv crypto.Signer
	var err error
	switch typ {
	case "", ECDSAP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return KeyInfo{}, inputErr(fmt.Errorf("unknown key type %q: use ecdsa-p256 or ed25519", typ))
	}
	if err != nil {
		return KeyInfo{}, fmt.Errorf("generating key: %w", err)
	}
	return s.putPrivate(ctx, name, priv)
}

// Import stores the key in pemData (any form ParsePEM reads) under name. A
// private key is sealed with the master key; a public key becomes a
// public-only record, for a key someone else holds. pemPassphrase is asked
// only when the PEM is encrypted. A name in use, or the same key already
// stored under another name, is ErrExists.
func (s *Store) Import(ctx context.Context, name string, pemData []byte, pemPassphrase func() ([]byte, error)) (KeyInfo, error) {
	if err := ValidateName(name); err != nil {
		return KeyInfo{}, err
	}
	if err := s.checkFree(name); err != nil {
		return KeyInfo{}, err
	}
	parsed, err := ParsePEM(pemData, pemPassphrase)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("importing %s: %w", name, err)
	}
	if parsed.Private != nil {
		return s.putPrivate(ctx, name, parsed.Private)
	}
	rec, info, err := newRecord(name, PublicOnly, parsed.Public)
	if err != nil {
		return KeyInfo{}, err
	}
	return info, s.writeRecord(rec)
}

// PutHardware records a key held on a YubiKey: its public key, serial,
// slot, policies and attestation. No secret is stored.
func (s *Store) PutHardware(h HardwareKey) (KeyInfo, error) {
	if err := ValidateName(h.Name); err != nil {
		return KeyInfo{}, err
	}
	slot, ok := NormalizeSlot(h.Slot)
	if !ok || h.Serial == 0 {
		return KeyInfo{}, inputErr(fmt.Errorf("hardware key %s: need a serial number and a PIV slot (9a, 9c, 9d, 9e, 82-95)", h.Name))
	}
	if err := s.checkFree(h.Name); err != nil {
		return KeyInfo{}, err
	}
	rec, info, err := newRecord(h.Name, Hardware, h.Public)
	if err != nil {
		return KeyInfo{}, err
	}
	rec.Hardware = &hardwareFields{Serial: h.Serial, Slot: slot, PINPolicy: h.PINPolicy, TouchPolicy: h.TouchPolicy, Attestation: h.Attestation}
	info.Serial, info.Slot, info.PINPolicy, info.TouchPolicy, info.Attestation = h.Serial, slot, h.PINPolicy, h.TouchPolicy, h.Attestation
	return info, s.writeRecord(rec)
}

func (s *Store) putPrivate(ctx context.Context, name string, priv crypto.Signer) (KeyInfo, error) {
	if err := s.checkFree(name); err != nil {
		return KeyInfo{}, err
	}
	rec, info, err := newRecord(name, Software, priv.Public())
	if err != nil {
		return KeyInfo{}, err
	}
	if err := s.checkKeyIDFree(rec.KeyID); err != nil {
		return KeyInfo{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("encoding private key: %w", err)
	}
	defer clear(der)
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return KeyInfo{}, fmt.Errorf("generating nonce: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	master, err := s.masterKey(ctx, true)
	if err != nil {
		return KeyInfo{}, err
	}
	k := recordKey(master, name)
	defer clear(k[:])
	rec.Nonce = nonce[:]
	rec.Sealed = secretbox.Seal(nil, der, &nonce, k)
	return info, s.writeRecord(rec)
}

func (s *Store) writeRecord(rec keyFile) error {
	if rec.Kind != Software {
		if err := s.checkKeyIDFree(rec.KeyID); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding key file: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(s.keysDir(), fileName(rec.Name)), append(data, '\n'), 0o600); err != nil {
		return keyErr(err)
	}
	return nil
}

func (s *Store) checkFree(name string) error {
	_, err := s.Get(name)
	switch {
	case err == nil:
		return inputErr(fmt.Errorf("key %s: %w", name, ErrExists))
	case errors.Is(err, ErrNotFound):
		return nil
	}
	return err
}

func (s *Store) checkKeyIDFree(id string) error {
	all, err := s.List()
	if err != nil {
		return err
	}
	for _, k := range all {
		if k.KeyID == id {
			return inputErr(fmt.Errorf("this key is already in the keystore as %s: %w", k.Name, ErrExists))
		}
	}
	return nil
}

// Get returns the key named name, or ErrNotFound.
func (s *Store) Get(name string) (KeyInfo, error) {
	if err := ValidateName(name); err != nil {
		return KeyInfo{}, err
	}
	_, info, err := s.readRecord(filepath.Join(s.keysDir(), fileName(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return KeyInfo{}, keyErr(fmt.Errorf("no key named %s in the keystore: %w", name, ErrNotFound))
	}
	if err == nil && info.Name != name {
		return KeyInfo{}, keyErr(fmt.Errorf("key file for %s is corrupt: it holds key %s", name, info.Name))
	}
	return info, err
}

func (s *Store) readRecord(path string) (keyFile, KeyInfo, error) {
	data, err := s.readPrivate(path)
	if err != nil {
		return keyFile{}, KeyInfo{}, err
	}
	rec, info, err := parseRecord(data)
	if err != nil {
		return keyFile{}, KeyInfo{}, keyErr(fmt.Errorf("key file %s is corrupt: %v", path, err))
	}
	return rec, info, nil
}

// List returns every key of the keystore, sorted by name.
func (s *Store) List() ([]KeyInfo, error) {
	entries, err := os.ReadDir(s.keysDir())
	if err != nil {
		return nil, keyErr(fmt.Errorf("listing keys: %w", err))
	}
	var out []KeyInfo
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(n, ".key") || strings.HasPrefix(n, ".") {
			continue
		}
		_, info, err := s.readRecord(filepath.Join(s.keysDir(), n))
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindByID returns the key whose TUF key ID starts with prefix (at least 4
// hex digits). No match is ErrNotFound (errkind.Key); several are an
// errkind.Input error listing them.
func (s *Store) FindByID(prefix string) (KeyInfo, error) {
	prefix = strings.ToLower(prefix)
	if len(prefix) < 4 || len(prefix) > 64 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return KeyInfo{}, inputErr(fmt.Errorf("%q is not a key ID prefix (4 to 64 hex digits)", truncate(prefix)))
	}
	all, err := s.List()
	if err != nil {
		return KeyInfo{}, err
	}
	var found []KeyInfo
	for _, k := range all {
		if strings.HasPrefix(k.KeyID, prefix) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return KeyInfo{}, keyErr(fmt.Errorf("no key with ID %s in the keystore: %w", prefix, ErrNotFound))
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, k := range found {
		names[i] = k.Name
	}
	return KeyInfo{}, inputErr(fmt.Errorf("key ID prefix %s is ambiguous: it matches %s", prefix, strings.Join(names, ", ")))
}

// PrivateKey unseals the software key named name. The first call on a Store
// unlocks the master key (one passphrase request, one scrypt derivation);
// later calls reuse it. Public-only and hardware records give
// ErrNoPrivateKey.
func (s *Store) PrivateKey(ctx context.Context, name string) (crypto.Signer, error) {
	rec, info, err := s.readRecord(filepath.Join(s.keysDir(), fileName(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, keyErr(fmt.Errorf("no key named %s in the keystore: %w", name, ErrNotFound))
	}
	if err != nil {
		return nil, err
	}
	switch {
	case info.Name != name:
		return nil, keyErr(fmt.Errorf("key file for %s is corrupt: it holds key %s", name, info.Name))
	case info.Kind == Hardware:
		return nil, keyErr(fmt.Errorf("%s is on YubiKey %d slot %s: %w", name, info.Serial, info.Slot, ErrNoPrivateKey))
	case info.Kind != Software:
		return nil, keyErr(fmt.Errorf("%s is a public key: %w", name, ErrNoPrivateKey))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	master, err := s.masterKey(ctx, false)
	if err != nil {
		return nil, err
	}
	var nonce [nonceSize]byte
	copy(nonce[:], rec.Nonce)
	k := recordKey(master, name)
	der, ok := secretbox.Open(nil, rec.Sealed, &nonce, k)
	clear(k[:])
	if !ok {
		return nil, keyErr(fmt.Errorf("key file for %s is corrupt: the sealed private key does not open with this keystore's master key", name))
	}
	defer clear(der)
	parsed, err := parsePrivateDER("PRIVATE KEY", der)
	if err != nil {
		return nil, keyErr(fmt.Errorf("key file for %s is corrupt: %v", name, err))
	}
	if id, err := KeyID(parsed.Public); err != nil || id != info.KeyID {
		return nil, keyErr(fmt.Errorf("key file for %s is corrupt: the private key does not match its key ID", name))
	}
	return parsed.Private, nil
}

// PublicPEM returns the PKIX public key of name as PEM.
func (s *Store) PublicPEM(name string) ([]byte, error) {
	info, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	return PublicKeyPEM(info.Public)
}

// PublicKeyPEM encodes a public key as a PKIX "PUBLIC KEY" PEM block.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, inputErr(fmt.Errorf("encoding public key: %w", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Delete removes the key named name (for a hardware key: only the record;
// the key stays on the YubiKey).
func (s *Store) Delete(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.keysDir(), fileName(name))); err != nil {
		return keyErr(fmt.Errorf("deleting key %s: %w", name, err))
	}
	return nil
}
