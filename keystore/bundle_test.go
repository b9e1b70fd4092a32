package keystore

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/signet-dev/signet/internal/errkind"
)

func TestExportBundleOpensWithOneDerivationForAllKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openStore(t, newHome(t), "pw")
	names := []string{"ci", "127.0.0.1:5000/app/snapshot", "127.0.0.1:5000/app/timestamp"}
	want := map[string]KeyInfo{}
	for i, n := range names {
		k, err := s.Generate(ctx, n, []KeyType{ECDSAP256, Ed25519, ECDSAP256}[i])
		if err != nil {
			t.Fatal(err)
		}
		want[n] = k
	}
	data, err := s.ExportBundle(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if !IsBundle(data) || !strings.HasPrefix(string(data), "-----BEGIN "+BundlePEMType) {
		t.Fatalf("bundle is not a %s PEM block", BundlePEMType)
	}
	for _, in := range [][]byte{data, []byte(base64.StdEncoding.EncodeToString(data))} {
		var asks, derives int
		b, err := OpenBundle(ctx, in, func(_ context.Context, r PassphraseRequest) ([]byte, error) {
			asks++
			return []byte("pw"), nil
		}, WithDeriveHook(func() { derives++ }))
		if err != nil {
			t.Fatal(err)
		}
		if asks != 1 || derives != 1 {
			t.Fatalf("asks=%d derives=%d", asks, derives)
		}
		if len(b.Keys) != 3 || b.Keys[0].Name != "ci" {
			t.Fatalf("bundle keys %+v", b.Keys)
		}
		for _, n := range names {
			k, ok := b.ByKeyID(want[n].KeyID)
			if !ok || k.Name != n || k.Type != want[n].Type {
				t.Fatalf("ByKeyID(%s): %+v", n, k)
			}
			signs(t, k.Signer, want[n].Public)
			if byName, ok := b.ByName(n); !ok || byName.KeyID != k.KeyID {
				t.Fatalf("ByName(%s)", n)
			}
		}
	}
}

func TestOpenBundleWithWrongPassphraseOrGarbage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openStore(t, newHome(t), "pw")
	if _, err := s.Generate(ctx, "ci", ""); err != nil {
		t.Fatal(err)
	}
	data, err := s.ExportBundle(ctx, []string{"ci"})
	if err != nil {
		t.Fatal(err)
	}
	wrong := func(context.Context, PassphraseRequest) ([]byte, error) { return []byte("nope"), nil }
	if _, err := OpenBundle(ctx, data, wrong); !errors.Is(err, ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
		t.Fatalf("wrong passphrase: %v", err)
	}
	pemKey, _ := s.PublicPEM("ci")
	for _, junk := range [][]byte{nil, []byte("x"), pemKey, []byte("-----BEGIN " + BundlePEMType + "-----\nAAAA\n-----END " + BundlePEMType + "-----\n")} {
		if _, err := OpenBundle(ctx, junk, wrong); errkind.Of(err) != errkind.Input {
			t.Fatalf("%q: %v", junk, err)
		}
	}
	if IsBundle(pemKey) {
		t.Fatal("a public key PEM is taken for a bundle")
	}
}

func TestExportBundleRefusesKeysWithoutPrivateHalf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openStore(t, newHome(t), "pw")
	k, _ := s.Generate(ctx, "ci", "")
	pub, _ := PublicKeyPEM(k.Public)
	if err := s.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, "pub", pub, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportBundle(ctx, []string{"pub"}); !errors.Is(err, ErrNoPrivateKey) {
		t.Fatalf("export of a public key: %v", err)
	}
	if _, err := s.ExportBundle(ctx, []string{"missing"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of a missing key: %v", err)
	}
}

func TestTrustDirPinAndForget(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	dir, err := s.TrustDir("127.0.0.1:5000", "team/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Home(), "trust", "127.0.0.1:5000", "team", "app"); dir != want {
		t.Fatalf("TrustDir = %s, want %s", dir, want)
	}
	for d := dir; d != s.Home(); d = filepath.Dir(d) {
		if m := mode(t, d); m != 0o700 {
			t.Fatalf("%s: mode %04o", d, m)
		}
	}
	if _, err := s.PinnedRoot("127.0.0.1:5000", "team/app"); !errors.Is(err, ErrNoPinnedRoot) {
		t.Fatalf("PinnedRoot before pinning: %v", err)
	}
	root := []byte(`{"signed":{"_type":"root"}}`)
	if err := s.PinRoot("127.0.0.1:5000", "team/app", root); err != nil {
		t.Fatal(err)
	}
	if err := s.PinRoot("127.0.0.1:5000", "team/app/sub", root); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PinnedRoot("127.0.0.1:5000", "team/app"); err != nil || string(got) != string(root) {
		t.Fatalf("PinnedRoot = %q %v", got, err)
	}
	if m := mode(t, filepath.Join(dir, "root.json")); m != 0o600 {
		t.Fatalf("root.json mode %04o", m)
	}
	if err := s.PinRoot("127.0.0.1:5000", "team/app", []byte("{")); errkind.Of(err) != errkind.Input {
		t.Fatalf("pinning invalid JSON: %v", err)
	}
	if err := s.ForgetRoot("127.0.0.1:5000", "team/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PinnedRoot("127.0.0.1:5000", "team/app"); !errors.Is(err, ErrNoPinnedRoot) {
		t.Fatalf("PinnedRoot after forget: %v", err)
	}
	if _, err := s.PinnedRoot("127.0.0.1:5000", "team/app/sub"); err != nil {
		t.Fatalf("forgetting team/app lost team/app/sub: %v", err)
	}
	if err := s.ForgetRoot("127.0.0.1:5000", "never/seen"); err != nil {
		t.Fatalf("forgetting an unknown repository: %v", err)
	}
	if err := s.ForgetRoot("127.0.0.1:5000", "team/app/sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Home(), "trust", "127.0.0.1:5000")); !os.IsNotExist(err) {
		t.Fatalf("empty trust directories were left: %v", err)
	}
}

func TestTrustDirRefusesPathsLeavingTheTrustDirectory(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, newHome(t), "pw")
	for _, c := range [][2]string{{"..", "x"}, {"h", "../x"}, {"h", "a//b"}, {"h", "/abs"}, {"h/x", "app"}, {"", "app"}, {"h", ""}, {"h", "a/./b"}, {"h", "a\\b"}} {
		if _, err := s.TrustDir(c[0], c[1]); errkind.Of(err) != errkind.Input {
			t.Errorf("TrustDir(%q, %q) = %v", c[0], c[1], err)
		}
	}
}

func FuzzKeyFile(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "home"), WithKDFStrength(encrypted.Legacy),
		WithPassphrase(func(context.Context, PassphraseRequest) ([]byte, error) { return []byte("pw"), nil }))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i, typ := range []KeyType{ECDSAP256, Ed25519} {
		k, err := s.Generate(ctx, []string{"a", "127.0.0.1:5000/x/snapshot"}[i], typ)
		if err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(s.Home(), "keys", fileName(k.Name)))
		f.Add(data)
		pub, _ := PublicKeyPEM(k.Public)
		f.Add(pub)
	}
	seeds, _ := filepath.Glob("testdata/*.pem")
	for _, p := range seeds {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"kind":"hardware","hardware":{"serial":1,"slot":"9c"}}`))
	f.Add([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, info, err := parseRecord(data); err == nil && info.KeyID == "" {
			t.Fatal("accepted a record without a key ID")
		}
		if k, err := ParsePEM(data, passFunc("test")); err == nil && k.Public == nil {
			t.Fatal("parsed a key without a public key")
		}
		_ = IsBundle(data)
	})
}

func TestFuzzSeedsParse(t *testing.T) {
	t.Parallel()
	seeds, _ := filepath.Glob("testdata/*.pem")
	if len(seeds) == 0 {
		t.Fatal("no seeds in testdata")
	}
	var first string
	for _, p := range seeds {
		data, _ := os.ReadFile(p)
		k, err := ParsePEM(data, passFunc("test"))
		if err != nil || k.Private == nil {
			t.Fatalf("%s: %v", p, err)
		}
		id, _ := KeyID(k.Public)
		if first == "" {
			first = id
		} else if id != first {
			t.Fatalf("%s holds another key", p)
		}
	}
}
