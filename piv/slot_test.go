package piv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestParseSlotAcceptsKeySlotsAndRefusesOthers(t *testing.T) {
	for in, want := range map[string]Slot{"9c": 0x9c, "9A": 0x9a, "0x82": 0x82, "95": 0x95, "9e": 0x9e} {
		got, err := ParseSlot(in)
		if err != nil || got != want {
			t.Errorf("ParseSlot(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "9b", "f9", "81", "96", "9", "09c", "zz", "-1"} {
		if _, err := ParseSlot(in); !errkind.Is(err, errkind.Input) {
			t.Errorf("ParseSlot(%q) error = %v, want an input error", in, err)
		}
	}
}

func TestSlotStringIsTwoHexDigitsAsTheKeystoreWritesIt(t *testing.T) {
	if got := Slot(0x82).String(); got != "82" {
		t.Errorf("got %q", got)
	}
	if got := SlotSignature.String(); got != "9c" {
		t.Errorf("got %q", got)
	}
}

func TestCandidateSlotsStartAt9cAndNeverUse9aOr9e(t *testing.T) {
	c := candidateSlots()
	if c[0] != SlotSignature || c[1] != 0x82 || c[len(c)-1] != 0x95 || len(c) != 21 {
		t.Fatalf("candidates = %v", c)
	}
	for _, s := range c {
		if s == SlotAuthentication || s == SlotCardAuthentication {
			t.Errorf("candidate %s is a slot other tools use", s)
		}
		if err := s.check(); err != nil {
			t.Errorf("candidate slot %s refused: %v", s, err)
		}
	}
}

func TestPolicyParsingRefusesUnknownValues(t *testing.T) {
	if p, err := ParsePINPolicy("always"); err != nil || p != PINAlways {
		t.Errorf("always: %v %v", p, err)
	}
	if _, err := ParsePINPolicy("never"); !errkind.Is(err, errkind.Input) {
		t.Errorf("PIN policy never accepted for setup: %v", err)
	}
	if p, err := ParseTouchPolicy("cached"); err != nil || p != TouchCached {
		t.Errorf("cached: %v %v", p, err)
	}
	if _, err := ParseTouchPolicy("sometimes"); !errkind.Is(err, errkind.Input) {
		t.Errorf("bad touch policy accepted: %v", err)
	}
}

func TestErrorsCarryTheirSentinelKindAndMessage(t *testing.T) {
	err := fmt.Errorf("signing: %w", newErr(errkind.Key, ErrNotTouched, "the YubiKey %d was not touched", 12345678))
	if !errors.Is(err, ErrNotTouched) || !errkind.Is(err, errkind.Key) {
		t.Fatalf("err = %v: sentinel or kind lost", err)
	}
	if got := err.Error(); got != "signing: the YubiKey 12345678 was not touched" {
		t.Errorf("message = %q", got)
	}
}

func TestTransportErrorsAreToldFromCardAnswers(t *testing.T) {
	if !isTransport(errors.New("transmitting request: the smart card has been removed, so further communication is not possible")) {
		t.Error("removal not recognised")
	}
	if isTransport(errors.New("smart card error 6982: security status not satisfied")) {
		t.Error("a plain error without transport words taken for a removal")
	}
	if isTransport(nil) {
		t.Error("nil is not a transport error")
	}
}

func TestCheckSecretRefusesBadLengthsWithoutNamingTheSecret(t *testing.T) {
	for _, v := range []string{"", "12345", "123456789"} {
		err := checkSecret("the PIN", v)
		if err == nil {
			t.Errorf("%q accepted", v)
			continue
		}
		if v != "" && contains(err.Error(), v) {
			t.Errorf("error %q contains the secret", err)
		}
	}
	if err := checkSecret("the PIN", "654321"); err != nil {
		t.Errorf("6 digits refused: %v", err)
	}
	if err := checkNew("PIN", "123456", "123456"); err == nil {
		t.Error("the factory PIN accepted as a new PIN")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
