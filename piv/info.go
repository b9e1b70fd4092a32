package piv

import (
	"context"
	"crypto"
	"errors"
)

// Info is what `signet yubikey info` shows about a card.
type Info struct {
	Serial  uint32
	Reader  string
	Version Version
	// PINRetries is the number of PIN tries left (0: blocked; -1: the PIN
	// is verified in this session, so the card does not say).
	PINRetries int
	Slots      []SlotInfo
}

// SlotInfo describes a slot that holds a key.
type SlotInfo struct {
	Slot        Slot
	Algorithm   string      // e.g. "ECCP256"; "" when the firmware cannot say
	PINPolicy   PINPolicy   // "" when the firmware cannot say
	TouchPolicy TouchPolicy // "" when the firmware cannot say
	Origin      string      // "generated" or "imported"; "" when unknown
	Public      crypto.PublicKey
	Subject     string // subject of the slot's certificate, if any
}

// Info reads the card's serial, firmware, PIN tries and the keys in slots
// 9a, 9c, 9d, 9e and 82 to 95. It needs no PIN.
func (y *YubiKey) Info(ctx context.Context) (*Info, error) {
	out := &Info{Serial: y.serial, Version: y.version}
	err := y.do(ctx, func(c card) error {
		out.Reader = y.reader
		left, verified, err := pinStatus(c)
		if err != nil {
			return y.cardErr("reading the PIN status", err)
		}
		out.PINRetries = left
		if verified {
			out.PINRetries = -1
		}
		for _, s := range allSlots() {
			si, ok, err := y.slotInfo(c, s)
			if err != nil {
				return err
			}
			if ok {
				out.Slots = append(out.Slots, si)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func allSlots() []Slot {
	out := []Slot{SlotAuthentication, SlotSignature, SlotKeyManagement, SlotCardAuthentication}
	for s := firstRetired; s <= lastRetired; s++ {
		out = append(out, s)
	}
	return out
}

// slotInfo reads one slot; ok is false when it is empty.
func (y *YubiKey) slotInfo(c card, s Slot) (SlotInfo, bool, error) {
	if err := s.check(); err != nil {
		return SlotInfo{}, false, err
	}
	si := SlotInfo{Slot: s}
	cert, cerr := c.Certificate(s)
	if cerr == nil {
		si.Subject, si.Public = cert.Subject.String(), cert.PublicKey
	} else if !errors.Is(cerr, errNotFound) && isTransport(cerr) {
		return SlotInfo{}, false, y.cardErr("reading slot "+s.String(), cerr)
	}
	if !y.version.atLeast(5, 3, 0) {
		return si, cerr == nil, nil
	}
	ki, err := c.KeyInfo(s)
	if errors.Is(err, errNotFound) {
		return SlotInfo{}, false, nil
	}
	if err != nil {
		return SlotInfo{}, false, y.cardErr("reading slot "+s.String(), err)
	}
	si.Algorithm, si.Origin = ki.Algorithm, ki.Origin
	si.PINPolicy, si.TouchPolicy = ki.PINPolicy, ki.TouchPolicy
	if ki.Public != nil {
		si.Public = ki.Public
	}
	return si, true, nil
}
