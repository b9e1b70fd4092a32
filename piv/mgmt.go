package piv

import (
	"context"
	"crypto/rand"
	"crypto/x509"

	"github.com/signet-dev/signet/internal/errkind"
)

// managementKey returns the card's management key. On a factory-fresh
// card (default management key) it sets the new PIN and PUK and a random
// management key kept in PIN-protected data, and reports fresh.
func (y *YubiKey) managementKey(ctx context.Context, c card, cfg SetupConfig) (mk []byte, fresh bool, err error) {
	isDefault, err := y.defaultManagementKey(c)
	if err != nil {
		return nil, false, err
	}
	if isDefault {
		mk, err := y.initialize(c, cfg)
		return mk, true, err
	}
	if err := y.login(ctx, c, false); err != nil {
		return nil, false, err
	}
	pin, err := y.getPIN(ctx)
	if err != nil {
		return nil, false, err
	}
	mk, err = c.ProtectedManagementKey(pin.Value)
	if err != nil {
		if n, ok := authRetries(err); ok {
			y.pin, y.pinErr, y.verified = nil, y.wrongPINErr(n), false
			return nil, false, y.pinErr
		}
		return nil, false, y.cardErr("reading PIN-protected data", err)
	}
	if mk == nil {
		return nil, false, newErr(errkind.Key, ErrNotSetUp,
			"YubiKey %d was set up by another tool: its management key is not kept in PIN-protected data (store it there with 'ykman piv access change-management-key --generate --protect', or reset the card)", y.serial)
	}
	return mk, false, nil
}

// defaultManagementKey reports whether the management key is the factory
// one, by authenticating with it: setting the default key to itself
// changes nothing, and a refused authentication has no retry counter.
func (y *YubiKey) defaultManagementKey(c card) (bool, error) {
	err := c.SetManagementKey(defaultManagementKey, defaultManagementKey)
	if err == nil {
		return true, nil
	}
	if _, ok := statusOf(err); ok {
		return false, nil
	}
	return false, y.cardErr("checking the management key", err)
}

// initialize sets a factory-fresh card's PIN, PUK and management key.
func (y *YubiKey) initialize(c card, cfg SetupConfig) ([]byte, error) {
	if cfg.NewPIN == nil || cfg.NewPUK == nil {
		return nil, keyErr("YubiKey %d is factory-fresh: a new PIN and PUK are needed to set it up", y.serial)
	}
	newPIN, err := cfg.NewPIN()
	if err != nil {
		return nil, err
	}
	if err := checkNew("PIN", newPIN, defaultPIN); err != nil {
		return nil, err
	}
	newPUK, err := cfg.NewPUK()
	if err != nil {
		return nil, err
	}
	if err := checkNew("PUK", newPUK, defaultPUK); err != nil {
		return nil, err
	}
	if err := c.SetPIN(defaultPIN, newPIN); err != nil {
		if n, ok := authRetries(err); ok {
			return nil, newErr(errkind.Key, ErrNotSetUp,
				"YubiKey %d has the factory management key but not the factory PIN (%s left): set it up with the tool that changed it, or reset it with 'signet yubikey reset'", y.serial, tries(n))
		}
		return nil, y.cardErr("setting the PIN", err)
	}
	y.pin, y.pinErr = &PIN{Value: newPIN}, nil
	if err := c.SetPUK(defaultPUK, newPUK); err != nil {
		if n, ok := authRetries(err); ok {
			return nil, newErr(errkind.Key, ErrNotSetUp,
				"YubiKey %d: the PIN is now the new one, but the PUK is not the factory one (%s left): change it with 'signet yubikey set-puk' and run setup again", y.serial, tries(n))
		}
		return nil, y.cardErr("setting the PUK", err)
	}
	// 24 bytes: AES-192 on firmware 5.4 and later, 3DES before (piv-go
	// keeps PIN-protected management keys of this length).
	mk := make([]byte, 24)
	if _, err := rand.Read(mk); err != nil {
		return nil, keyErr("making a management key: %w", err)
	}
	// Store the new key first: if changing it then fails, the card still
	// has the default key and setup can simply run again.
	if err := c.SetProtectedManagementKey(defaultManagementKey, mk); err != nil {
		return nil, y.cardErr("storing the management key in PIN-protected data", err)
	}
	if err := c.SetManagementKey(defaultManagementKey, mk); err != nil {
		return nil, y.cardErr("setting the management key", err)
	}
	return mk, nil
}

func checkNew(what, v, factory string) error {
	if err := checkSecret("the new "+what, v); err != nil {
		return err
	}
	if v == factory {
		return errkind.Mark(errkind.Input, errorString("the new "+what+" must differ from the factory default"))
	}
	return nil
}

// setupAttestation verifies the new key's attestation into res. Without
// RequireAttestation a failure is kept in res.AttestationErr instead.
func (y *YubiKey) setupAttestation(c card, cfg SetupConfig, res *SetupResult) error {
	a, err := y.verifyNew(c, cfg.Roots, res)
	if err != nil {
		if cfg.RequireAttestation {
			return err
		}
		res.AttestationErr = err
		return nil
	}
	res.Attestation = a.PEM
	return nil
}

func (y *YubiKey) verifyNew(c card, roots *Roots, res *SetupResult) (*Attestation, error) {
	if roots == nil {
		return nil, newErr(errkind.Key, ErrUntrustedAttestation, "no attestation roots given")
	}
	slotCert, devCert, err := y.attestationCerts(c, res.Slot)
	if err != nil {
		return nil, err
	}
	a, err := VerifyAttestation(slotCert, devCert, roots, y.serial, res.Slot)
	if err != nil {
		return nil, err
	}
	if !samePublic(a.Public, res.Public) || a.PINPolicy != res.PINPolicy || a.TouchPolicy != res.TouchPolicy {
		return nil, newErr(errkind.Key, ErrUntrustedAttestation, "attestation of YubiKey %d slot %s does not match the key just generated", y.serial, res.Slot)
	}
	return a, nil
}

func (r *Roots) verifyOptions() x509.VerifyOptions {
	return x509.VerifyOptions{Roots: r.roots, Intermediates: r.intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
}
