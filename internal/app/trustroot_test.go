package app_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/registry/registrytest"
)

// inProcessRepo is a repository of a registry served by this test.
func inProcessRepo(t *testing.T) string {
	t.Helper()
	return uniqueRepo(t, registrytest.InProcess(t))
}

func TestPinRootKeepsASelfSignedRootAndRefusesOthersUnchanged(t *testing.T) {
	repo := inProcessRepo(t)
	initRepo(t, repo)
	good, err := os.ReadFile(rootFile(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	consumer := newPerson(t)
	read := func(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }

	// Not a root at all: input. Signed by nobody: verification. Neither
	// is kept.
	_, err = app.PinRoot(consumer.deps.Keystore, repo, read([]byte(`{"signed":{"_type":"targets"}}`)), time.Now())
	wantFail(t, err, errkind.Input, "not a TUF root.json")
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	doc["signatures"] = []any{}
	unsigned, _ := json.Marshal(doc)
	_, err = app.PinRoot(consumer.deps.Keystore, repo, read(unsigned), time.Now())
	wantFail(t, err, errkind.Verification, "not signed by a threshold of its own root keys")
	_, _, err = app.TrustedRoot(consumer.deps.Keystore, repo, time.Now())
	wantFail(t, err, errkind.Verification, "no trusted root", "signet trust pin")

	sum, err := app.PinRoot(consumer.deps.Keystore, repo, read(good), time.Now())
	if err != nil || sum.Version != 1 || sum.Expired || len(sum.Fingerprint) != 64 || sum.Roles["root"].Threshold != 1 {
		t.Fatalf("PinRoot = %+v, %v", sum, err)
	}
	raw, shown, err := app.TrustedRoot(consumer.deps.Keystore, repo, time.Now())
	if err != nil || !bytes.Equal(raw, good) || shown.Fingerprint != sum.Fingerprint {
		t.Fatalf("TrustedRoot = %+v, %v", shown, err)
	}
	if _, err := app.ForgetRoot(consumer.deps.Keystore, repo); err != nil {
		t.Fatal(err)
	}
	_, _, err = app.TrustedRoot(consumer.deps.Keystore, repo, time.Now())
	wantFail(t, err, errkind.Verification, "no trusted root")
}

func TestExportRootsAndPublicKeysComeFromTheHome(t *testing.T) {
	repo := inProcessRepo(t)
	pub := initRepo(t, repo)
	ks, err := pub.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := app.TrustedRootsToExport(ks, repo)
	if err != nil || len(roots) != 1 {
		t.Fatalf("TrustedRootsToExport = %v, %v", roots, err)
	}
	_, err = app.TrustedRootsToExport(newPersonKeystore(t), repo)
	wantFail(t, err, errkind.Verification, "no root of")

	keys, err := app.ExportPublicKeys(ks, []string{"root", app.RoleKeyName(strings.ToLower(repo), "snapshot")})
	if err != nil || len(keys) != 2 || !strings.Contains(keys[0].PublicKey, "PUBLIC KEY") {
		t.Fatalf("ExportPublicKeys = %+v, %v", keys, err)
	}
	entries, err := app.ListKeys(ks)
	if err != nil || len(entries) != 4 {
		t.Fatalf("ListKeys = %+v, %v", entries, err)
	}

	// A key the trusted root lists is kept unless forced.
	_, err = app.DeleteKey(ks, "root", false)
	wantFail(t, err, errkind.Input, "still trusted as root of", "--force")
	if info, err := app.DeleteKey(ks, "root", true); err != nil || info.Name != "root" {
		t.Fatalf("DeleteKey --force = %+v, %v", info, err)
	}
	if entries, _ := app.ListKeys(ks); len(entries) != 3 {
		t.Fatalf("after delete: %+v", entries)
	}
}

func newPersonKeystore(t *testing.T) *keystore.Store {
	t.Helper()
	ks, err := newPerson(t).deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestRecordYubikeyKeyReplacesTheRecordOfAForcedSlot(t *testing.T) {
	ks := newPersonKeystore(t)
	key := func() *piv.SetupResult {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &piv.SetupResult{Serial: 42, Slot: piv.SlotSignature, Public: &priv.PublicKey, PINPolicy: piv.PINOnce, TouchPolicy: piv.TouchAlways}
	}
	var notices []string
	notice := func(msg string) { notices = append(notices, msg) }
	first, err := app.RecordYubikeyKey(ks, "", key(), notice)
	if err != nil || first.Name != "yubikey-42-9c" || first.Attested {
		t.Fatalf("first = %+v, %v", first, err)
	}
	if err := app.CheckKeyNameFree(ks, "yubikey-42-9c"); errkind.Of(err) != errkind.Input {
		t.Fatalf("CheckKeyNameFree of a taken name: %v", err)
	}
	second, err := app.RecordYubikeyKey(ks, "root", key(), notice)
	if err != nil || second.Name != "root" || second.KeyID == first.KeyID {
		t.Fatalf("second = %+v, %v", second, err)
	}
	recs := app.HardwareRecords(func() (*keystore.Store, error) { return ks, nil }, 42)
	if len(recs) != 1 || recs["9c"].Name != "root" {
		t.Fatalf("records after --force: %+v", recs)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "removed keystore record yubikey-42-9c") {
		t.Fatalf("notices %q", notices)
	}
}
