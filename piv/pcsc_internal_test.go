//go:build cgo || windows

package piv

import "testing"

func TestEverySlotSignetUsesHasItsPivGoSlot(t *testing.T) {
	for _, s := range allSlots() {
		if got := pivSlot(s).Key; got != uint32(s) {
			t.Errorf("slot %s maps to piv-go slot %x", s, got)
		}
	}
}
