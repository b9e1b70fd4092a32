package piv

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

// These tests drive YubiKey over fake cards (fakecard_test.go): the PIN and
// removal logic without pcscd. pcsc_test.go and pcsc2_test.go run the same
// stories through PC/SC against the virtual YubiKey.

const fakeSerial = 5000001

// fakePINs is a PINFunc that counts its calls; cancel, when set, is called
// while the PIN is being asked for.
type fakePINs struct {
	pin     string
	fromEnv bool
	calls   int
	cancel  func()
}

func (p *fakePINs) get(context.Context, uint32) (PIN, error) {
	p.calls++
	if p.cancel != nil {
		p.cancel()
	}
	return PIN{Value: p.pin, FromEnv: p.fromEnv}, nil
}

func openFake(t *testing.T, cards *fakeCards, serial uint32, pin *fakePINs) *YubiKey {
	t.Helper()
	var opts []Option
	if pin != nil {
		opts = append(opts, WithPIN(pin.get))
	}
	y, err := open(context.Background(), cards, serial, opts...)
	if err != nil {
		t.Fatalf("opening fake YubiKey %d: %v", serial, err)
	}
	t.Cleanup(func() { y.Close() })
	return y
}

func fakeSigner(t *testing.T, y *YubiKey) Signer {
	t.Helper()
	s, err := y.Signer(context.Background(), SlotSignature, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signFake signs "m" and, when it worked, checks the signature.
func signFake(ctx context.Context, t *testing.T, s Signer) error {
	t.Helper()
	d := sha256.Sum256([]byte("m"))
	sig, err := s.(*cardSigner).sign(ctx, d[:])
	if err == nil && !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("the signature does not verify")
	}
	return err
}

func wantFakeErr(t *testing.T, err, sentinel error, text string) {
	t.Helper()
	if !errors.Is(err, sentinel) || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), text) {
		t.Fatalf("err = %v (kind %d); want %v, errkind.Key, containing %q", err, errkind.Of(err), sentinel, text)
	}
	if strings.Contains(err.Error(), fakePIN) {
		t.Fatalf("error %q contains the PIN", err)
	}
}

// counts returns what reached the card: PIN verifications and signatures.
func counts(cards *fakeCards, serial uint32) (verifies, signs int) {
	c := cards.card(serial)
	cards.with(func() { verifies, signs = c.verifies, c.signs })
	return verifies, signs
}

func TestFakeCardPINIsAskedAndVerifiedOnceForSeveralSignatures(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	pin := &fakePINs{pin: fakePIN}
	s := fakeSigner(t, openFake(t, cards, 0, pin))
	for range 3 {
		if err := signFake(context.Background(), t, s); err != nil {
			t.Fatal(err)
		}
	}
	if v, n := counts(cards, fakeSerial); v != 1 || n != 3 || pin.calls != 1 {
		t.Fatalf("%d verifications, %d signatures, PIN asked %d times; want 1, 3, 1", v, n, pin.calls)
	}
}

func TestFakeCardWrongPINSaysTriesLeftAndIsNeverSentAgain(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	pin := &fakePINs{pin: "000000"}
	y := openFake(t, cards, fakeSerial, pin)
	s := fakeSigner(t, y)
	for range 2 {
		wantFakeErr(t, signFake(context.Background(), t, s), ErrWrongPIN, "2 tries left")
	}
	if v, n := counts(cards, fakeSerial); v != 1 || n != 0 || pin.calls != 1 {
		t.Fatalf("%d verifications, %d signatures, PIN asked %d times; want 1, 0, 1", v, n, pin.calls)
	}
	if n, err := y.PINRetries(context.Background()); err != nil || n != 2 {
		t.Fatalf("PIN retries %d, %v; want 2", n, err)
	}
}

// A YubiKey 5 keeps the PIN verified when the next command selects the PIV
// applet again: the card's "verified" is another command's, and a wrong PIN
// must fail all the same.
func TestFakeCardKeepingAnotherCommandsPINVerifiedLetsNoWrongPINThrough(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	c := cards.card(fakeSerial)
	cards.with(func() { c.verified = true })
	y := openFake(t, cards, fakeSerial, &fakePINs{pin: "999999", fromEnv: true})
	if n, err := y.PINRetries(context.Background()); err != nil || n != -1 {
		t.Fatalf("PIN retries %d, %v; want -1 (the card says verified)", n, err)
	}
	wantFakeErr(t, signFake(context.Background(), t, fakeSigner(t, y)), ErrWrongPIN, "2 tries left")
	if v, n := counts(cards, fakeSerial); v != 1 || n != 0 {
		t.Fatalf("%d verifications, %d signatures; want 1 try spent and no signature", v, n)
	}
}

func TestFakeCardRightPINIsVerifiedByEachCommandItself(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	for cmd := 1; cmd <= 2; cmd++ {
		y := openFake(t, cards, fakeSerial, &fakePINs{pin: fakePIN})
		if err := signFake(context.Background(), t, fakeSigner(t, y)); err != nil {
			t.Fatal(err)
		}
		y.Close()
		if v, n := counts(cards, fakeSerial); v != cmd || n != cmd {
			t.Fatalf("after command %d: %d verifications, %d signatures; want %d each", cmd, v, n, cmd)
		}
	}
}

func TestFakeCardWithOneTryLeftRefusesAPINFromTheEnvironment(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	c := cards.card(fakeSerial)
	cards.with(func() { c.retries = 1 })
	y := openFake(t, cards, fakeSerial, &fakePINs{pin: fakePIN, fromEnv: true})
	wantFakeErr(t, signFake(context.Background(), t, fakeSigner(t, y)), ErrPINUnattended, "unset SIGNET_PIN")
	if v, _ := counts(cards, fakeSerial); v != 0 {
		t.Fatalf("%d verifications; want none", v)
	}
}

func TestFakeCardBlockedPINIsNeitherAskedForNorSent(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	c := cards.card(fakeSerial)
	cards.with(func() { c.retries = 0 })
	pin := &fakePINs{pin: fakePIN}
	y := openFake(t, cards, fakeSerial, pin)
	wantFakeErr(t, signFake(context.Background(), t, fakeSigner(t, y)), ErrPINBlocked, "signet yubikey unblock --serial 5000001")
	if v, _ := counts(cards, fakeSerial); v != 0 || pin.calls != 0 {
		t.Fatalf("%d verifications, PIN asked %d times; want none", v, pin.calls)
	}
}

func TestFakeCardPulledOutGivesAClearErrorAndIsReopenedBySerialWhenBack(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial, fakeSerial+1)
	pin := &fakePINs{pin: fakePIN}
	s := fakeSigner(t, openFake(t, cards, fakeSerial, pin))
	if err := signFake(context.Background(), t, s); err != nil {
		t.Fatal(err)
	}
	cards.pull(fakeSerial)
	wantFakeErr(t, signFake(context.Background(), t, s), ErrCardRemoved, "YubiKey 5000001 was removed")
	wantFakeErr(t, signFake(context.Background(), t, s), ErrCardRemoved, "plug it in")
	cards.push(fakeSerial)
	if err := signFake(context.Background(), t, s); err != nil {
		t.Fatalf("signing after the card came back: %v", err)
	}
	// The card lost power: the PIN kept in memory is verified again on the
	// new connection, without asking.
	if v, n := counts(cards, fakeSerial); v != 2 || n != 2 || pin.calls != 1 {
		t.Fatalf("%d verifications, %d signatures, PIN asked %d times; want 2, 2, 1", v, n, pin.calls)
	}
	if v, n := counts(cards, fakeSerial+1); v != 0 || n != 0 {
		t.Fatal("the other card was used")
	}
}

func TestFakeCardsSeveralAttachedNeedASerial(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial+1, fakeSerial)
	_, err := open(context.Background(), cards, 0)
	if !errors.Is(err, ErrSeveralCards) || errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "5000001, 5000002") {
		t.Fatalf("err = %v; want ErrSeveralCards naming both serials", err)
	}
	if y := openFake(t, cards, fakeSerial+1, nil); y.Serial() != fakeSerial+1 {
		t.Fatalf("opened %d", y.Serial())
	}
	_, err = open(context.Background(), cards, 42)
	wantFakeErr(t, err, ErrNoCard, "YubiKey 42 not found; attached: 5000001, 5000002")
}

func TestFakeCardCancelledCommandSendsNoPINAndNoSignature(t *testing.T) {
	t.Parallel()
	cards := newFakeCards(fakeSerial)
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelled while the PIN is asked for (a person at the prompt
	// pressed Ctrl-C, or --timeout expired).
	pin := &fakePINs{pin: fakePIN, cancel: cancel}
	s := fakeSigner(t, openFake(t, cards, fakeSerial, pin))
	if err := signFake(ctx, t, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	// Cancelled before: nothing is asked.
	if err := signFake(ctx, t, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if v, n := counts(cards, fakeSerial); v != 0 || n != 0 || pin.calls != 1 {
		t.Fatalf("%d verifications, %d signatures, PIN asked %d times; want 0, 0, 1", v, n, pin.calls)
	}
}
