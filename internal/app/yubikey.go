package app

import (
	"errors"
	"fmt"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
)

// YubikeySetupResult is what `yubikey setup` reports of the key it made
// (`-o json`, docs/usage.md).
type YubikeySetupResult struct {
	Name        string `json:"name"`
	KeyID       string `json:"keyid"`
	Serial      uint32 `json:"serial"`
	Slot        string `json:"slot"`
	PINPolicy   string `json:"pinPolicy"`
	TouchPolicy string `json:"touchPolicy"`
	Firmware    string `json:"firmware"`
	Attested    bool   `json:"attested"`
	Initialized bool   `json:"initialized"`
}

// YubikeyKeyName is the keystore name `yubikey setup` gives a key when
// --name is not given: "yubikey-SERIAL-SLOT".
func YubikeyKeyName(serial uint32, slot piv.Slot) string {
	return fmt.Sprintf("yubikey-%d-%s", serial, slot)
}

// CheckKeyNameFree refuses (errkind.Input) a keystore name already taken,
// before a card is touched.
func CheckKeyNameFree(ks *keystore.Store, name string) error {
	_, err := ks.Get(name)
	switch {
	case err == nil:
		return errkind.Mark(errkind.Input, fmt.Errorf("the keystore already has a key named %s: choose another --name", name))
	case errors.Is(err, keystore.ErrNotFound):
		return nil
	}
	return err
}

// HardwareRecords returns the keystore's records of the keys on the card
// with serial, by slot; empty when the keystore cannot be read (commands
// that only show a card need no keystore).
func HardwareRecords(keys func() (*keystore.Store, error), serial uint32) map[string]keystore.KeyInfo {
	out := map[string]keystore.KeyInfo{}
	ks, err := keys()
	if err != nil {
		return out
	}
	all, err := ks.List()
	if err != nil {
		return out
	}
	for _, k := range all {
		if k.Kind == keystore.Hardware && k.Serial == serial {
			out[k.Slot] = k
		}
	}
	return out
}

// RecordYubikeyKey records the key `yubikey setup` generated (res) in ks
// as name (YubikeyKeyName when ""), first removing the record of a key
// that --force replaced in the same slot; notice is told of that removal
// and of an attestation that could not be verified.
func RecordYubikeyKey(ks *keystore.Store, name string, res *piv.SetupResult, notice func(string)) (*YubikeySetupResult, error) {
	if name == "" {
		name = YubikeyKeyName(res.Serial, res.Slot)
	}
	if old, ok := HardwareRecords(func() (*keystore.Store, error) { return ks, nil }, res.Serial)[res.Slot.String()]; ok {
		if err := ks.Delete(old.Name); err != nil {
			return nil, fmt.Errorf("YubiKey %d slot %s has a new key, but the record of the old one (%s) could not be removed: %w", res.Serial, res.Slot, old.Name, err)
		}
		notice(fmt.Sprintf("removed keystore record %s of the key that was replaced", old.Name))
	}
	info, err := ks.PutHardware(keystore.HardwareKey{
		Name: name, Public: res.Public, Serial: res.Serial, Slot: res.Slot.String(),
		PINPolicy: string(res.PINPolicy), TouchPolicy: string(res.TouchPolicy), Attestation: res.Attestation,
	})
	if err != nil {
		return nil, fmt.Errorf("YubiKey %d slot %s has a new key, but recording it as %s failed: %w", res.Serial, res.Slot, name, err)
	}
	attested := len(res.Attestation) > 0
	if !attested && res.AttestationErr != nil {
		notice(fmt.Sprintf("warning: attestation not verified: %v", res.AttestationErr))
	}
	return &YubikeySetupResult{
		Name: name, KeyID: info.KeyID, Serial: res.Serial, Slot: res.Slot.String(), PINPolicy: string(res.PINPolicy),
		TouchPolicy: string(res.TouchPolicy), Firmware: res.Firmware.String(), Attested: attested, Initialized: res.Initialized,
	}, nil
}
