package piv

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
)

// SetupConfig says how Setup makes a key.
type SetupConfig struct {
	// Slot for the key; 0 picks 9c when it is empty, else the first empty
	// retired slot (82 to 95). 9a and 9e are used only when asked for.
	Slot Slot
	// PINPolicy of the key: PINOnce (the default) or PINAlways.
	PINPolicy PINPolicy
	// TouchPolicy of the key: TouchAlways (the default), TouchCached or
	// TouchNever.
	TouchPolicy TouchPolicy
	// Force replaces a key already in Slot. The caller must have had the
	// person confirm it: the old key is lost.
	Force bool

	// NewPIN and NewPUK give the PIN and PUK to set on a factory-fresh
	// card (one with the default management key). They are not called for
	// a card signet set up before; its PIN comes from WithPIN.
	NewPIN func() (string, error)
	NewPUK func() (string, error)

	// Roots verify the attestation. With RequireAttestation, a key whose
	// attestation does not chain to them is refused (the device
	// certificate is checked before anything is written to the card).
	Roots              *Roots
	RequireAttestation bool
}

// SetupResult is what Setup made: everything the keystore records.
type SetupResult struct {
	Serial      uint32
	Slot        Slot
	Public      crypto.PublicKey
	PINPolicy   PINPolicy
	TouchPolicy TouchPolicy
	Firmware    Version
	// Initialized is true when the card was factory-fresh and Setup set
	// its PIN, PUK and management key.
	Initialized bool
	// Attestation holds the slot's and the device's attestation
	// certificates (PEM); empty when it was not verified.
	Attestation []byte
	// AttestationErr says why the attestation was not verified, when
	// RequireAttestation was off.
	AttestationErr error
}

// Setup generates an ECDSA P-256 key on the card. On a factory-fresh card
// (default management key) it first sets the PIN and PUK (NewPIN, NewPUK)
// and replaces the management key with a random one kept in PIN-protected
// data, as ykman's --protect does; on a card set up that way before, it
// reads the management key with the PIN. It writes a certificate recording
// the policies into the slot and verifies the attestation.
func (y *YubiKey) Setup(ctx context.Context, cfg SetupConfig) (*SetupResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	res := &SetupResult{Serial: y.serial, PINPolicy: cfg.PINPolicy, TouchPolicy: cfg.TouchPolicy, Firmware: y.version}
	err := y.do(ctx, func(c card) error {
		if cfg.RequireAttestation {
			if err := y.checkDevice(c, cfg.Roots); err != nil {
				return err
			}
		}
		slot, err := y.chooseSlot(c, cfg.Slot, cfg.Force)
		if err != nil {
			return err
		}
		res.Slot = slot
		mk, fresh, err := y.managementKey(ctx, c, cfg)
		if err != nil {
			return err
		}
		res.Initialized = fresh
		pub, err := c.GenerateKey(mk, slot, cfg.PINPolicy, cfg.TouchPolicy)
		if err != nil {
			return y.cardErr("generating a key in slot "+slot.String(), err)
		}
		res.Public = pub
		clear(y.noticed)
		cert, err := policyCertificate(y.serial, slot, pub, cfg.PINPolicy, cfg.TouchPolicy)
		if err != nil {
			return keyErr("YubiKey %d: making the slot certificate: %w", y.serial, err)
		}
		if err := c.SetCertificate(mk, slot, cert); err != nil {
			return y.cardErr("writing the certificate of slot "+slot.String(), err)
		}
		return y.setupAttestation(c, cfg, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (cfg *SetupConfig) defaults() error {
	if cfg.PINPolicy == "" {
		cfg.PINPolicy = PINOnce
	}
	if cfg.TouchPolicy == "" {
		cfg.TouchPolicy = TouchAlways
	}
	if _, err := ParsePINPolicy(string(cfg.PINPolicy)); err != nil {
		return err
	}
	if _, err := ParseTouchPolicy(string(cfg.TouchPolicy)); err != nil {
		return err
	}
	if cfg.Slot != 0 && !cfg.Slot.valid() {
		return errkind.Mark(errkind.Input, fmt.Errorf("invalid PIV slot %s", cfg.Slot))
	}
	if cfg.RequireAttestation && cfg.Roots == nil {
		return errkind.Mark(errkind.Input, errors.New("attestation required but no attestation roots given"))
	}
	return nil
}

// checkDevice verifies the device attestation certificate (f9) against
// roots before anything is written to the card.
func (y *YubiKey) checkDevice(c card, roots *Roots) error {
	dev, err := c.AttestationCertificate()
	if err != nil {
		if _, ok := statusOf(err); ok || errors.Is(err, errNotFound) {
			return newErr(errkind.Key, ErrNoAttestation, "YubiKey %d has no attestation certificate (firmware %s); pass --require-attestation=false to use it anyway", y.serial, y.version)
		}
		return y.cardErr("reading the device attestation certificate", err)
	}
	d := *dev
	if !d.BasicConstraintsValid {
		d.BasicConstraintsValid, d.IsCA = true, true
	}
	opts := roots.verifyOptions()
	if _, err := d.Verify(opts); err != nil {
		return wrapErr(errkind.Key, ErrUntrustedAttestation, err,
			"YubiKey %d: its attestation certificate does not chain to a trusted Yubico root, so it may not be a genuine YubiKey", y.serial)
	}
	return nil
}

// chooseSlot returns the slot to use: the one asked for (refused when it
// holds a key, unless force), or the first empty candidate.
func (y *YubiKey) chooseSlot(c card, want Slot, force bool) (Slot, error) {
	if want != 0 {
		used, err := y.occupied(c, want)
		if err != nil {
			return 0, err
		}
		if used && !force {
			return 0, newErr(errkind.Input, ErrSlotOccupied,
				"slot %s of YubiKey %d already holds a key: choose another slot, or pass --force to replace it (the old key is lost)", want, y.serial)
		}
		return want, nil
	}
	for _, s := range candidateSlots() {
		used, err := y.occupied(c, s)
		if err != nil {
			return 0, err
		}
		if !used {
			return s, nil
		}
	}
	return 0, newErr(errkind.Input, ErrSlotOccupied, "YubiKey %d has no empty slot among 9c and 82 to 95: name one with --slot and --force", y.serial)
}

// occupied reports whether slot holds a key (or, on firmware before 5.3,
// which cannot say, a certificate).
func (y *YubiKey) occupied(c card, s Slot) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	var err error
	if y.version.atLeast(5, 3, 0) {
		_, err = c.KeyInfo(s)
	} else {
		_, err = c.Certificate(s)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errNotFound):
		return false, nil
	}
	return false, y.cardErr("reading slot "+s.String(), err)
}
