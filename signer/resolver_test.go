package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

type counts struct{ asks, derives int }

func (c *counts) pass(p string) keystore.PassphraseFunc {
	return func(context.Context, keystore.PassphraseRequest) ([]byte, error) {
		c.asks++
		return []byte(p), nil
	}
}

func newStore(t *testing.T) *keystore.Store {
	t.Helper()
	c := &counts{}
	ks, err := keystore.Open(filepath.Join(t.TempDir(), "home"), keystore.WithKDFStrength(encrypted.Legacy), keystore.WithPassphrase(c.pass("pw")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// verifies signs targets metadata with k and checks it against a root that
// lists k.Public for targets.
func verifies(t *testing.T, k *Key) {
	t.Helper()
	targets := metadata.Targets(time.Now().Add(time.Hour))
	sig, err := targets.Sign(k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if sig.KeyID != k.ID {
		t.Fatalf("signature key ID %s, Key.ID %s", sig.KeyID, k.ID)
	}
	root := metadata.Root(time.Now().Add(time.Hour))
	if err := root.Signed.AddKey(k.Public, metadata.TARGETS); err != nil {
		t.Fatal(err)
	}
	if err := root.VerifyDelegate(metadata.TARGETS, targets); err != nil {
		t.Fatalf("%s: VerifyDelegate: %v", k.Description, err)
	}
	targets.Signed.Version++
	if err := root.VerifyDelegate(metadata.TARGETS, targets); err == nil {
		t.Fatal("VerifyDelegate accepted metadata changed after signing")
	}
}

func TestSoftwareKeysSignTUFMetadataThatVerifiesAgainstARoot(t *testing.T) {
	t.Parallel()
	ks := newStore(t)
	ctx := context.Background()
	for _, typ := range []keystore.KeyType{keystore.ECDSAP256, keystore.Ed25519} {
		info, err := ks.Generate(ctx, "k-"+string(typ), typ)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := NewResolver(ks)
		k, err := r.Resolve(ctx, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != info.KeyID || k.Name != info.Name || k.Description != "software key "+info.Name {
			t.Fatalf("key %+v, record %+v", k, info)
		}
		verifies(t, k)
	}
}

func TestResolveByKeyIDPrefixAndPublicOnlyKeys(t *testing.T) {
	t.Parallel()
	ks := newStore(t)
	ctx := context.Background()
	info, _ := ks.Generate(ctx, "ci", "")
	pub, _ := keystore.PublicKeyPEM(info.Public)
	if err := ks.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Import(ctx, "someone", pub, nil); err != nil {
		t.Fatal(err)
	}
	mine, _ := ks.Generate(ctx, "mine", "")
	r, _ := NewResolver(ks)
	if k, err := r.Resolve(ctx, mine.KeyID[:10]); err != nil || k.ID != mine.KeyID {
		t.Fatalf("Resolve(prefix): %v", err)
	}
	_, err := r.Resolve(ctx, "someone")
	if errkind.Of(err) != errkind.Key || !errors.Is(err, keystore.ErrNoPrivateKey) || !strings.Contains(err.Error(), "no private key for public key someone") {
		t.Fatalf("Resolve(public-only): %v", err)
	}
	if k, err := r.ResolvePublic(ctx, "someone"); err != nil || k.ID != info.KeyID || k.Signer != nil {
		t.Fatalf("ResolvePublic(public-only): %+v %v", k, err)
	}
	if _, err := r.Resolve(ctx, "nobody"); !errors.Is(err, keystore.ErrNotFound) || errkind.Of(err) != errkind.Key {
		t.Fatalf("Resolve(unknown): %v", err)
	}
	if _, err := r.Resolve(ctx, "bad ref"); errkind.Of(err) != errkind.Input {
		t.Fatalf("Resolve(malformed): %v", err)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFileRefsReadPrivateEncryptedAndPublicPEM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	plain := writeFile(t, dir, "ci.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	enc, _ := encrypted.EncryptWithCustomKDFParameters(der, []byte("filepw"), encrypted.Legacy)
	cosign := writeFile(t, dir, "cosign.key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc}))
	pubPEM, _ := keystore.PublicKeyPEM(&priv.PublicKey)
	pub := writeFile(t, dir, "ci.pub", pubPEM)
	wantID, _ := keystore.KeyID(&priv.PublicKey)

	c := &counts{}
	r, _ := NewResolver(nil, WithPassphrase(c.pass("filepw")))
	for _, p := range []string{plain, cosign} {
		k, err := r.Resolve(ctx, "file:"+p)
		if err != nil || k.ID != wantID {
			t.Fatalf("file:%s: %v", p, err)
		}
		verifies(t, k)
	}
	if c.asks != 1 {
		t.Fatalf("passphrase asked %d times, want once (for the encrypted file)", c.asks)
	}
	if k, err := r.ResolvePublic(ctx, "file:"+pub); err != nil || k.ID != wantID || k.Signer != nil {
		t.Fatalf("ResolvePublic(file:.pub): %v", err)
	}
	if _, err := r.Resolve(ctx, "file:"+pub); !errors.Is(err, keystore.ErrNoPrivateKey) || errkind.Of(err) != errkind.Key {
		t.Fatalf("Resolve(file:.pub): %v", err)
	}
	if _, err := r.Resolve(ctx, "file:"+filepath.Join(dir, "missing.pem")); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	wrong, _ := NewResolver(nil, WithPassphrase((&counts{}).pass("nope")))
	if _, err := wrong.Resolve(ctx, "file:"+cosign); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("wrong file passphrase: %v", err)
	}
}

// exportBundle makes a keystore with the keys of a push and exports them.
func exportBundle(t *testing.T, names ...string) (map[string]keystore.KeyInfo, []byte) {
	t.Helper()
	ks := newStore(t)
	ctx := context.Background()
	infos := map[string]keystore.KeyInfo{}
	for _, n := range names {
		k, err := ks.Generate(ctx, n, "")
		if err != nil {
			t.Fatal(err)
		}
		infos[n] = k
	}
	b, err := ks.ExportBundle(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	return infos, b
}

func TestByKeyIDFindsEveryKeyOfSIGNETKEYWithOneDerivation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	names := []string{"ci", "127.0.0.1:5000/app/snapshot", "127.0.0.1:5000/app/timestamp"}
	infos, bundle := exportBundle(t, names...)
	c := &counts{}
	r, _ := NewResolver(nil, WithEnv(env(map[string]string{EnvKey: string(bundle)})), WithPassphrase(c.pass("pw")),
		WithBundleOptions(keystore.WithDeriveHook(func() { c.derives++ })))
	for _, n := range names {
		k, err := r.ByKeyID(ctx, infos[n].KeyID)
		if err != nil {
			t.Fatalf("ByKeyID(%s): %v", n, err)
		}
		if k.Name != n || k.Description != "key "+n+" from SIGNET_KEY" {
			t.Fatalf("ByKeyID(%s) = %+v", n, k)
		}
		verifies(t, k)
	}
	if k, err := r.Resolve(ctx, "ci"); err != nil || k.ID != infos["ci"].KeyID {
		t.Fatalf("Resolve(ci) from SIGNET_KEY without a keystore: %v", err)
	}
	if c.asks != 1 || c.derives != 1 {
		t.Fatalf("asks=%d derives=%d, want 1 and 1", c.asks, c.derives)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, _ := keystore.KeyID(&other.PublicKey)
	if _, err := r.ByKeyID(ctx, id); !errors.Is(err, ErrKeyNotFound) || errkind.Of(err) != errkind.Key {
		t.Fatalf("ByKeyID(unknown): %v", err)
	}
}

func TestByKeyIDFallsBackToTheKeystore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks := newStore(t)
	snap, _ := ks.Generate(ctx, "127.0.0.1:5000/app/snapshot", "")
	r, _ := NewResolver(ks, WithEnv(env(nil)))
	k, err := r.ByKeyID(ctx, snap.KeyID)
	if err != nil || k.Name != snap.Name {
		t.Fatalf("ByKeyID: %+v %v", k, err)
	}
	verifies(t, k)
	pub, _ := keystore.PublicKeyPEM(snap.Public)
	if err := ks.Delete(snap.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Import(ctx, "pub", pub, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ByKeyID(ctx, snap.KeyID); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("ByKeyID of a public-only record: %v", err)
	}
}

func TestEnvRefsReadPEMKeysAndBundles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	infos, bundle := exportBundle(t, "ci", "snap")
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	vars := map[string]string{
		"CI_BUNDLE": string(bundle),
		"CI_PEM":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}
	r, _ := NewResolver(nil, WithEnv(env(vars)), WithPassphrase((&counts{}).pass("pw")))
	k, err := r.Resolve(ctx, "env:CI_BUNDLE")
	if err != nil || k.ID != infos["ci"].KeyID {
		t.Fatalf("env:CI_BUNDLE: %+v %v", k, err)
	}
	verifies(t, k)
	// The bundle's other keys are now there for signatures that need them.
	if k, err := r.ByKeyID(ctx, infos["snap"].KeyID); err != nil || k.Description != "key snap from env:CI_BUNDLE" {
		t.Fatalf("ByKeyID after env:CI_BUNDLE: %+v %v", k, err)
	}
	k, err = r.Resolve(ctx, "env:CI_PEM")
	if id, _ := keystore.KeyID(&priv.PublicKey); err != nil || k.ID != id {
		t.Fatalf("env:CI_PEM: %v", err)
	}
	verifies(t, k)
	if _, err := r.Resolve(ctx, "env:UNSET"); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "UNSET") {
		t.Fatalf("env:UNSET: %v", err)
	}
	bad, _ := NewResolver(nil, WithEnv(env(map[string]string{EnvKey: "not a bundle"})))
	if _, err := bad.ByKeyID(ctx, infos["ci"].KeyID); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), EnvKey) {
		t.Fatalf("SIGNET_KEY garbage: %v", err)
	}
	wrong, _ := NewResolver(nil, WithEnv(env(map[string]string{EnvKey: string(bundle)})), WithPassphrase((&counts{}).pass("nope")))
	if _, err := wrong.ByKeyID(ctx, infos["ci"].KeyID); !errors.Is(err, keystore.ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
		t.Fatalf("SIGNET_KEY wrong passphrase: %v", err)
	}
}

// softHardware stands in for the YubiKey support: it serves one software
// key for one serial and slot, and records what it was asked.
type softHardware struct {
	serial uint32
	slot   string
	key    *Key
	asked  []Ref
}

func (h *softHardware) Signer(_ context.Context, ref Ref, _ string) (*Key, error) {
	h.asked = append(h.asked, ref)
	if ref.Serial != h.serial || ref.Slot != h.slot {
		return nil, errkind.Mark(errkind.Key, errors.New("no such YubiKey"))
	}
	return h.key, nil
}

var _ Hardware = (*softHardware)(nil)

func TestHardwareRecordsAndRefsGoThroughHardware(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks := newStore(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := ks.PutHardware(keystore.HardwareKey{Name: "yk", Public: &priv.PublicKey, Serial: 42, Slot: "9c"}); err != nil {
		t.Fatal(err)
	}
	without, _ := NewResolver(ks)
	for _, ref := range []string{"yubikey", "yubikey:42/9c", "yk"} {
		if _, err := without.Resolve(ctx, ref); errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "YubiKey support not available") {
			t.Fatalf("Resolve(%s) without hardware: %v", ref, err)
		}
	}
	if k, err := without.ResolvePublic(ctx, "yk"); err != nil || k.Description != "YubiKey 42 slot 9c" || !k.Hardware {
		t.Fatalf("ResolvePublic of a hardware record needs no card and is a hardware key: %+v %v", k, err)
	}
	if _, err := ks.Generate(ctx, "soft", keystore.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	if k, err := without.ResolvePublic(ctx, "soft"); err != nil || k.Hardware {
		t.Fatalf("a software key is not a hardware key: %+v %v", k, err)
	}

	cardKey, err := softwareKey("", "YubiKey 42 slot 9c", priv)
	if err != nil {
		t.Fatal(err)
	}
	hw := &softHardware{serial: 42, slot: "9c", key: cardKey}
	r, _ := NewResolver(ks, WithHardware(hw), WithEnv(env(nil)))
	k, err := r.ByKeyID(ctx, cardKey.ID)
	if err != nil || k.Name != "yk" {
		t.Fatalf("ByKeyID of a hardware record: %+v %v", k, err)
	}
	verifies(t, k)
	if len(hw.asked) != 1 || hw.asked[0] != (Ref{Kind: RefYubiKey, Serial: 42, Slot: "9c"}) {
		t.Fatalf("hardware asked for %+v", hw.asked)
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hw.key, _ = softwareKey("", "YubiKey 42 slot 9c", other)
	if _, err := r.Resolve(ctx, "yk"); errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "does not hold key yk") {
		t.Fatalf("card holding another key: %v", err)
	}
}

func TestUnlockAsksThePassphraseOfSoftwareKeysOnly(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home")
	ks, err := keystore.Open(home, keystore.WithKDFStrength(encrypted.Legacy), keystore.WithPassphrase((&counts{}).pass("pw")))
	if err != nil {
		t.Fatal(err)
	}
	soft, _ := ks.Generate(ctx, "snapshot", "")
	other, _ := ks.Generate(ctx, "other", "")
	pub, _ := keystore.PublicKeyPEM(other.Public)
	if err := ks.Delete("other"); err != nil {
		t.Fatal(err)
	}
	public, _ := ks.Import(ctx, "someone", pub, nil)
	ks.Close()

	for _, c := range []struct {
		pass      string
		wantErr   bool
		wantAsked int
	}{{"pw", false, 1}, {"wrong", true, 1}} {
		asked := &counts{}
		ks, err := keystore.Open(home, keystore.WithKDFStrength(encrypted.Legacy), keystore.WithPassphrase(asked.pass(c.pass)))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := NewResolver(ks)
		for _, id := range []string{public.KeyID, strings.Repeat("ab", 32)} {
			if err := r.Unlock(ctx, id); err != nil || asked.asks != 0 {
				t.Fatalf("Unlock(%s) of a key with no private half here: %v, asked %d times", id[:8], err, asked.asks)
			}
		}
		err = r.Unlock(ctx, soft.KeyID)
		if c.wantErr != (err != nil) || (err != nil && !errors.Is(err, keystore.ErrWrongPassphrase)) {
			t.Fatalf("Unlock(software key) with passphrase %q: %v", c.pass, err)
		}
		if err == nil {
			if _, err := r.ByKeyID(ctx, soft.KeyID); err != nil {
				t.Fatal(err)
			}
		}
		if asked.asks != c.wantAsked {
			t.Fatalf("passphrase %q asked %d times, want %d", c.pass, asked.asks, c.wantAsked)
		}
		ks.Close()
	}
}

// A key that SIGNET_KEY holds signs from the bundle, so Unlock does not
// open the keystore for it: no keystore passphrase is asked, and a wrong
// one cannot stop the command.
func TestUnlockLeavesTheKeystoreAloneForKeysTheBundleHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home")
	ks, err := keystore.Open(home, keystore.WithKDFStrength(encrypted.Legacy), keystore.WithPassphrase((&counts{}).pass("pw")))
	if err != nil {
		t.Fatal(err)
	}
	inBundle, _ := ks.Generate(ctx, "snapshot", "")
	onlyHere, _ := ks.Generate(ctx, "timestamp", "")
	bundle, err := ks.ExportBundle(ctx, []string{"snapshot"})
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()

	keystoreAsks := 0
	pass := func(_ context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		if req.Purpose == keystore.PurposeUnlockKeystore {
			keystoreAsks++
			return []byte("wrong"), nil
		}
		return []byte("pw"), nil
	}
	ks, err = keystore.Open(home, keystore.WithKDFStrength(encrypted.Legacy), keystore.WithPassphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	r, _ := NewResolver(ks, WithEnv(env(map[string]string{EnvKey: string(bundle)})), WithPassphrase(pass))
	if err := r.Unlock(ctx, inBundle.KeyID); err != nil || keystoreAsks != 0 {
		t.Fatalf("Unlock of a key SIGNET_KEY holds: %v, keystore passphrase asked %d times", err, keystoreAsks)
	}
	if _, err := r.ByKeyID(ctx, inBundle.KeyID); err != nil {
		t.Fatalf("the bundle's key does not sign: %v", err)
	}
	if err := r.Unlock(ctx, inBundle.KeyID, onlyHere.KeyID); !errors.Is(err, keystore.ErrWrongPassphrase) || keystoreAsks != 1 {
		t.Fatalf("Unlock with a keystore-only key: %v, keystore passphrase asked %d times", err, keystoreAsks)
	}
}
