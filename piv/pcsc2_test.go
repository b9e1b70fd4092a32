//go:build cgo || windows

package piv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	pivgo "github.com/go-piv/piv-go/v2/piv"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

func TestUntouchedCardFailsWithNotTouched(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	ctx := context.Background()
	if _, err := c.env.Client.SetTouch(ctx, c.serial, pivsim.TouchConfig{Mode: pivsim.TouchNever, Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	c.resetCounters(t)
	yk := c.open(t, &pinCounter{pin: testPIN})
	s, err := yk.Signer(ctx, piv.SlotSignature, res.Public, "root for r")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SignMessage(strings.NewReader("m"))
	wantErr(t, err, piv.ErrNotTouched, errkind.Key, fmt.Sprintf("the YubiKey %d was not touched", c.serial))
	n, _ := c.env.Client.Counters(ctx, c.serial)
	if n.TouchTimeouts != 1 || n.Signatures != 0 {
		t.Fatalf("counters %+v", n)
	}
}

func TestCardPulledOutGivesAClearErrorAndIsReopenedWhenBack(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	ctx := context.Background()
	yk := c.open(t, &pinCounter{pin: testPIN})
	s, err := yk.Signer(ctx, piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.env.Client.Remove(ctx, c.serial); err != nil {
		t.Fatal(err)
	}
	waitReader(t, yk.Reader(), false)
	_, err = s.SignMessage(strings.NewReader("m"))
	wantErr(t, err, piv.ErrCardRemoved, errkind.Key, fmt.Sprintf("YubiKey %d was removed", c.serial))
	_, err = s.SignMessage(strings.NewReader("m"))
	wantErr(t, err, piv.ErrCardRemoved, errkind.Key, "plug it in")
	if err := c.env.Client.Insert(ctx, c.serial); err != nil {
		t.Fatal(err)
	}
	waitReader(t, yk.Reader(), true)
	sig, err := s.SignMessage(strings.NewReader("m"))
	if err != nil {
		t.Fatalf("signing after the card came back: %v", err)
	}
	verifySig(t, res.Public, []byte("m"), sig)
}

// waitReader waits until pcscd itself sees the card in reader inserted or
// removed (pivsim's control server answers once vpcd has the card, which
// pcscd notices on its next poll). Opening the card in between would race
// with pcscd, and piv-go leaks the exclusive handle of an Open that fails
// half-way, which would keep the card busy for the rest of this process.
// opensc-tool runs in a process of its own, so it leaks nothing.
func waitReader(t *testing.T, reader string, present bool) {
	t.Helper()
	if err := pivsimtest.WaitReader(context.Background(), reader, present); err != nil {
		t.Fatal(err)
	}
}

func TestAttestationIsAcceptedOnlyWithTheSimulatorCA(t *testing.T) {
	c := needCard(t)
	ctx := context.Background()
	yubicoOnly, err := piv.YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	yk := c.open(t, nil)
	cfg := c.setupConfig()
	cfg.Roots = yubicoOnly
	_, err = yk.Setup(ctx, cfg)
	wantErr(t, err, piv.ErrUntrustedAttestation, errkind.Key, "genuine YubiKey")
	if info, err := yk.Info(ctx); err != nil || len(info.Slots) != 0 {
		t.Fatalf("refused setup wrote a key: %+v %v", info, err)
	}
	res, err := yk.Setup(ctx, c.setupConfig())
	if err != nil {
		t.Fatal(err)
	}
	a, err := yk.Attest(ctx, res.Slot, c.roots)
	if err != nil {
		t.Fatal(err)
	}
	if a.Serial != c.serial || a.Slot != res.Slot || a.TouchPolicy != piv.TouchAlways || !a.Public.(*ecdsa.PublicKey).Equal(res.Public) {
		t.Fatalf("attestation %+v", a)
	}
	_, err = yk.Attest(ctx, res.Slot, yubicoOnly)
	wantErr(t, err, piv.ErrUntrustedAttestation, errkind.Key, "trusted Yubico root")
}

func TestImportedKeyHasNoAttestation(t *testing.T) {
	c := needCard(t)
	ctx := context.Background()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, err := pivgo.Open(c.env.Reader)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.SetPrivateKeyInsecure(pivgo.DefaultManagementKey, pivgo.SlotSignature, priv,
		pivgo.Key{Algorithm: pivgo.AlgorithmEC256, PINPolicy: pivgo.PINPolicyOnce, TouchPolicy: pivgo.TouchPolicyNever})
	raw.Close()
	if err != nil {
		t.Fatalf("importing a key: %v", err)
	}
	yk := c.open(t, nil)
	_, err = yk.Attest(ctx, piv.SlotSignature, c.roots)
	wantErr(t, err, piv.ErrNoAttestation, errkind.Key, "imported")
}

func TestTwoCardsAreToldApartBySerial(t *testing.T) {
	c := needCard(t)
	ctx := context.Background()
	_, err := piv.Open(ctx, 0)
	wantErr(t, err, piv.ErrSeveralCards, errkind.Input, fmt.Sprint(c.env.Serial))
	if !strings.Contains(err.Error(), fmt.Sprint(c.env.Serial2)) {
		t.Fatalf("error does not list both serials: %v", err)
	}
	cards, err := piv.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	for _, ci := range cards {
		seen[ci.Serial] = true
	}
	if !seen[c.env.Serial] || !seen[c.env.Serial2] {
		t.Fatalf("List = %+v", cards)
	}
	second := &card{env: c.env, serial: c.env.Serial2, roots: c.roots, notices: c.notices}
	res := second.setup(t)
	if res.Serial != c.env.Serial2 {
		t.Fatalf("setup went to %d", res.Serial)
	}
	first := c.open(t, nil)
	if info, err := first.Info(ctx); err != nil || len(info.Slots) != 0 {
		t.Fatalf("the first card was changed: %+v %v", info, err)
	}
	_, err = piv.Open(ctx, 4242)
	wantErr(t, err, piv.ErrNoCard, errkind.Key, "4242")
}

func TestResetNeedsConfirmationAndMakesTheCardFresh(t *testing.T) {
	c := needCard(t)
	c.setup(t)
	ctx := context.Background()
	yk := c.open(t, nil)
	if err := yk.Reset(ctx, false); errkind.Of(err) != errkind.Input {
		t.Fatalf("unconfirmed reset: %v", err)
	}
	if info, _ := yk.Info(ctx); len(info.Slots) != 1 {
		t.Fatal("unconfirmed reset erased the key")
	}
	if err := yk.Reset(ctx, true); err != nil {
		t.Fatal(err)
	}
	if info, err := yk.Info(ctx); err != nil || len(info.Slots) != 0 || info.PINRetries != 3 {
		t.Fatalf("after reset: %+v %v", info, err)
	}
	res, err := yk.Setup(ctx, c.setupConfig())
	if err != nil || !res.Initialized {
		t.Fatalf("setup after reset: %+v %v", res, err)
	}
}
