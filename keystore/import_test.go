package keystore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/signet-dev/signet/internal/errkind"
)

func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (scripts/deps.sh installs it)")
	}
}

func passFunc(p string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(p), nil }
}

func TestImportAcceptsKeysAsOpenSSLWritesThem(t *testing.T) {
	t.Parallel()
	needOpenSSL(t)
	dir := t.TempDir()
	openssl(t, dir, "ecparam", "-name", "prime256v1", "-genkey", "-out", "sec1-params.pem") // with an EC PARAMETERS block
	openssl(t, dir, "ec", "-in", "sec1-params.pem", "-out", "sec1.pem")
	openssl(t, dir, "pkcs8", "-topk8", "-nocrypt", "-in", "sec1.pem", "-out", "pkcs8.pem")
	openssl(t, dir, "pkcs8", "-topk8", "-v2", "aes256", "-in", "sec1.pem", "-passout", "pass:s3cret", "-out", "pkcs8-aes256.pem")
	openssl(t, dir, "pkcs8", "-topk8", "-v2", "aes128", "-v2prf", "hmacWithSHA1", "-in", "sec1.pem", "-passout", "pass:s3cret", "-out", "pkcs8-sha1.pem")
	openssl(t, dir, "pkcs8", "-topk8", "-scrypt", "-in", "sec1.pem", "-passout", "pass:s3cret", "-out", "pkcs8-scrypt.pem")
	openssl(t, dir, "ec", "-in", "sec1.pem", "-aes256", "-passout", "pass:s3cret", "-out", "legacy.pem")
	openssl(t, dir, "pkey", "-in", "sec1.pem", "-pubout", "-out", "pub.pem")
	openssl(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:s3cret", "-out", "genpkey-aes256.pem")
	openssl(t, dir, "genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem")

	pubPEM, _ := os.ReadFile(filepath.Join(dir, "pub.pem"))
	want, err := ParsePEM(pubPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := KeyID(want.Public)

	s, _ := openStore(t, newHome(t), "pw")
	ctx := context.Background()
	for _, f := range []string{"sec1-params.pem", "sec1.pem", "pkcs8.pem", "pkcs8-aes256.pem", "pkcs8-sha1.pem", "pkcs8-scrypt.pem", "legacy.pem"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		name := strings.TrimSuffix(f, ".pem")
		// The same key cannot be stored twice, so each import is deleted again.
		k, err := s.Import(ctx, name, data, passFunc("s3cret"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if k.Kind != Software || k.Type != ECDSAP256 || k.KeyID != wantID {
			t.Fatalf("%s: imported %+v, want key ID %s", f, k, wantID)
		}
		priv, err := s.PrivateKey(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		signs(t, priv, want.Public)
		if err := s.Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	for f, typ := range map[string]KeyType{"genpkey-aes256.pem": ECDSAP256, "ed25519.pem": Ed25519} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		k, err := s.Import(ctx, strings.TrimSuffix(f, ".pem"), data, passFunc("s3cret"))
		if err != nil || k.Type != typ {
			t.Fatalf("%s: %+v %v", f, k, err)
		}
	}
	pub, err := s.Import(ctx, "someone-else", pubPEM, nil)
	if err != nil || pub.Kind != PublicOnly || pub.KeyID != wantID {
		t.Fatalf("public import: %+v %v", pub, err)
	}
	if _, err := s.PrivateKey(ctx, "someone-else"); !errors.Is(err, ErrNoPrivateKey) || errkind.Of(err) != errkind.Key {
		t.Fatalf("PrivateKey of a public-only key: %v", err)
	}
}

func TestImportWithWrongPEMPassphraseIsKeyError(t *testing.T) {
	t.Parallel()
	needOpenSSL(t)
	dir := t.TempDir()
	openssl(t, dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sec1.pem")
	openssl(t, dir, "pkcs8", "-topk8", "-v2", "aes256", "-in", "sec1.pem", "-passout", "pass:s3cret", "-out", "p8.pem")
	openssl(t, dir, "ec", "-in", "sec1.pem", "-aes256", "-passout", "pass:s3cret", "-out", "legacy.pem")
	s, _ := openStore(t, newHome(t), "pw")
	for _, f := range []string{"p8.pem", "legacy.pem"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		_, err := s.Import(context.Background(), "k", data, passFunc("wrong"))
		if !errors.Is(err, ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("failed imports stored %v", list)
	}
}

func TestImportRefusesRSAKeysClearly(t *testing.T) {
	t.Parallel()
	needOpenSSL(t)
	dir := t.TempDir()
	openssl(t, dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
	openssl(t, dir, "pkey", "-in", "rsa.pem", "-traditional", "-out", "rsa1.pem")
	s, _ := openStore(t, newHome(t), "pw")
	for _, f := range []string{"rsa.pem", "rsa1.pem"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		_, err := s.Import(context.Background(), "k", data, nil)
		if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "RSA keys are not supported") {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestImportAcceptsCosignEncryptedKey(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte("cosign-pw"), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc})
	s, _ := openStore(t, newHome(t), "pw")
	k, err := s.Import(context.Background(), "cosign", data, passFunc("cosign-pw"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyID(&priv.PublicKey); k.KeyID != id {
		t.Fatal("imported cosign key has another key ID")
	}
	if _, err := s.Import(context.Background(), "again", data, passFunc("nope")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong cosign passphrase: %v", err)
	}
}

func TestImportRefusesDuplicatesAndGarbage(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	ctx := context.Background()
	k, err := s.Generate(ctx, "ci", "")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.PublicPEM("ci")
	if _, err := s.Import(ctx, "ci-pub", pub, nil); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "as ci") {
		t.Fatalf("same key under another name: %v", err)
	}
	if _, err := s.Generate(ctx, "ci", ""); !errors.Is(err, ErrExists) || errkind.Of(err) != errkind.Input {
		t.Fatalf("name in use: %v", err)
	}
	for _, junk := range []string{"", "hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "-----BEGIN FOO-----\n-----END FOO-----\n"} {
		if _, err := s.Import(ctx, "junk", []byte(junk), nil); errkind.Of(err) != errkind.Input {
			t.Fatalf("%q: %v", junk, err)
		}
	}
	if got, err := s.Get("ci"); err != nil || got.KeyID != k.KeyID {
		t.Fatalf("Get: %+v %v", got, err)
	}
}

func TestKeyNames(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	online := "127.0.0.1:5000/team/app/snapshot"
	if _, err := s.Generate(context.Background(), online, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Home(), "keys", "127.0.0.1%3A5000%2Fteam%2Fapp%2Fsnapshot.key")); err != nil {
		t.Fatalf("escaped file: %v", err)
	}
	if k, err := s.Get(online); err != nil || k.Name != online {
		t.Fatalf("Get(%s): %+v %v", online, k, err)
	}
	long := strings.Repeat("a/", 99) + "zz" // 200 characters, escapes to 494
	if _, err := s.Generate(context.Background(), long, ""); err != nil {
		t.Fatalf("200-character name: %v", err)
	}
	if k, err := s.Get(long); err != nil || k.Name != long {
		t.Fatalf("Get(long): %v", err)
	}
	for _, bad := range []string{"", "/abs", "a/../b", "..", ".hidden", "a b", "a\\b", "a%2F", "x/", "file:k", "env:K", "yubikey", "yubikey:1", strings.Repeat("a", 201)} {
		if err := ValidateName(bad); errkind.Of(err) != errkind.Input {
			t.Errorf("ValidateName(%q) = %v", bad, err)
		}
	}
	for _, good := range []string{"ci", "root-1", "a.b_c@d:e/f-g", "registry.example.com/team/app/timestamp"} {
		if err := ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q) = %v", good, err)
		}
	}
}

func TestFindByIDFindsUniquePrefixesAndRefusesAmbiguousOnes(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	// Find two keys whose IDs share their first four hex digits.
	seen := map[string]*ecdsa.PrivateKey{}
	var a, b *ecdsa.PrivateKey
	for a == nil {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		id, _ := KeyID(&k.PublicKey)
		if other, ok := seen[id[:4]]; ok {
			a, b = other, k
		}
		seen[id[:4]] = k
	}
	for i, k := range []*ecdsa.PrivateKey{a, b} {
		pub, _ := PublicKeyPEM(&k.PublicKey)
		if _, err := s.Import(context.Background(), []string{"a", "b"}[i], pub, nil); err != nil {
			t.Fatal(err)
		}
	}
	idA, _ := KeyID(&a.PublicKey)
	idB, _ := KeyID(&b.PublicKey)
	_, err := s.FindByID(idA[:4])
	if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "ambiguous") {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	n := 5
	for idA[:n] == idB[:n] {
		n++
	}
	if k, err := s.FindByID(strings.ToUpper(idB[:n])); err != nil || k.Name != "b" {
		t.Fatalf("unique prefix: %+v %v", k, err)
	}
	if _, err := s.FindByID("ffffffffffffffffff"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown prefix: %v", err)
	}
	if _, err := s.FindByID("abc"); errkind.Of(err) != errkind.Input {
		t.Fatalf("short prefix: %v", err)
	}
}

func TestHardwareRecordRoundTrips(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	att := []byte("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
	in := HardwareKey{Name: "yk-root", Public: &k.PublicKey, Serial: 12345678, Slot: "9C", PINPolicy: "once", TouchPolicy: "always", Attestation: att}
	if _, err := s.PutHardware(in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("yk-root")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != Hardware || got.Serial != 12345678 || got.Slot != "9c" || got.PINPolicy != "once" || got.TouchPolicy != "always" || string(got.Attestation) != string(att) {
		t.Fatalf("record: %+v", got)
	}
	if _, err := s.PrivateKey(context.Background(), "yk-root"); !errors.Is(err, ErrNoPrivateKey) || !strings.Contains(err.Error(), "YubiKey 12345678 slot 9c") {
		t.Fatalf("PrivateKey of a hardware key: %v", err)
	}
	in.Name, in.Slot = "other", "9b"
	if _, err := s.PutHardware(in); errkind.Of(err) != errkind.Input {
		t.Fatalf("bad slot: %v", err)
	}
}
