//go:build cgo || windows

package piv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

// These tests run against the virtual YubiKeys of scripts/lib/pcsc.sh,
// through libpcsclite, pcscd and vpcd, from factory-fresh cards.

const (
	testPIN = "246810"
	testPUK = "13579135"
)

// card is one test's view of a virtual card.
type card struct {
	env     *pivsimtest.Env
	serial  uint32
	roots   *piv.Roots // Yubico's and the simulator's CAs
	notices *notices
}

type notices struct {
	mu   sync.Mutex
	msgs []string
}

func (n *notices) add(m string) { n.mu.Lock(); n.msgs = append(n.msgs, m); n.mu.Unlock() }
func (n *notices) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

func needCard(t *testing.T) *card {
	t.Helper()
	env := pivsimtest.Need(t)
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
	return &card{env: env, serial: env.Serial, roots: roots, notices: &notices{}}
}

// pinCounter is a PINFunc that counts its calls.
type pinCounter struct {
	pin     string
	fromEnv bool
	calls   int
}

func (p *pinCounter) get(context.Context, uint32) (piv.PIN, error) {
	p.calls++
	return piv.PIN{Value: p.pin, FromEnv: p.fromEnv}, nil
}

func (c *card) open(t *testing.T, pin *pinCounter) *piv.YubiKey {
	t.Helper()
	opts := []piv.Option{piv.WithNotice(c.notices.add)}
	if pin != nil {
		opts = append(opts, piv.WithPIN(pin.get))
	}
	yk, err := piv.Open(context.Background(), c.serial, opts...)
	if err != nil {
		t.Fatalf("opening YubiKey %d: %v", c.serial, err)
	}
	t.Cleanup(func() { yk.Close() })
	return yk
}

func (c *card) setupConfig() piv.SetupConfig {
	return piv.SetupConfig{
		NewPIN:             func() (string, error) { return testPIN, nil },
		NewPUK:             func() (string, error) { return testPUK, nil },
		Roots:              c.roots,
		RequireAttestation: true,
	}
}

// setup sets up a fresh card with a key in 9c (PIN once, touch always)
// and closes it, as `signet yubikey setup` does.
func (c *card) setup(t *testing.T) *piv.SetupResult {
	t.Helper()
	yk := c.open(t, nil)
	res, err := yk.Setup(context.Background(), c.setupConfig())
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	yk.Close()
	return res
}

func (c *card) counters(t *testing.T) (touches, signatures, pinVerifications, pinFailures int) {
	t.Helper()
	n, err := c.env.Client.Counters(context.Background(), c.serial)
	if err != nil {
		t.Fatal(err)
	}
	return n.Touches, n.Signatures, n.PINVerifications, n.PINFailures
}

func (c *card) resetCounters(t *testing.T) {
	t.Helper()
	if err := c.env.Client.ResetCounters(context.Background(), c.serial); err != nil {
		t.Fatal(err)
	}
}

func verifySig(t *testing.T, pub any, msg, sig []byte) {
	t.Helper()
	d := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("signature does not verify with the slot's public key")
	}
}

func wantErr(t *testing.T, err, sentinel error, kind errkind.Kind, text string) {
	t.Helper()
	if !errors.Is(err, sentinel) || errkind.Of(err) != kind || !strings.Contains(err.Error(), text) {
		t.Fatalf("err = %v (kind %d); want %v, kind %d, containing %q", err, errkind.Of(err), sentinel, kind, text)
	}
	if strings.Contains(err.Error(), testPIN) || strings.Contains(err.Error(), testPUK) {
		t.Fatalf("error %q contains a secret", err)
	}
}

func TestSetupOfFreshCardThenSignaturesVerifyWithOneTouchEachAndOnePIN(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	if res.Slot != piv.SlotSignature || !res.Initialized || res.PINPolicy != piv.PINOnce || res.TouchPolicy != piv.TouchAlways {
		t.Fatalf("setup result %+v", res)
	}
	if !strings.Contains(string(res.Attestation), "BEGIN CERTIFICATE") || res.Serial != c.serial {
		t.Fatalf("attestation not recorded: %+v", res)
	}
	c.resetCounters(t)
	pin := &pinCounter{pin: testPIN}
	yk := c.open(t, pin)
	s, err := yk.Signer(context.Background(), piv.SlotSignature, res.Public, "targets for registry.example.com/team/app")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		msg := []byte(fmt.Sprintf("message %d", i))
		sig, err := s.SignMessage(strings.NewReader(string(msg)))
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		verifySig(t, res.Public, msg, sig)
		touches, sigs, verifications, _ := c.counters(t)
		if touches != i || sigs != i {
			t.Fatalf("after %d signatures: %d touches, %d signatures on the card", i, touches, sigs)
		}
		if verifications != 1 {
			t.Fatalf("after %d signatures: %d PIN verifications, want 1 (PIN policy once)", i, verifications)
		}
	}
	if pin.calls != 1 {
		t.Errorf("PIN asked %d times, want 1", pin.calls)
	}
	want := fmt.Sprintf("Touch your YubiKey %d to sign targets for registry.example.com/team/app", c.serial)
	if got := c.notices.all(); len(got) != 2 || got[0] != want {
		t.Errorf("notices %q, want two of %q", got, want)
	}
}

func TestSecondSetupTakesFirstFreeRetiredSlotWithTheProtectedManagementKey(t *testing.T) {
	c := needCard(t)
	c.setup(t)
	pin := &pinCounter{pin: testPIN}
	yk := c.open(t, pin)
	cfg := c.setupConfig()
	cfg.NewPIN = func() (string, error) { t.Fatal("new PIN asked for a card already set up"); return "", nil }
	cfg.TouchPolicy, cfg.PINPolicy = piv.TouchCached, piv.PINAlways
	res, err := yk.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Slot != 0x82 || res.Initialized || pin.calls != 1 {
		t.Fatalf("second setup: slot %s, initialized %v, PIN asked %d times", res.Slot, res.Initialized, pin.calls)
	}
	info, err := yk.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Slots) != 2 || info.Slots[1].Slot != 0x82 || info.Slots[1].TouchPolicy != piv.TouchCached ||
		info.Slots[1].PINPolicy != piv.PINAlways || info.Slots[1].Origin != "generated" || info.Slots[1].Algorithm != "ECCP256" {
		t.Fatalf("info %+v", info)
	}
}

func TestSetupRefusesAnOccupiedSlotUnlessForced(t *testing.T) {
	c := needCard(t)
	first := c.setup(t)
	yk := c.open(t, &pinCounter{pin: testPIN})
	cfg := c.setupConfig()
	cfg.Slot = piv.SlotSignature
	_, err := yk.Setup(context.Background(), cfg)
	wantErr(t, err, piv.ErrSlotOccupied, errkind.Input, "--force")
	cfg.Force = true
	res, err := yk.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Public.(*ecdsa.PublicKey).Equal(first.Public) {
		t.Fatal("forced setup kept the old key")
	}
	if _, err := yk.Signer(context.Background(), piv.SlotSignature, first.Public, ""); !errors.Is(err, piv.ErrKeyMismatch) {
		t.Fatalf("signer for the replaced key: %v", err)
	}
}

func TestWrongPINSaysTriesLeftAndIsNeverRetried(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	c.resetCounters(t)
	pin := &pinCounter{pin: "000000"}
	yk := c.open(t, pin)
	s, err := yk.Signer(context.Background(), piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err = s.SignMessage(strings.NewReader("m"))
		wantErr(t, err, piv.ErrWrongPIN, errkind.Key, "2 tries left")
	}
	_, sigs, _, failures := c.counters(t)
	if failures != 1 || sigs != 0 || pin.calls != 1 {
		t.Fatalf("%d PIN failures, %d signatures, PIN asked %d times; want 1, 0, 1", failures, sigs, pin.calls)
	}
	if n, err := yk.PINRetries(context.Background()); err != nil || n != 2 {
		t.Fatalf("PIN retries %d, %v; want 2 (not blocked by signet)", n, err)
	}
}

// signOnce opens the card with pin, signs one message with the key of
// setup and closes the card, as one signet command does.
func (c *card) signOnce(t *testing.T, res *piv.SetupResult, pin *pinCounter) error {
	t.Helper()
	yk := c.open(t, pin)
	defer yk.Close()
	s, err := yk.Signer(context.Background(), piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SignMessage(strings.NewReader("m"))
	return err
}

// rememberingCard sets up a card, keeps it powered (pcscd would power it
// down about a second after the last program closed it), signs once with
// the right PIN as one command does, and checks that the card kept that
// PIN verified, as a YubiKey 5 does across connections; without that the
// tests below would prove nothing. Counters start from zero.
func rememberingCard(t *testing.T) (*card, *piv.SetupResult) {
	t.Helper()
	c := needCard(t)
	res := c.setup(t)
	if err := c.env.Client.KeepPower(context.Background(), c.serial, true); err != nil {
		t.Fatal(err)
	}
	if err := c.signOnce(t, res, &pinCounter{pin: testPIN}); err != nil {
		t.Fatal(err)
	}
	yk := c.open(t, nil)
	n, err := yk.PINRetries(context.Background())
	yk.Close()
	if err != nil || n != -1 {
		t.Fatalf("PIN retries %d, %v; want -1: the card should keep the PIN verified across connections, as a YubiKey 5 does", n, err)
	}
	c.resetCounters(t)
	return c, res
}

func TestWrongPINFailsThoughTheCardKeptTheLastCommandsPINVerified(t *testing.T) {
	c, res := rememberingCard(t)
	err := c.signOnce(t, res, &pinCounter{pin: "999999", fromEnv: true})
	wantErr(t, err, piv.ErrWrongPIN, errkind.Key, "2 tries left")
	if _, sigs, _, failures := c.counters(t); failures != 1 || sigs != 0 {
		t.Fatalf("%d PIN failures, %d signatures; want 1 try spent and no signature", failures, sigs)
	}
}

func TestEachCommandVerifiesThePINOnceItself(t *testing.T) {
	c, res := rememberingCard(t)
	pin := &pinCounter{pin: testPIN}
	yk := c.open(t, pin)
	s, err := yk.Signer(context.Background(), piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.SignMessage(strings.NewReader("m")); err != nil {
			t.Fatal(err)
		}
	}
	if _, sigs, verifications, _ := c.counters(t); verifications != 1 || sigs != 2 || pin.calls != 1 {
		t.Fatalf("%d PIN verifications, %d signatures, PIN asked %d times; want 1, 2, 1", verifications, sigs, pin.calls)
	}
}

func TestBlockedPINSaysHowToUnblockAndUnblockRestoresIt(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	yk := c.open(t, &pinCounter{pin: testPIN})
	ctx := context.Background()
	for range 3 {
		if err := yk.SetPIN(ctx, "999999", "111111"); !errors.Is(err, piv.ErrWrongPIN) && !errors.Is(err, piv.ErrPINBlocked) {
			t.Fatalf("wrong old PIN: %v", err)
		}
	}
	s, err := yk.Signer(ctx, piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SignMessage(strings.NewReader("m"))
	wantErr(t, err, piv.ErrPINBlocked, errkind.Key, "signet yubikey unblock")

	if err := yk.Unblock(ctx, "00000000", "112233"); !errors.Is(err, piv.ErrWrongPUK) || !strings.Contains(err.Error(), "2 tries left") {
		t.Fatalf("wrong PUK: %v", err)
	}
	if err := yk.Unblock(ctx, testPUK, testPIN); err != nil {
		t.Fatal(err)
	}
	sig, err := s.SignMessage(strings.NewReader("m"))
	if err != nil {
		t.Fatalf("signing after unblock: %v", err)
	}
	verifySig(t, res.Public, []byte("m"), sig)
}

func TestPINFromEnvironmentIsRefusedWithOneTryLeft(t *testing.T) {
	c := needCard(t)
	res := c.setup(t)
	ctx := context.Background()
	admin := c.open(t, nil)
	for range 2 {
		if err := admin.SetPIN(ctx, "999999", "111111"); !errors.Is(err, piv.ErrWrongPIN) {
			t.Fatalf("wrong old PIN: %v", err)
		}
	}
	admin.Close()
	c.resetCounters(t)
	yk := c.open(t, &pinCounter{pin: testPIN, fromEnv: true})
	s, err := yk.Signer(ctx, piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SignMessage(strings.NewReader("m"))
	wantErr(t, err, piv.ErrPINUnattended, errkind.Key, "one PIN try left, so signet will not use a PIN from the environment: unset SIGNET_PIN and type it at the prompt")
	if _, _, verifications, failures := c.counters(t); verifications != 0 || failures != 0 {
		t.Fatalf("the card was asked: %d verifications, %d failures", verifications, failures)
	}
	yk.Close()

	typed := c.open(t, &pinCounter{pin: testPIN})
	s, err = typed.Signer(ctx, piv.SlotSignature, res.Public, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignMessage(strings.NewReader("m")); err != nil {
		t.Fatalf("typed PIN with one try left: %v", err)
	}
}
