package signer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

func TestDefaultSlotIsTheOnlyRecordedSlotElse9c(t *testing.T) {
	t.Parallel()
	if s := defaultSlot(nil); s != "9c" {
		t.Errorf("no records: %s", s)
	}
	if s := defaultSlot([]keystore.KeyInfo{{Slot: "82"}}); s != "82" {
		t.Errorf("one record in 82: %s", s)
	}
	if s := defaultSlot([]keystore.KeyInfo{{Slot: "82"}, {Slot: "9c"}}); s != "9c" {
		t.Errorf("two records: %s", s)
	}
}

// setupCard puts a key in slot (0: signet's choice) of a virtual card with
// piv and records it in ks as name.
func setupCard(t *testing.T, ks *keystore.Store, env *pivsimtest.Env, serial uint32, slot piv.Slot, name string) keystore.KeyInfo {
	t.Helper()
	ctx := context.Background()
	roots, err := piv.YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(env.AttestationCA)
	if err != nil {
		t.Fatal(err)
	}
	if err := roots.AddPEM(ca); err != nil {
		t.Fatal(err)
	}
	yk, err := piv.Open(ctx, serial, piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) { return piv.PIN{Value: "135790"}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer yk.Close()
	res, err := yk.Setup(ctx, piv.SetupConfig{
		Slot: slot, Roots: roots, RequireAttestation: true, TouchPolicy: piv.TouchCached,
		NewPIN: func() (string, error) { return "135790", nil }, NewPUK: func() (string, error) { return "24680246", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := ks.PutHardware(keystore.HardwareKey{Name: name, Public: res.Public, Serial: serial, Slot: res.Slot.String(), Attestation: res.Attestation})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestYubiKeysResolveRecordedSlotsAndSignForGoTUFWithOnePIN(t *testing.T) {
	t.Parallel()
	cards := pivsimtest.Need(t)
	ctx := context.Background()
	ks := newStore(t)
	root := setupCard(t, ks, cards, cards.Serial, 0, "root")
	targets := setupCard(t, ks, cards, cards.Serial, 0, "targets")
	if root.Slot != "9c" || targets.Slot != "82" {
		t.Fatalf("slots %s %s", root.Slot, targets.Slot)
	}
	pins := 0
	hw := NewYubiKeys(ks, piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) {
		pins++
		return piv.PIN{Value: "135790"}, nil
	}))
	defer hw.Close()
	r, _ := NewResolver(ks, WithHardware(hw), WithEnv(env(nil)))
	s := fmt.Sprint(cards.Serial)
	k, err := r.Resolve(ctx, "yubikey:"+s)
	if err != nil || k.ID != root.KeyID || k.Description != "YubiKey "+s+" slot 9c" {
		t.Fatalf("yubikey:%s (two records) = %+v, %v; want the 9c key", s, k, err)
	}
	verifies(t, k)
	k2, err := r.ByKeyID(ctx, targets.KeyID)
	if err != nil || k2.Name != "targets" {
		t.Fatalf("ByKeyID(targets) = %+v, %v", k2, err)
	}
	verifies(t, k2)
	if pins != 1 {
		t.Fatalf("PIN asked %d times for two keys on one card", pins)
	}
	_, err = r.Resolve(ctx, "yubikey")
	if !errors.Is(err, piv.ErrSeveralCards) || errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), fmt.Sprint(cards.Serial2)) {
		t.Fatalf("yubikey with two cards: %v", err)
	}
}

func TestYubiKeysRefuseASlotThatNoLongerHoldsTheRecordedKey(t *testing.T) {
	t.Parallel()
	cards := pivsimtest.Need(t)
	ctx := context.Background()
	ks := newStore(t)
	setupCard(t, ks, cards, cards.Serial2, piv.SlotSignature, "old")
	yk, err := piv.Open(ctx, cards.Serial2, piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) { return piv.PIN{Value: "135790"}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	roots, _ := piv.YubicoRoots()
	if _, err := yk.Setup(ctx, piv.SetupConfig{Slot: piv.SlotSignature, Force: true, Roots: roots}); err != nil {
		t.Fatal(err)
	}
	yk.Close()
	hw := NewYubiKeys(ks, piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) { return piv.PIN{Value: "135790"}, nil }))
	defer hw.Close()
	_, err = hw.Signer(ctx, Ref{Kind: RefYubiKey, Serial: cards.Serial2, Slot: "9c"}, "")
	if errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "does not hold key old") {
		t.Fatalf("replaced key: %v", err)
	}
}
