package piv

import (
	"context"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
)

// pinStatus asks the card how many PIN tries are left; verified is true
// when the PIN was already verified in this session (the card then answers
// the empty VERIFY with success, which piv-go reports as an error).
func pinStatus(c card) (left int, verified bool, err error) {
	n, err := c.Retries()
	switch {
	case err == nil:
		return n, false, nil
	case isTransport(err):
		return 0, false, err
	case strings.Contains(err.Error(), "expected error code from empty pin"):
		return 0, true, nil
	}
	return 0, false, err
}

// checkSecret refuses a PIN or PUK the card would refuse anyway, before a
// try is spent on it.
func checkSecret(what, v string) error {
	if n := len(v); n < 6 || n > 8 {
		return errkind.Mark(errkind.Input, &kindErr{msg: what + " must be 6 to 8 characters", sentinel: errBadSecret})
	}
	return nil
}

var errBadSecret = errorString("bad PIN or PUK format")

type errorString string

func (e errorString) Error() string { return string(e) }

// getPIN returns the PIN, asking the PINFunc the first time only.
func (y *YubiKey) getPIN(ctx context.Context) (PIN, error) {
	if y.pin != nil {
		return *y.pin, nil
	}
	if y.opts.pin == nil {
		return PIN{}, keyErr("YubiKey %d needs its PIN, but no PIN was given", y.serial)
	}
	p, err := y.opts.pin(ctx, y.serial)
	if err != nil {
		y.pinErr = err
		return PIN{}, err
	}
	if err := checkSecret("the PIN", p.Value); err != nil {
		y.pinErr = err
		return PIN{}, err
	}
	y.pin = &p
	return p, nil
}

// login verifies the PIN once per connection of this YubiKey (the first
// time a key needs it), and again before each signature with always (keys
// with the "always" PIN policy need a VERIFY right before each one). It
// never relies on a verification it did not make: a YubiKey 5 keeps the
// PIN verified across connections, so the card's answer to an empty
// VERIFY may come from another process, and taking it would let a wrong
// or missing PIN through. It never sends a PIN the card refused before,
// and refuses a PIN from the environment when one try is left. Call it
// under y.mu (inside do).
func (y *YubiKey) login(ctx context.Context, c card, always bool) error {
	if y.pinErr != nil {
		return y.pinErr
	}
	if y.verified && !always {
		return nil
	}
	// verified, when this process has not verified the PIN on this
	// connection, is another process's verification that the card kept.
	// It means the last VERIFY succeeded, which restored the tries.
	left, verified, err := pinStatus(c)
	if err != nil {
		return y.cardErr("reading the PIN status", err)
	}
	if !verified && left == 0 {
		y.pinErr = y.blockedErr()
		return y.pinErr
	}
	pin, err := y.getPIN(ctx)
	if err != nil {
		return err
	}
	if pin.FromEnv && !verified && left == 1 {
		y.pinErr = newErr(errkind.Key, ErrPINUnattended,
			"YubiKey %d has one PIN try left, so signet will not use a PIN from the environment: unset SIGNET_PIN and type it at the prompt", y.serial)
		return y.pinErr
	}
	if err := ctx.Err(); err != nil {
		return err // cancelled while the PIN was asked for
	}
	y.verified = false
	if err := c.VerifyPIN(pin.Value); err != nil {
		if n, ok := authRetries(err); ok {
			y.pin = nil
			y.pinErr = y.wrongPINErr(n)
			return y.pinErr
		}
		return y.cardErr("verifying the PIN", err)
	}
	y.verified = true
	return nil
}

func (y *YubiKey) wrongPINErr(left int) error {
	if left == 0 {
		return y.blockedErr()
	}
	return newErr(errkind.Key, ErrWrongPIN, "wrong PIN for YubiKey %d: %s left before the PIN is blocked", y.serial, tries(left))
}

func (y *YubiKey) blockedErr() error {
	return newErr(errkind.Key, ErrPINBlocked,
		"the PIN of YubiKey %d is blocked: unblock it with the PUK (signet yubikey unblock --serial %d)", y.serial, y.serial)
}

func (y *YubiKey) wrongPUKErr(left int) error {
	if left == 0 {
		return newErr(errkind.Key, ErrWrongPUK,
			"the PUK of YubiKey %d is blocked: only a reset helps now (signet yubikey reset --serial %d erases every key on it)", y.serial, y.serial)
	}
	return newErr(errkind.Key, ErrWrongPUK, "wrong PUK for YubiKey %d: %s left before the PUK is blocked", y.serial, tries(left))
}

func tries(n int) string {
	if n == 1 {
		return "1 try"
	}
	return itoa(n) + " tries"
}

// PINRetries returns how many PIN tries are left (0: blocked).
func (y *YubiKey) PINRetries(ctx context.Context) (int, error) {
	var n int
	err := y.do(ctx, func(c card) error {
		left, verified, err := pinStatus(c)
		if err != nil {
			return y.cardErr("reading the PIN status", err)
		}
		if verified {
			left = -1
		}
		n = left
		return nil
	})
	return n, err
}

// SetPIN changes the PIN from oldPIN to newPIN (6 to 8 characters). A
// wrong oldPIN fails with ErrWrongPIN saying how many tries are left.
func (y *YubiKey) SetPIN(ctx context.Context, oldPIN, newPIN string) error {
	if err := checkSecret("the new PIN", newPIN); err != nil {
		return err
	}
	if err := checkSecret("the PIN", oldPIN); err != nil {
		return err
	}
	return y.do(ctx, func(c card) error {
		if err := c.SetPIN(oldPIN, newPIN); err != nil {
			if n, ok := authRetries(err); ok {
				return y.wrongPINErr(n)
			}
			return y.cardErr("changing the PIN", err)
		}
		y.pin, y.pinErr, y.verified = nil, nil, false
		return nil
	})
}

// SetPUK changes the PUK from oldPUK to newPUK (6 to 8 characters). A
// wrong oldPUK fails with ErrWrongPUK saying how many tries are left.
func (y *YubiKey) SetPUK(ctx context.Context, oldPUK, newPUK string) error {
	if err := checkSecret("the new PUK", newPUK); err != nil {
		return err
	}
	if err := checkSecret("the PUK", oldPUK); err != nil {
		return err
	}
	return y.do(ctx, func(c card) error {
		if err := c.SetPUK(oldPUK, newPUK); err != nil {
			if n, ok := authRetries(err); ok {
				return y.wrongPUKErr(n)
			}
			return y.cardErr("changing the PUK", err)
		}
		return nil
	})
}

// Unblock sets a new PIN with the PUK, which also restores the PIN tries.
func (y *YubiKey) Unblock(ctx context.Context, puk, newPIN string) error {
	if err := checkSecret("the new PIN", newPIN); err != nil {
		return err
	}
	if err := checkSecret("the PUK", puk); err != nil {
		return err
	}
	return y.do(ctx, func(c card) error {
		if err := c.Unblock(puk, newPIN); err != nil {
			if n, ok := authRetries(err); ok {
				return y.wrongPUKErr(n)
			}
			return y.cardErr("unblocking the PIN", err)
		}
		y.pin, y.pinErr, y.verified = nil, nil, false
		return nil
	})
}

// Reset erases the PIV applet: every key and certificate, and the PIN,
// PUK and management key go back to the factory values (123456, 12345678
// and the default key). It does nothing unless confirmed is true: the
// caller must have asked the person.
func (y *YubiKey) Reset(ctx context.Context, confirmed bool) error {
	if !confirmed {
		return errkind.Mark(errkind.Input, errorString("resetting a YubiKey erases every PIV key on it and needs a confirmation"))
	}
	return y.do(ctx, func(c card) error {
		if err := c.Reset(); err != nil {
			return y.cardErr("resetting the PIV applet", err)
		}
		y.pin, y.pinErr, y.verified = nil, nil, false
		clear(y.noticed)
		return nil
	})
}
