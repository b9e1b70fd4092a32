package keystore

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Kind says where a key's private half is.
type Kind string

// The kinds of key record.
const (
	Software   Kind = "software" // private key sealed in the keystore
	PublicOnly Kind = "public"   // public key only, held by someone else
	Hardware   Kind = "hardware" // private key on a YubiKey; the record has its serial and slot
)

// KeyInfo describes a key of the keystore. It holds no secret.
type KeyInfo struct {
	Name    string
	Kind    Kind
	Type    KeyType
	KeyID   string // TUF key ID: go-tuf's metadata.KeyFromPublicKey(Public).ID()
	Public  crypto.PublicKey
	Created time.Time

	// Hardware records only.
	Serial      uint32 // YubiKey serial number
	Slot        string // PIV slot in lower-case hex, e.g. "9c" or "82"
	PINPolicy   string // as the piv package names it, e.g. "once"
	TouchPolicy string // as the piv package names it, e.g. "always"
	Attestation []byte // PEM certificates: the slot's attestation, then the device's f9 certificate
}

// HardwareKey is what PutHardware records about a key held on a YubiKey.
type HardwareKey struct {
	Name        string
	Public      crypto.PublicKey
	Serial      uint32
	Slot        string
	PINPolicy   string
	TouchPolicy string
	Attestation []byte
}

// KeyID returns the TUF key ID of a public key, as go-tuf computes it (the
// SHA-256 of the canonical JSON of the key as metadata.KeyFromPublicKey
// writes it).
func KeyID(pub crypto.PublicKey) (string, error) {
	k, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return "", inputErr(fmt.Errorf("computing key ID: %w", err))
	}
	return k.ID()
}

const recordVersion = 1

// keyFile is the JSON of keys/<escaped-name>.key.
type keyFile struct {
	Version  int             `json:"version"`
	Name     string          `json:"name"`
	Kind     Kind            `json:"kind"`
	Type     KeyType         `json:"type"`
	KeyID    string          `json:"keyid"`
	Public   string          `json:"public"`
	Created  time.Time       `json:"created"`
	Nonce    []byte          `json:"nonce,omitempty"`
	Sealed   []byte          `json:"sealed,omitempty"`
	Hardware *hardwareFields `json:"hardware,omitempty"`
}

type hardwareFields struct {
	Serial      uint32 `json:"serial"`
	Slot        string `json:"slot"`
	PINPolicy   string `json:"pin_policy,omitempty"`
	TouchPolicy string `json:"touch_policy,omitempty"`
	Attestation []byte `json:"attestation,omitempty"`
}

func newRecord(name string, kind Kind, pub crypto.PublicKey) (keyFile, KeyInfo, error) {
	typ, err := TypeOf(pub)
	if err != nil {
		return keyFile{}, KeyInfo{}, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return keyFile{}, KeyInfo{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return keyFile{}, KeyInfo{}, inputErr(fmt.Errorf("encoding public key: %w", err))
	}
	now := time.Now().UTC().Truncate(time.Second)
	rec := keyFile{
		Version: recordVersion, Name: name, Kind: kind, Type: typ, KeyID: id, Created: now,
		Public: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}
	info := KeyInfo{Name: name, Kind: kind, Type: typ, KeyID: id, Public: pub, Created: now}
	return rec, info, nil
}

// parseRecord reads and checks a key file. Any inconsistency (a public key
// that does not match its key ID or type, a missing sealed key) is an error,
// so a damaged or edited file is refused rather than half used.
func parseRecord(data []byte) (keyFile, KeyInfo, error) {
	var rec keyFile
	if err := json.Unmarshal(data, &rec); err != nil {
		return keyFile{}, KeyInfo{}, errors.New("not a signet key file")
	}
	if rec.Version != recordVersion {
		return keyFile{}, KeyInfo{}, fmt.Errorf("unsupported key file version %d", rec.Version)
	}
	if err := validateName(rec.Name); err != nil {
		return keyFile{}, KeyInfo{}, fmt.Errorf("bad name: %w", err)
	}
	parsed, err := ParsePEM([]byte(rec.Public), nil)
	if err != nil || parsed.Private != nil {
		return keyFile{}, KeyInfo{}, errors.New("bad public key")
	}
	id, err := KeyID(parsed.Public)
	if err != nil || id != rec.KeyID || parsed.Type != rec.Type {
		return keyFile{}, KeyInfo{}, errors.New("public key does not match its key ID or type")
	}
	info := KeyInfo{Name: rec.Name, Kind: rec.Kind, Type: rec.Type, KeyID: id, Public: parsed.Public, Created: rec.Created}
	switch rec.Kind {
	case Software:
		if len(rec.Nonce) != nonceSize || len(rec.Sealed) <= sealOverhead || rec.Hardware != nil {
			return keyFile{}, KeyInfo{}, errors.New("bad sealed private key")
		}
	case PublicOnly:
		if len(rec.Sealed) != 0 || rec.Hardware != nil {
			return keyFile{}, KeyInfo{}, errors.New("public key record holds other data")
		}
	case Hardware:
		h := rec.Hardware
		if h == nil || len(rec.Sealed) != 0 || h.Serial == 0 || !validSlot(h.Slot) {
			return keyFile{}, KeyInfo{}, errors.New("bad hardware key record")
		}
		info.Serial, info.Slot, info.PINPolicy, info.TouchPolicy = h.Serial, h.Slot, h.PINPolicy, h.TouchPolicy
		info.Attestation = h.Attestation
	default:
		return keyFile{}, KeyInfo{}, fmt.Errorf("unknown key kind %q", truncate(string(rec.Kind)))
	}
	return rec, info, nil
}

// NormalizeSlot checks a PIV slot name and returns it in lower-case hex.
// It accepts the slots signet uses: 9a, 9c, 9d, 9e and the retired slots
// 82 to 95.
func NormalizeSlot(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	v, err := strconv.ParseUint(s, 16, 8)
	if err != nil {
		return "", false
	}
	switch {
	case v == 0x9a, v == 0x9c, v == 0x9d, v == 0x9e, v >= 0x82 && v <= 0x95:
		return strconv.FormatUint(v, 16), true
	}
	return "", false
}

func validSlot(s string) bool {
	n, ok := NormalizeSlot(s)
	return ok && n == s
}

// recordKey derives the key that seals one private key from the master key
// and the key's name, so that a sealed key moved to another name's file
// does not open.
func recordKey(master []byte, name string) *[32]byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("signet/keystore/v1 key\x00"))
	m.Write([]byte(name))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return &k
}
