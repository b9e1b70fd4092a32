package app_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
	"github.com/signet-dev/signet/signer"
)

// cardSlot is a PIV slot of one of the virtual YubiKeys.
type cardSlot struct {
	serial uint32
	slot   piv.Slot
}

// onCards sets up keys (touch always) on the virtual YubiKeys, recorded in
// p's keystore under the names given, and gives p's commands the cards.
func onCards(t *testing.T, p *person, cards *pivsimtest.Env, keys map[string]cardSlot) {
	t.Helper()
	ctx := context.Background()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := piv.YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(cards.AttestationCA)
	if err != nil {
		t.Fatal(err)
	}
	if err := roots.AddPEM(ca); err != nil {
		t.Fatal(err)
	}
	pin := piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) { return piv.PIN{Value: testPIN}, nil })
	for name, k := range keys {
		yk, err := piv.Open(ctx, k.serial, pin)
		if err != nil {
			t.Fatal(err)
		}
		res, err := yk.Setup(ctx, piv.SetupConfig{
			Slot: k.slot, Force: true, Roots: roots, RequireAttestation: true, TouchPolicy: piv.TouchAlways,
			NewPIN: func() (string, error) { return testPIN, nil }, NewPUK: func() (string, error) { return "24680246", nil },
		})
		yk.Close()
		if err != nil {
			t.Fatalf("setting up %s: %v", name, err)
		}
		if _, err := ks.PutHardware(keystore.HardwareKey{Name: name, Public: res.Public, Serial: k.serial, Slot: res.Slot.String(), Attestation: res.Attestation}); err != nil {
			t.Fatal(err)
		}
	}
	hw := signer.NewYubiKeys(ks, pin)
	t.Cleanup(func() { _ = hw.Close() })
	pass := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		return []byte(passphrase), nil
	}
	p.deps.Resolver = sync.OnceValues(func() (*signer.Resolver, error) {
		return signer.NewResolver(ks, signer.WithPassphrase(pass), signer.WithHardware(hw), signer.WithEnv(func(string) string { return "" }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy)))
	})
}
