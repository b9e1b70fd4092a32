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

// YubikeyListEntry is one card of `yubikey list -o json`.
type YubikeyListEntry struct {
	Serial   uint32 `json:"serial"`
	Firmware string `json:"firmware"`
	Reader   string `json:"reader"`
}

// YubikeyList describes the attached cards.
func YubikeyList(cards []piv.CardInfo) []YubikeyListEntry {
	entries := make([]YubikeyListEntry, 0, len(cards))
	for _, c := range cards {
		entries = append(entries, YubikeyListEntry{Serial: c.Serial, Firmware: c.Version.String(), Reader: c.Reader})
	}
	return entries
}

// YubikeyInfo is what `yubikey info` reports of a card (`-o json`).
type YubikeyInfo struct {
	Serial     uint32        `json:"serial"`
	Firmware   string        `json:"firmware"`
	Reader     string        `json:"reader"`
	PINRetries int           `json:"pinRetries"`
	Slots      []YubikeySlot `json:"slots"`
}

// YubikeySlot is one slot of a YubikeyInfo.
type YubikeySlot struct {
	Slot        string `json:"slot"`
	Algorithm   string `json:"algorithm,omitempty"`
	PINPolicy   string `json:"pinPolicy,omitempty"`
	TouchPolicy string `json:"touchPolicy,omitempty"`
	Origin      string `json:"origin,omitempty"`
	KeyID       string `json:"keyid,omitempty"`
	Name        string `json:"name,omitempty"` // keystore record of this key
}

// DescribeYubikey is `yubikey info`: the card's slots, each key named as
// the keystore records it (HardwareRecords) when the record's key ID is
// the one in the slot.
func DescribeYubikey(info *piv.Info, records map[string]keystore.KeyInfo) *YubikeyInfo {
	res := &YubikeyInfo{Serial: info.Serial, Firmware: info.Version.String(), Reader: info.Reader, PINRetries: info.PINRetries, Slots: []YubikeySlot{}}
	for _, s := range info.Slots {
		e := YubikeySlot{Slot: s.Slot.String(), Algorithm: s.Algorithm, PINPolicy: string(s.PINPolicy), TouchPolicy: string(s.TouchPolicy), Origin: s.Origin}
		if s.Public != nil {
			e.KeyID, _ = keystore.KeyID(s.Public)
		}
		if n, ok := records[e.Slot]; ok && n.KeyID == e.KeyID {
			e.Name = n.Name
		}
		res.Slots = append(res.Slots, e)
	}
	return res
}

// YubikeyAttestResult is what `yubikey attest -o json` reports.
type YubikeyAttestResult struct {
	Serial       uint32 `json:"serial"`
	Slot         string `json:"slot"`
	Firmware     string `json:"firmware"`
	PINPolicy    string `json:"pinPolicy"`
	TouchPolicy  string `json:"touchPolicy"`
	KeyID        string `json:"keyid"`
	Certificates string `json:"certificates"` // PEM: slot attestation, then the device certificate
}

// DescribeAttestation is the YubikeyAttestResult of a verified attestation.
func DescribeAttestation(a *piv.Attestation) *YubikeyAttestResult {
	id, _ := keystore.KeyID(a.Public)
	return &YubikeyAttestResult{
		Serial: a.Serial, Slot: a.Slot.String(), Firmware: a.Firmware.String(),
		PINPolicy: string(a.PINPolicy), TouchPolicy: string(a.TouchPolicy), KeyID: id, Certificates: string(a.PEM),
	}
}
