package piv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signet-dev/signet/internal/errkind"
)

// Signer is a key on a YubiKey that signs: a sigstore signature.Signer
// (what go-tuf signs metadata with) and a crypto.Signer. Signatures are
// ECDSA over SHA-256, DER encoded.
type Signer interface {
	signature.Signer
	crypto.Signer
	// Serial and Slot say where the key is.
	Serial() uint32
	Slot() Slot
	// WithPurpose returns the same key with another touch notice:
	// "Touch your YubiKey 12345678 to sign <purpose>".
	WithPurpose(purpose string) Signer
}

// cardSigner signs through its YubiKey, which serialises card access,
// asks for the PIN once and shows the touch notice.
type cardSigner struct {
	y       *YubiKey
	slot    Slot
	pub     *ecdsa.PublicKey
	pin     PINPolicy
	touch   TouchPolicy // "" when the firmware cannot say
	purpose string
}

var (
	_ signature.Signer = (*cardSigner)(nil)
	_ crypto.Signer    = (*cardSigner)(nil)
	_ Signer           = (*cardSigner)(nil)
)

// Signer returns a signer for the key in slot. When want is not nil, the
// key in the slot must be that key (ErrKeyMismatch otherwise), so a slot
// that was set up again is never used in place of the recorded key.
// purpose completes the touch notice: "Touch your YubiKey 12345678 to sign
// <purpose>", for example "targets for registry.example.com/team/app".
func (y *YubiKey) Signer(ctx context.Context, slot Slot, want crypto.PublicKey, purpose string) (Signer, error) {
	if err := slot.check(); err != nil {
		return nil, err
	}
	s := &cardSigner{y: y, slot: slot, purpose: purpose}
	err := y.do(ctx, func(c card) error {
		si, ok, err := y.slotInfo(c, slot)
		if err != nil {
			return err
		}
		if !ok || si.Public == nil {
			return newErr(errkind.Key, ErrSlotEmpty, "YubiKey %d has no key in slot %s", y.serial, slot)
		}
		pub, isEC := si.Public.(*ecdsa.PublicKey)
		if !isEC {
			return keyErr("YubiKey %d slot %s holds a %T key; signet signs with ECDSA keys", y.serial, slot, si.Public)
		}
		if want != nil && !pub.Equal(want) {
			return newErr(errkind.Key, ErrKeyMismatch,
				"YubiKey %d slot %s holds another key than the one expected (was the slot set up again?)", y.serial, slot)
		}
		s.pub, s.pin, s.touch = pub, si.PINPolicy, si.TouchPolicy
		if s.pin == "" {
			s.pin = PINOnce // firmware before 5.3 cannot say; piv-go guesses the same
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *cardSigner) Serial() uint32 { return s.y.serial }

func (s *cardSigner) WithPurpose(purpose string) Signer {
	c := *s
	c.purpose = purpose
	return &c
}
func (s *cardSigner) Slot() Slot { return s.slot }

// Public returns the key's public half.
func (s *cardSigner) Public() crypto.PublicKey { return s.pub }

// PublicKey returns the key's public half; options are ignored.
func (s *cardSigner) PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return s.pub, nil
}

// SignMessage hashes message with SHA-256 and signs the digest on the
// card. A context given with options.WithContext (tuf passes the
// command's) is checked before the card is opened, after the PIN is
// verified and before the signature is asked for; a signature the card
// already works on (waiting for a touch) cannot be interrupted.
func (s *cardSigner) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	digest, _, err := signature.ComputeDigestForSigning(message, crypto.SHA256, []crypto.Hash{crypto.SHA256}, opts...)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("hashing the message: %w", err))
	}
	return s.sign(ctx, digest)
}

// Sign signs a SHA-256 digest (crypto.Signer).
func (s *cardSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != crypto.SHA256 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("YubiKey signer: unsupported hash %v (want SHA-256)", opts.HashFunc()))
	}
	if len(digest) != crypto.SHA256.Size() {
		return nil, errkind.Mark(errkind.Input, errors.New("YubiKey signer: digest is not a SHA-256 digest"))
	}
	return s.sign(context.Background(), digest)
}

func (s *cardSigner) sign(ctx context.Context, digest []byte) ([]byte, error) {
	y := s.y
	var sig []byte
	err := y.do(ctx, func(c card) error {
		if s.pin != PINNever {
			if err := y.login(ctx, c, s.pin == PINAlways); err != nil {
				return err
			}
		}
		// The PIN prompt may have outlasted the command: a signature
		// never starts after it was cancelled.
		if err := ctx.Err(); err != nil {
			return err
		}
		touch := s.touch != TouchNever
		if s.touch == TouchAlways || s.touch == "" || (s.touch == TouchCached && !y.noticed[s.slot]) {
			y.notice("%s", s.touchNotice())
			if s.touch == TouchCached {
				y.noticed[s.slot] = true
			}
		}
		// The PIN is handled above, so piv-go only sends the signature.
		cs, err := c.PrivateKey(s.slot, s.pub)
		if err != nil {
			return y.cardErr("opening the key in slot "+s.slot.String(), err)
		}
		sig, err = cs.Sign(rand.Reader, digest, crypto.SHA256)
		if err == nil {
			return nil
		}
		if st, ok := statusOf(err); ok && st == 0x6982 {
			if touch {
				delete(y.noticed, s.slot)
				return newErr(errkind.Key, ErrNotTouched,
					"the YubiKey %d was not touched: touch it when it blinks after the notice, and run the command again", y.serial)
			}
			y.verified = false
			return keyErr("YubiKey %d refused to sign with slot %s: the PIN is not verified", y.serial, s.slot)
		}
		return y.cardErr("signing with slot "+s.slot.String(), err)
	})
	if err != nil {
		return nil, err
	}
	return sig, nil
}

func (s *cardSigner) touchNotice() string {
	if s.purpose == "" {
		return fmt.Sprintf("Touch your YubiKey %d to sign", s.y.serial)
	}
	return fmt.Sprintf("Touch your YubiKey %d to sign %s", s.y.serial, s.purpose)
}
