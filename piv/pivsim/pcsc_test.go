//go:build cgo || windows

package pivsim_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/signet-dev/signet/piv/pivsim"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

func TestPivGoSeesTwoCardsWithTheirOwnSerials(t *testing.T) {
	env := pivsimtest.Need(t)
	a, _ := open(t, env, env.Serial)
	b, _ := open(t, env, env.Serial2) // both open at once
	for _, yk := range []*piv.YubiKey{a, b} {
		if v := yk.Version(); v != (piv.Version{Major: 5, Minor: 4, Patch: 3}) {
			t.Errorf("version %+v, want 5.4.3", v)
		}
	}
	sa, _ := a.Serial()
	sb, _ := b.Serial()
	if sa == sb {
		t.Fatalf("both cards report serial %d", sa)
	}
	cards, err := piv.Cards()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cards, "|"), env.Reader2) {
		t.Errorf("piv.Cards() = %q lacks %q", cards, env.Reader2)
	}
}

func TestPivGoPINRetriesBlockAndPUKUnblocks(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	if n, err := yk.Retries(); err != nil || n != 3 {
		t.Fatalf("retries %d, %v; want 3", n, err)
	}
	for want := 2; want >= 0; want-- {
		var auth piv.AuthErr
		if err := yk.VerifyPIN("000000"); !errors.As(err, &auth) || auth.Retries != want {
			t.Fatalf("wrong PIN: %v, want %d retries left", err, want)
		}
	}
	if err := yk.VerifyPIN(piv.DefaultPIN); err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Fatalf("right PIN on a blocked card: %v, want blocked", err)
	}
	if err := yk.Unblock(piv.DefaultPUK, "246810"); err != nil {
		t.Fatalf("unblock: %v", err)
	}
	if err := yk.VerifyPIN("246810"); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
	if err := yk.SetPIN("246810", "135790"); err != nil {
		t.Fatal(err)
	}
	if err := yk.SetPUK(piv.DefaultPUK, "87654321"); err != nil {
		t.Fatal(err)
	}
	if err := yk.Unblock(piv.DefaultPUK, "111111"); err == nil {
		t.Fatal("old PUK still works")
	}
	if n := counters(t, env, env.Serial); n.PINVerifications != 1 || n.PINFailures != 4 {
		t.Errorf("counters %+v, want 1 PIN verification and 4 failures", n)
	}
}

func TestPivGoChangesManagementKeyBetween3DESAndAES(t *testing.T) {
	env := pivsimtest.Need(t)
	keys := [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 24)}
	old := piv.DefaultManagementKey // 3DES on firmware 5.4
	func() {
		yk, closeCard := open(t, env, env.Serial)
		defer closeCard()        // ykman needs the card next
		for _, k := range keys { // AES-256, AES-128, AES-192
			if err := yk.SetManagementKey(old, k); err != nil {
				t.Fatalf("changing to a %d-byte AES key: %v", len(k), err)
			}
			if err := yk.SetManagementKey(old, k); err == nil {
				t.Fatal("the replaced management key still authenticates")
			}
			old = k
		}
		if _, err := yk.GenerateKey(old, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever}); err != nil {
			t.Fatalf("generating with the AES-192 key: %v", err)
		}
	}()
	// piv-go only sets AES keys on 5.4; ykman sets a 3DES one.
	tdes := "0102030405060708090a0b0c0d0e0f101112131415161718"
	tool(t, "ykman", "--reader", env.Reader, "piv", "access", "change-management-key", "-f",
		"-m", fmt.Sprintf("%x", old), "-a", "TDES", "-n", tdes)
	yk, _ := open(t, env, env.Serial)
	key := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}
	if _, err := yk.GenerateKey(key, piv.SlotSignature, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever}); err != nil {
		t.Fatalf("generating with the 3DES key ykman set: %v", err)
	}
}

// TestPivGoGeneratesSignsAndAttestsInEverySlotWithEveryPolicy covers the
// four named slots and retired ones with every PIN and touch policy: the
// signature verifies with the returned public key and the attestation
// chains to the simulator's CA and reports the policies.
func TestPivGoGeneratesSignsAndAttestsInEverySlotWithEveryPolicy(t *testing.T) {
	env := pivsimtest.Need(t)
	setTouch(t, env, env.Serial, pivsim.TouchConfig{Delay: time.Millisecond})
	yk, _ := open(t, env, env.Serial)
	retired82, _ := piv.RetiredKeyManagementSlot(0x82)
	retired95, _ := piv.RetiredKeyManagementSlot(0x95)
	slots := []piv.Slot{piv.SlotAuthentication, piv.SlotSignature, piv.SlotKeyManagement, piv.SlotCardAuthentication, retired82, retired95}
	attCert, err := yk.AttestationCertificate()
	if err != nil {
		t.Fatal(err)
	}
	verifier := piv.Verifier{Roots: attestationRoots(t, env)}
	n := 0
	for i, slot := range slots {
		for _, pp := range []piv.PINPolicy{piv.PINPolicyNever, piv.PINPolicyOnce, piv.PINPolicyAlways} {
			for _, tp := range []piv.TouchPolicy{piv.TouchPolicyNever, piv.TouchPolicyAlways, piv.TouchPolicyCached} {
				alg := piv.AlgorithmEC256
				if (i+int(pp)+int(tp))%3 == 0 {
					alg = piv.AlgorithmEC384
				}
				name := fmt.Sprintf("slot %s alg %d pin %d touch %d", slot, alg, pp, tp)
				pub, err := yk.GenerateKey(piv.DefaultManagementKey, slot, piv.Key{Algorithm: alg, PINPolicy: pp, TouchPolicy: tp})
				if err != nil {
					t.Fatalf("%s: generate: %v", name, err)
				}
				priv, err := yk.PrivateKey(slot, pub, piv.KeyAuth{PIN: piv.DefaultPIN})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				digest := sha256.Sum256([]byte(name))
				sig, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					t.Fatalf("%s: sign: %v", name, err)
				}
				if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
					t.Errorf("%s: signature does not verify with the generated key", name)
				}
				n++
				slotCert, err := yk.Attest(slot)
				if err != nil {
					t.Fatalf("%s: attest: %v", name, err)
				}
				a, err := verifier.Verify(attCert, slotCert)
				if err != nil {
					t.Fatalf("%s: attestation does not verify: %v", name, err)
				}
				if a.Serial != env.Serial || a.PINPolicy != pp || a.TouchPolicy != tp || a.Slot != slot ||
					a.Version != (piv.Version{Major: 5, Minor: 4, Patch: 3}) || a.Formfactor != piv.FormfactorUSBAKeychain {
					t.Errorf("%s: attestation says %+v", name, a)
				}
				if !slotCert.PublicKey.(*ecdsa.PublicKey).Equal(pub) {
					t.Errorf("%s: attested key differs from the generated one", name)
				}
			}
		}
	}
	if got := counters(t, env, env.Serial).Signatures; got != n {
		t.Errorf("card counted %d signatures, want %d", got, n)
	}
}

func TestPivGoImportedKeysHaveNoAttestation(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := yk.SetPrivateKeyInsecure(piv.DefaultManagementKey, piv.SlotCardAuthentication, priv, piv.Key{PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever}); err != nil {
		t.Fatal(err)
	}
	if _, err := yk.Attest(piv.SlotCardAuthentication); !errors.Is(err, piv.ErrNotFound) {
		t.Errorf("attesting an imported key: %v, want ErrNotFound", err)
	}
	info, err := yk.KeyInfo(piv.SlotCardAuthentication)
	if err != nil || info.Origin != piv.OriginImported || !info.PublicKey.(*ecdsa.PublicKey).Equal(&priv.PublicKey) {
		t.Errorf("key info %+v, %v", info, err)
	}
	signer, err := yk.PrivateKey(piv.SlotCardAuthentication, &priv.PublicKey, piv.KeyAuth{})
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	shared, err := signer.(*piv.ECDSAPrivateKey).ECDH(peer.PublicKey())
	if err != nil {
		t.Fatalf("ECDH on the card: %v", err)
	}
	want, _ := peer.ECDH(k.PublicKey())
	if !bytes.Equal(shared, want) {
		t.Error("card's ECDH disagrees with the peer's")
	}
}

func TestPivGoStoresCertificatesAndPINProtectedData(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	slot, _ := piv.RetiredKeyManagementSlot(0x8a)
	pub, err := yk.GenerateKey(piv.DefaultManagementKey, slot, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := yk.PrivateKey(slot, pub, piv.KeyAuth{PIN: piv.DefaultPIN})
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSigned(t, priv.(crypto.Signer), strings.Repeat("a long subject ", 20))
	if err := yk.SetCertificate(piv.DefaultManagementKey, slot, cert); err != nil {
		t.Fatal(err)
	}
	got, err := yk.Certificate(slot)
	if err != nil || !bytes.Equal(got.Raw, cert.Raw) {
		t.Fatalf("certificate read back differs: %v", err)
	}
	if _, err := yk.Certificate(piv.SlotCardAuthentication); !errors.Is(err, piv.ErrNotFound) {
		t.Errorf("empty slot: %v, want ErrNotFound", err)
	}
	mk := bytes.Repeat([]byte{9}, 24)
	if err := yk.SetMetadata(piv.DefaultManagementKey, &piv.Metadata{ManagementKey: &mk}); err != nil {
		t.Fatal(err)
	}
	m, err := yk.Metadata(piv.DefaultPIN)
	if err != nil || m.ManagementKey == nil || !bytes.Equal(*m.ManagementKey, mk) {
		t.Fatalf("PIN-protected metadata read back: %+v, %v", m, err)
	}
}

func TestPivGoResetRestoresFactoryValues(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	if err := yk.SetPIN(piv.DefaultPIN, "999999"); err != nil {
		t.Fatal(err)
	}
	if _, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotSignature, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever}); err != nil {
		t.Fatal(err)
	}
	if err := yk.Reset(); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := yk.VerifyPIN(piv.DefaultPIN); err != nil {
		t.Errorf("default PIN after reset: %v", err)
	}
	if _, err := yk.KeyInfo(piv.SlotSignature); !errors.Is(err, piv.ErrNotFound) {
		t.Errorf("key in 9c after reset: %v, want ErrNotFound", err)
	}
}
