package keystore

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// BundlePEMType is the PEM block type of an export bundle.
const BundlePEMType = "ENCRYPTED SIGNET KEY BUNDLE"

const bundleVersion = 1

// maxBundle bounds the size of a bundle read from a file or the environment.
const maxBundle = 1 << 20

type bundleJSON struct {
	Version int             `json:"version"`
	Keys    []bundleKeyJSON `json:"keys"`
	// Roots holds the trusted root.json of repositories, by repository
	// name, so that a CI job with an empty home starts from a root the
	// owners trust (never from the registry's word).
	Roots map[string][]byte `json:"roots,omitempty"`
}

type bundleKeyJSON struct {
	Name    string  `json:"name"`
	Type    KeyType `json:"type"`
	KeyID   string  `json:"keyid"`
	Private []byte  `json:"private"` // PKCS#8 DER
}

// Bundle is an opened export bundle: private keys in memory, and the
// trusted roots it carries.
type Bundle struct {
	Keys []BundleKey
	// Roots are trusted root.json files by repository name
	// ("registry.example.com/team/app"); nil when the bundle has none.
	Roots map[string][]byte
}

// BundleKey is one key of a Bundle.
type BundleKey struct {
	Name   string
	Type   KeyType
	KeyID  string
	Public crypto.PublicKey
	Signer crypto.Signer
}

// ByKeyID returns the key with exactly this TUF key ID.
func (b *Bundle) ByKeyID(id string) (BundleKey, bool) {
	for _, k := range b.Keys {
		if k.KeyID == id {
			return k, true
		}
	}
	return BundleKey{}, false
}

// ByName returns the key exported under name.
func (b *Bundle) ByName(name string) (BundleKey, bool) {
	for _, k := range b.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return BundleKey{}, false
}

// ExportBundle writes the named software keys, in that order, into one
// bundle encrypted under a passphrase asked for with Reason "encrypt key
// bundle" and Confirm set. The bundle is a PEM block of type BundlePEMType
// whose bytes are go-securesystemslib encrypted JSON (scrypt + secretbox,
// as cosign's key files) of {"version":1,"keys":[{"name","type","keyid",
// "private": base64 PKCS#8 DER}]}. SIGNET_KEY takes it.
func (s *Store) ExportBundle(ctx context.Context, names []string) ([]byte, error) {
	return s.ExportBundleWithRoots(ctx, names, nil)
}

// ExportBundleWithRoots is ExportBundle with trusted root.json files, by
// repository name, carried inside the encrypted bundle.
func (s *Store) ExportBundleWithRoots(ctx context.Context, names []string, roots map[string][]byte) ([]byte, error) {
	if len(names) == 0 {
		return nil, inputErr(errors.New("no keys to export"))
	}
	b := bundleJSON{Version: bundleVersion, Roots: roots}
	defer func() {
		for _, k := range b.Keys {
			clear(k.Private)
		}
	}()
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		info, err := s.Get(name)
		if err != nil {
			return nil, err
		}
		priv, err := s.PrivateKey(ctx, name)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", name, err)
		}
		b.Keys = append(b.Keys, bundleKeyJSON{Name: name, Type: info.Type, KeyID: info.KeyID, Private: der})
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding bundle: %w", err)
	}
	defer clear(plain)
	enc, err := s.opts.sealWithPassphrase(ctx, PassphraseRequest{Purpose: PurposeExportBundle, Reason: "encrypt key bundle", Confirm: true}, plain)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: BundlePEMType, Bytes: enc}), nil
}

// IsBundle reports whether data looks like an export bundle (PEM, or the
// PEM in base64 as some CI secret stores want), as opposed to a PEM key.
func IsBundle(data []byte) bool {
	block := bundleBlock(data)
	return block != nil
}

func bundleBlock(data []byte) *pem.Block {
	if len(data) > maxBundle {
		return nil
	}
	data = bytes.TrimSpace(data)
	if !bytes.HasPrefix(data, []byte("-----BEGIN")) {
		dec, err := base64.StdEncoding.DecodeString(string(data))
		if err != nil {
			return nil
		}
		data = dec
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != BundlePEMType {
		return nil
	}
	return block
}

// OpenBundle decrypts an export bundle: one passphrase request (Reason
// "unlock key bundle") and one scrypt derivation for all its keys. Of opts,
// WithDeriveHook applies. A wrong passphrase is errkind.Key wrapping
// ErrWrongPassphrase; data that is not a bundle is errkind.Input.
func OpenBundle(ctx context.Context, data []byte, passphrase PassphraseFunc, opts ...Option) (*Bundle, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if passphrase != nil {
		o.passphrase = passphrase
	}
	block := bundleBlock(data)
	if block == nil {
		return nil, inputErr(errors.New("not a signet key bundle (want a PEM block " + BundlePEMType + ")"))
	}
	if err := checkEnvelope(block.Bytes); err != nil {
		return nil, inputErr(fmt.Errorf("key bundle is corrupt: %w", err))
	}
	plain, err := o.openWithPassphrase(ctx, PassphraseRequest{Purpose: PurposeUnlockBundle, Reason: "unlock key bundle"}, "key bundle", block.Bytes)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return parseBundle(plain)
}

func parseBundle(plain []byte) (*Bundle, error) {
	var b bundleJSON
	if err := json.Unmarshal(plain, &b); err != nil || b.Version != bundleVersion {
		return nil, inputErr(errors.New("key bundle is corrupt: bad contents"))
	}
	out := &Bundle{Roots: b.Roots}
	for repo, root := range b.Roots {
		if !json.Valid(root) {
			return nil, inputErr(fmt.Errorf("key bundle is corrupt: the root of %s is not JSON", truncate(repo)))
		}
	}
	for _, k := range b.Keys {
		parsed, err := parsePrivateDER("PRIVATE KEY", k.Private)
		clear(k.Private)
		if err != nil {
			return nil, inputErr(fmt.Errorf("key bundle: key %s: %w", truncate(k.Name), err))
		}
		id, err := KeyID(parsed.Public)
		if err != nil || id != k.KeyID || validateName(k.Name) != nil {
			return nil, inputErr(fmt.Errorf("key bundle is corrupt: key %s does not match its key ID", truncate(k.Name)))
		}
		out.Keys = append(out.Keys, BundleKey{Name: k.Name, Type: parsed.Type, KeyID: id, Public: parsed.Public, Signer: parsed.Private})
	}
	if len(out.Keys) == 0 {
		return nil, inputErr(errors.New("key bundle holds no keys"))
	}
	return out, nil
}
