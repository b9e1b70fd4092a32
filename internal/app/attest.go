package app

import (
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/signer"
)

// checkAttestation requires key to be a YubiKey key whose recorded
// attestation (kept by `signet yubikey setup`) chains to the attestation
// roots: a key generated on the device, never imported.
func (d *Deps) checkAttestation(ks *keystore.Store, role string, key *signer.Key) error {
	fail := func(format string, args ...any) error {
		return errkind.Mark(errkind.Key, fmt.Errorf("%s key %s: "+format+" (--require-attestation)", append([]any{role, nameOr(key)}, args...)...))
	}
	info, err := ks.FindByID(key.ID)
	if err != nil || info.Kind != keystore.Hardware {
		return fail("is not a YubiKey key set up with signet yubikey setup")
	}
	if d.AttestationRoots == nil {
		return fail("no attestation roots")
	}
	roots, err := d.AttestationRoots()
	if err != nil {
		return err
	}
	slot, err := piv.ParseSlot(info.Slot)
	if err != nil {
		return fail("recorded slot %q: %v", info.Slot, err)
	}
	if _, err := piv.VerifyAttestationPEM(info.Attestation, info.Public, roots, info.Serial, slot); err != nil {
		return fmt.Errorf("%s key %s: %w", role, nameOr(key), err)
	}
	return nil
}
