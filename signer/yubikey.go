package signer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
)

// YubiKeys implements Hardware with the piv package, for one command: each
// YubiKey is opened once (exclusively) and kept open until Close, so the PIN
// is asked at most once per card and several keys on one card share it.
//
// A reference without a slot (yubikey, yubikey:SERIAL) means the slot the
// keystore records for that card when it records exactly one; otherwise 9c,
// the root slot (docs/design.md §6). yubikey alone means the one YubiKey
// attached; with several attached it fails naming their serials.
type YubiKeys struct {
	ks   *keystore.Store // may be nil: no records, slot defaults to 9c
	opts []piv.Option

	mu      sync.Mutex
	cards   map[uint32]*piv.YubiKey
	signers map[string]*Key // by "SERIAL/SLOT"
}

var _ Hardware = (*YubiKeys)(nil)

// NewYubiKeys returns the YubiKey support over the keystore ks (nil for
// none). opts go to piv.Open: piv.WithPIN for the PIN, piv.WithNotice for
// the touch notice.
func NewYubiKeys(ks *keystore.Store, opts ...piv.Option) *YubiKeys {
	return &YubiKeys{ks: ks, opts: opts, cards: map[uint32]*piv.YubiKey{}, signers: map[string]*Key{}}
}

// Signer opens the YubiKey ref names and returns its key in the slot ref
// names (or the default slot). The Key's Signer is a piv.Signer; its
// Description is "YubiKey SERIAL slot SLOT". When the keystore records a
// key for that card and slot, the card must hold that very key. purpose
// completes the touch notice ("Touch your YubiKey N to sign <purpose>");
// callers that know the role can change it with piv.Signer's WithPurpose.
func (h *YubiKeys) Signer(ctx context.Context, ref Ref, purpose string) (*Key, error) {
	if ref.Kind != RefYubiKey {
		return nil, inputErr(fmt.Errorf("%s is not a YubiKey reference", ref))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	yk, err := h.open(ctx, ref.Serial)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	serial := yk.Serial()
	records, err := h.records(serial)
	if err != nil {
		return nil, err
	}
	slotName := ref.Slot
	if slotName == "" {
		slotName = defaultSlot(records)
	}
	slot, err := piv.ParseSlot(slotName)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%d/%s", serial, slot)
	if k, ok := h.signers[id]; ok {
		return k, nil
	}
	var rec *keystore.KeyInfo
	for i := range records {
		if records[i].Slot == slot.String() {
			rec = &records[i]
			break
		}
	}
	var want any
	name := ""
	if rec != nil {
		want, name = rec.Public, rec.Name
	}
	s, err := yk.Signer(ctx, slot, want, purpose)
	if errors.Is(err, piv.ErrKeyMismatch) && rec != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("YubiKey %d slot %s does not hold key %s (key ID %s) any more: was it set up again or reset?", serial, slot, rec.Name, keyid.Short(rec.KeyID)))
	}
	if err != nil {
		return nil, err
	}
	k, err := FromSigner(name, fmt.Sprintf("YubiKey %d slot %s", serial, slot), s)
	if err != nil {
		return nil, err
	}
	k.Hardware = true
	h.signers[id] = k
	return k, nil
}

// open returns the open YubiKey with serial, opening it the first time.
// Serial 0 means the only YubiKey attached, counting those this command
// holds open already (they are opened exclusively, so a new scan does not
// see them).
func (h *YubiKeys) open(ctx context.Context, serial uint32) (*piv.YubiKey, error) {
	if serial == 0 {
		var err error
		if serial, err = h.onlySerial(ctx); err != nil {
			return nil, err
		}
	}
	if yk, ok := h.cards[serial]; ok && serial != 0 {
		return yk, nil
	}
	yk, err := piv.Open(ctx, serial, h.opts...)
	if err != nil {
		return nil, err
	}
	h.cards[yk.Serial()] = yk
	return yk, nil
}

// onlySerial returns the serial of the one YubiKey attached; 0 when none
// is (piv.Open then says so).
func (h *YubiKeys) onlySerial(ctx context.Context) (uint32, error) {
	listed, err := piv.List(ctx)
	if err != nil {
		return 0, err
	}
	seen := map[uint32]bool{}
	for s := range h.cards {
		seen[s] = true
	}
	for _, c := range listed {
		seen[c.Serial] = true
	}
	serials := slices.Sorted(maps.Keys(seen))
	switch len(serials) {
	case 0:
		return 0, nil
	case 1:
		return serials[0], nil
	}
	names := make([]string, len(serials))
	for i, s := range serials {
		names[i] = strconv.FormatUint(uint64(s), 10)
	}
	return 0, inputErr(fmt.Errorf("%w: serials %s; name one with yubikey:SERIAL", piv.ErrSeveralCards, strings.Join(names, ", ")))
}

// records returns the keystore's hardware records for a card.
func (h *YubiKeys) records(serial uint32) ([]keystore.KeyInfo, error) {
	if h.ks == nil {
		return nil, nil
	}
	all, err := h.ks.List()
	if err != nil {
		return nil, err
	}
	var out []keystore.KeyInfo
	for _, k := range all {
		if k.Kind == keystore.Hardware && k.Serial == serial {
			out = append(out, k)
		}
	}
	return out, nil
}

// defaultSlot is the slot of a reference without one: the only slot the
// keystore records for the card, else 9c.
func defaultSlot(records []keystore.KeyInfo) string {
	if len(records) == 1 {
		return records[0].Slot
	}
	return piv.SlotSignature.String()
}

// Close releases every YubiKey opened and forgets their PINs.
func (h *YubiKeys) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for serial, yk := range h.cards {
		errs = append(errs, yk.Close())
		delete(h.cards, serial)
	}
	clear(h.signers)
	return errors.Join(errs...)
}
