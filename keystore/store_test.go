package keystore

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// counter counts passphrase requests and scrypt derivations of one Store.
type counter struct {
	asks, derives int
	reasons       []string
}

func openStore(t *testing.T, home, pass string) (*Store, *counter) {
	t.Helper()
	c := &counter{}
	s, err := Open(home,
		WithKDFStrength(encrypted.Legacy),
		WithDeriveHook(func() { c.derives++ }),
		WithPassphrase(func(_ context.Context, r PassphraseRequest) ([]byte, error) {
			c.asks++
			c.reasons = append(c.reasons, r.Reason)
			return []byte(pass), nil
		}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

// newHome returns a signet home that does not exist yet (t.TempDir itself
// is 0755, which Open refuses).
func newHome(t *testing.T) string { return filepath.Join(t.TempDir(), "home") }

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// snapshot returns every file under dir with its contents and mode.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		data := ""
		if !info.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data = string(b)
		}
		out[p] = info.Mode().String() + ":" + data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func signs(t *testing.T, priv crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	if !publicEqual(priv.Public(), pub) {
		t.Fatal("private key does not match the recorded public key")
	}
	digest := sha256.Sum256([]byte("hello"))
	opts := crypto.SignerOpts(crypto.SHA256)
	msg := digest[:]
	if _, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); ok {
		if typ, _ := TypeOf(pub); typ == Ed25519 {
			opts, msg = crypto.Hash(0), []byte("hello")
		}
	}
	if _, err := priv.Sign(rand.Reader, msg, opts); err != nil {
		t.Fatalf("sign: %v", err)
	}
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func TestOpenCreatesHomeAndSubdirectoriesMode0700(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "a", "home")
	openStore(t, home, "pw")
	for _, d := range []string{home, filepath.Join(home, "keys"), filepath.Join(home, "trust"), filepath.Join(home, "ceremonies")} {
		if m := mode(t, d); m != 0o700 {
			t.Errorf("%s: mode %04o, want 0700", d, m)
		}
	}
}

func TestOpenRefusesHomeAccessibleByOthers(t *testing.T) {
	t.Parallel()
	home := t.TempDir() // 0755
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(home)
	if err == nil || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("Open of a 0755 home: %v", err)
	}
}

func TestKeyFilesAre0600AndListed(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	ec, err := s.Generate(context.Background(), "ci", "")
	if err != nil {
		t.Fatal(err)
	}
	ed, err := s.Generate(context.Background(), "edkey", Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"master.enc", "ci.key", "edkey.key"} {
		if m := mode(t, filepath.Join(home, "keys", f)); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", f, m)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "ci" || list[1].Name != "edkey" || list[0].Type != ECDSAP256 || list[1].Type != Ed25519 {
		t.Fatalf("List = %+v", list)
	}
	for _, k := range []KeyInfo{ec, ed} {
		mk, err := metadata.KeyFromPublicKey(k.Public)
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := mk.ID(); id != k.KeyID {
			t.Errorf("%s: key ID %s, go-tuf says %s", k.Name, k.KeyID, id)
		}
	}
}

func TestGroupReadableKeyFileIsRefused(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	if _, err := s.Generate(context.Background(), "ci", ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "keys", "ci.key")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := s.PrivateKey(context.Background(), "ci")
	if err == nil || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Fatalf("PrivateKey of a 0640 file: %v", err)
	}
	if _, err := s.List(); err == nil {
		t.Fatal("List read a group-readable key file")
	}
}

func TestGenerateThenPrivateKeyRoundTripsInANewStore(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	want := map[string]KeyInfo{}
	for _, typ := range []KeyType{ECDSAP256, Ed25519} {
		k, err := s.Generate(context.Background(), "k-"+string(typ), typ)
		if err != nil {
			t.Fatal(err)
		}
		want[k.Name] = k
	}
	s.Close()
	s2, c := openStore(t, home, "pw")
	for name, k := range want {
		priv, err := s2.PrivateKey(context.Background(), name)
		if err != nil {
			t.Fatalf("PrivateKey(%s): %v", name, err)
		}
		signs(t, priv, k.Public)
	}
	if c.asks != 1 || c.derives != 1 {
		t.Fatalf("asks=%d derives=%d, want 1 and 1", c.asks, c.derives)
	}
}

func TestOpeningThreeKeysAsksOnceAndDerivesOnce(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, c := openStore(t, home, "pw")
	names := []string{"127.0.0.1:5000/team/app/targets", "127.0.0.1:5000/team/app/snapshot", "127.0.0.1:5000/team/app/timestamp"}
	for _, n := range names {
		if _, err := s.Generate(context.Background(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	if c.asks != 1 || c.derives != 1 || c.reasons[0] != "new keystore passphrase" {
		t.Fatalf("creating: asks=%d derives=%d reasons=%v", c.asks, c.derives, c.reasons)
	}
	s.Close()
	s2, c2 := openStore(t, home, "pw")
	for _, n := range names {
		if _, err := s2.PrivateKey(context.Background(), n); err != nil {
			t.Fatalf("PrivateKey(%s): %v", n, err)
		}
	}
	if c2.asks != 1 || c2.derives != 1 || c2.reasons[0] != "unlock keystore" {
		t.Fatalf("opening three keys: asks=%d derives=%d reasons=%v", c2.asks, c2.derives, c2.reasons)
	}
}

func TestWrongPassphraseIsKeyErrorAndChangesNothing(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "right horse")
	if _, err := s.Generate(context.Background(), "ci", ""); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, home)
	s2, _ := openStore(t, home, "wrong battery")
	_, err := s2.PrivateKey(context.Background(), "ci")
	if !errors.Is(err, ErrWrongPassphrase) || errkind.Of(err) != errkind.Key {
		t.Fatalf("PrivateKey with a wrong passphrase: %v (kind %d)", err, errkind.Of(err))
	}
	if strings.Contains(err.Error(), "battery") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error leaks the passphrase or spans lines: %q", err)
	}
	if _, err := s2.Generate(context.Background(), "other", ""); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Generate with a wrong passphrase: %v", err)
	}
	if err := s2.ChangePassphrase(context.Background()); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("ChangePassphrase with a wrong passphrase: %v", err)
	}
	after := snapshot(t, home)
	if len(before) != len(after) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for p, v := range before {
		if after[p] != v {
			t.Fatalf("%s changed", p)
		}
	}
}

func TestCorruptKeyFileIsOneLineKeyError(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	if _, err := s.Generate(context.Background(), "ci", ""); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"not json\n{", `{"version":1,"name":"ci","kind":"software","type":"ecdsa-p256","keyid":"00","public":"x"}`} {
		if err := os.WriteFile(filepath.Join(home, "keys", "ci.key"), []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.PrivateKey(context.Background(), "ci")
		if err == nil || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "corrupt") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("corrupt key file: %q (kind %d)", err, errkind.Of(err))
		}
	}
	if err := os.WriteFile(filepath.Join(home, "keys", "master.enc"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, _ := openStore(t, home, "pw")
	if _, err := s2.Generate(context.Background(), "x", ""); err == nil || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt master key: %v", err)
	}
}

func TestSealedKeyCopiedToAnotherNameDoesNotOpen(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	s, _ := openStore(t, home, "pw")
	if _, err := s.Generate(context.Background(), "a", ""); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(home, "keys", "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(`"name": "a"`), []byte(`"name": "b"`), 1)
	if err := os.WriteFile(filepath.Join(home, "keys", "b.key"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PrivateKey(context.Background(), "b"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("moved sealed key opened: %v", err)
	}
}

func TestChangePassphraseKeepsKeysAndRetiresTheOldPassphrase(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	ctx := context.Background()
	s, _ := openStore(t, home, "old")
	k, err := s.Generate(ctx, "ci", "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile, _ := os.ReadFile(filepath.Join(home, "keys", "ci.key"))
	s.Close()

	answers := [][]byte{[]byte("old"), []byte("new")}
	var reqs []PassphraseRequest
	s2, err := Open(home, WithKDFStrength(encrypted.Legacy), WithPassphrase(func(_ context.Context, r PassphraseRequest) ([]byte, error) {
		reqs = append(reqs, r)
		a := answers[0]
		answers = answers[1:]
		return a, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.ChangePassphrase(ctx); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if len(reqs) != 2 || reqs[0].Confirm || !reqs[1].Confirm {
		t.Fatalf("requests: %+v", reqs)
	}
	if now, _ := os.ReadFile(filepath.Join(home, "keys", "ci.key")); !bytes.Equal(now, keyFile) {
		t.Fatal("key file changed")
	}
	old, _ := openStore(t, home, "old")
	if _, err := old.PrivateKey(ctx, "ci"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
	nw, _ := openStore(t, home, "new")
	priv, err := nw.PrivateKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	signs(t, priv, k.Public)
}

func TestNoPassphraseFunctionIsKeyError(t *testing.T) {
	t.Parallel()
	s, err := Open(newHome(t), WithKDFStrength(encrypted.Legacy))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Generate(context.Background(), "ci", "")
	if errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("Generate without passphrase: %v", err)
	}
}

func TestWriteFileAtomicReplacesAndLeavesNoTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "f.json" {
		t.Fatalf("directory holds %v", entries)
	}
	if got, _ := os.ReadFile(path); string(got) != "two" || mode(t, path) != 0o600 {
		t.Fatalf("content %q mode %04o", got, mode(t, path))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("failed write left %v", entries)
	}
}
