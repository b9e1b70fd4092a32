package piv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
)

// fakeCards is a cardSource of fake YubiKeys 5, one per reader, for the
// logic of YubiKey (PIN once, wrong PIN, a verification kept from another
// process, a card pulled out and put back) without pcscd. What it
// imitates of piv-go and a YubiKey 5 is what pcsc.go and the pcscd tests
// (pcsc_test.go, pcsc2_test.go) rely on:
//   - Retries on a card whose PIN is verified fails with piv-go's
//     "expected error code from empty pin";
//   - a wrong PIN is an *authError with the tries left, and resets the
//     verification;
//   - the verification survives closing and opening the card again, and
//     is lost when the card loses power (pulled out);
//   - a card that was pulled out answers with libpcsclite's "smart card
//     has been removed", and an empty reader with "no Smart Card".
type fakeCards struct {
	mu    sync.Mutex
	cards map[string]*fakeCard // by reader
}

// fakeCard is one fake YubiKey 5.4.3 with one P-256 key in slot 9c.
type fakeCard struct {
	serial   uint32
	pin      string
	retries  int // PIN tries left
	verified bool
	present  bool
	key      *ecdsa.PrivateKey
	policy   PINPolicy

	// What reached the card: PIN verifications (right or wrong) and
	// signatures made.
	verifies, signs int
}

const fakePIN = "135790"

func newFakeCards(serials ...uint32) *fakeCards {
	f := &fakeCards{cards: map[string]*fakeCard{}}
	for i, s := range serials {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		f.cards[fmt.Sprintf("Yubico YubiKey fake %02d", i)] = &fakeCard{
			serial: s, pin: fakePIN, retries: 3, present: true, key: k, policy: PINOnce,
		}
	}
	return f
}

// card returns the card with serial, to arrange or inspect it.
func (f *fakeCards) card(serial uint32) *fakeCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cards {
		if c.serial == serial {
			return c
		}
	}
	panic(fmt.Sprintf("no fake card %d", serial))
}

// with runs g under the lock, to change or read a card's state.
func (f *fakeCards) with(g func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g()
}

// pull takes the card out (it loses power, so its PIN verification);
// push puts it back.
func (f *fakeCards) pull(serial uint32) {
	c := f.card(serial)
	f.with(func() { c.present, c.verified = false, false })
}

func (f *fakeCards) push(serial uint32) {
	c := f.card(serial)
	f.with(func() { c.present = true })
}

func (f *fakeCards) readers() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for r := range f.cards {
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeCards) openCard(reader string) (card, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cards[reader]
	if c == nil || !c.present {
		return nil, 0, errors.New("connecting to smart card: no Smart Card is currently in the device")
	}
	return &fakeConn{f: f, c: c}, c.serial, nil
}

var errFakeRemoved = errors.New("smart card has been removed")

// fakeStatus is a card's answer with a status word, as piv-go's apduErr.
type fakeStatus uint16

func (s fakeStatus) Error() string  { return fmt.Sprintf("smart card error %04x", uint16(s)) }
func (s fakeStatus) Status() uint16 { return uint16(s) }

// fakeConn is one connection to a fake card.
type fakeConn struct {
	f      *fakeCards
	c      *fakeCard
	closed bool
}

var _ card = (*fakeConn)(nil)

// op runs g under the lock when the card is still there.
func (k *fakeConn) op(g func(c *fakeCard) error) error {
	k.f.mu.Lock()
	defer k.f.mu.Unlock()
	if k.closed {
		return errors.New("fake: connection closed")
	}
	if !k.c.present {
		return errFakeRemoved
	}
	return g(k.c)
}

func (k *fakeConn) Close() error     { k.closed = true; return nil }
func (k *fakeConn) Version() Version { return Version{Major: 5, Minor: 4, Patch: 3} }
func (k *fakeConn) Serial() (uint32, error) {
	var s uint32
	err := k.op(func(c *fakeCard) error { s = c.serial; return nil })
	return s, err
}

func (k *fakeConn) Retries() (int, error) {
	var n int
	err := k.op(func(c *fakeCard) error {
		if c.verified {
			return errors.New("verify pin: expected error code from empty pin, got success")
		}
		n = c.retries
		return nil
	})
	return n, err
}

func (k *fakeConn) VerifyPIN(pin string) error {
	return k.op(func(c *fakeCard) error {
		c.verifies++
		if c.retries == 0 {
			return &authError{retries: 0, cause: fakeStatus(0x6983)}
		}
		if pin != c.pin {
			c.retries--
			c.verified = false
			return &authError{retries: c.retries, cause: fakeStatus(0x63c0 | uint16(c.retries))}
		}
		c.retries, c.verified = 3, true
		return nil
	})
}

func (k *fakeConn) KeyInfo(slot Slot) (keyInfo, error) {
	var ki keyInfo
	err := k.op(func(c *fakeCard) error {
		if slot != SlotSignature {
			return &notFoundError{cause: fakeStatus(0x6a82)}
		}
		ki = keyInfo{Algorithm: "ECCP256", PINPolicy: c.policy, TouchPolicy: TouchNever, Origin: "generated", Public: &c.key.PublicKey}
		return nil
	})
	return ki, err
}

func (k *fakeConn) Certificate(Slot) (*x509.Certificate, error) {
	return nil, k.op(func(*fakeCard) error { return &notFoundError{cause: fakeStatus(0x6a82)} })
}

func (k *fakeConn) PrivateKey(slot Slot, _ crypto.PublicKey) (crypto.Signer, error) {
	if slot != SlotSignature {
		return nil, &notFoundError{cause: fakeStatus(0x6a82)}
	}
	return fakeKey{k}, nil
}

// fakeKey signs on the card: only with the PIN verified, as piv-go's key
// signs with PIN policy "never" (the YubiKey verifies the PIN itself).
type fakeKey struct{ k *fakeConn }

func (s fakeKey) Public() crypto.PublicKey { return &s.k.c.key.PublicKey }

func (s fakeKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	var sig []byte
	err := s.k.op(func(c *fakeCard) error {
		if c.policy != PINNever && !c.verified {
			return fakeStatus(0x6982)
		}
		var err error
		sig, err = ecdsa.SignASN1(rand.Reader, c.key, digest)
		c.signs++
		return err
	})
	return sig, err
}

// What YubiKey's PIN and removal logic does not use: a test that reaches
// one of these fails loudly.
var errFakeUnused = errors.New("fake card: operation not imitated")

func (k *fakeConn) SetPIN(string, string) error                    { return errFakeUnused }
func (k *fakeConn) SetPUK(string, string) error                    { return errFakeUnused }
func (k *fakeConn) Unblock(string, string) error                   { return errFakeUnused }
func (k *fakeConn) Reset() error                                   { return errFakeUnused }
func (k *fakeConn) SetManagementKey([]byte, []byte) error          { return errFakeUnused }
func (k *fakeConn) ProtectedManagementKey(string) ([]byte, error)  { return nil, errFakeUnused }
func (k *fakeConn) SetProtectedManagementKey([]byte, []byte) error { return errFakeUnused }
func (k *fakeConn) GenerateKey([]byte, Slot, PINPolicy, TouchPolicy) (crypto.PublicKey, error) {
	return nil, errFakeUnused
}
func (k *fakeConn) SetCertificate([]byte, Slot, *x509.Certificate) error { return errFakeUnused }
func (k *fakeConn) Attest(Slot) (*x509.Certificate, error)               { return nil, errFakeUnused }
func (k *fakeConn) AttestationCertificate() (*x509.Certificate, error)   { return nil, errFakeUnused }
