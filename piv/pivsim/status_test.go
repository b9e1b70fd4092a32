package pivsim

import (
	"context"
	"net/http/httptest"
	"testing"
)

// The security status (PIN verified, management key authenticated) lasts
// as on a YubiKey 5: across a new connection that selects PIV again, and
// until another application is selected, the card loses power or is
// reset, a VERIFY fails, or VERIFY with P1 FF resets it.

var (
	selectPIV     = apdu(0, 0xa4, 4, 0, []byte{0xa0, 0, 0, 3, 8})
	emptyVerify   = []byte{0, 0x20, 0, 0x80}
	resetVerify   = []byte{0, 0x20, 0xff, 0x80}
	needsMgmtAuth = apdu(0, 0x47, 0, 0x9a, tlvBytes(0xac, []byte{0x80, 1, algP256}))
)

// verifiedAndAuthenticated leaves c with the PIN verified and the
// management key authenticated.
func verifiedAndAuthenticated(t *testing.T) *Card {
	t.Helper()
	c := newTestCard(t)
	authDefault(t, c)
	verifyPIN(t, c, "123456")
	return c
}

// wantForgotten checks that the PIN is no longer verified (three tries
// left unless a wrong PIN spent one) and that the management key must be
// authenticated again.
func wantForgotten(t *testing.T, c *Card, pinSW uint16) {
	t.Helper()
	ok(t, c, selectPIV)
	expectSW(t, c, emptyVerify, pinSW)
	expectSW(t, c, needsMgmtAuth, swSecurityStatus)
}

func TestReselectingPIVKeepsThePINVerifiedAndTheManagementKey(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	ok(t, c, selectPIV)
	ok(t, c, selectPIV)
	expectSW(t, c, emptyVerify, swOK)
	ok(t, c, needsMgmtAuth)
}

func TestSelectingAnotherApplicationForgetsTheSecurityStatus(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	ok(t, c, apdu(0, 0xa4, 4, 0, aidMgmt))
	wantForgotten(t, c, 0x63c3)
}

func TestSelectingAnUnknownApplicationForgetsTheSecurityStatus(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	expectSW(t, c, apdu(0, 0xa4, 4, 0, []byte{0xa0, 0, 0, 5, 0x27, 0x20, 1, 1}), swFileNotFound)
	wantForgotten(t, c, 0x63c3)
}

func TestPowerDownAndResetForgetTheSecurityStatus(t *testing.T) {
	for name, event := range map[string]func(*Card){
		"power off": func(c *Card) { c.PowerOff(); c.PowerOn() },
		"reset":     (*Card).WarmReset,
	} {
		t.Run(name, func(t *testing.T) {
			c := verifiedAndAuthenticated(t)
			event(c)
			wantForgotten(t, c, 0x63c3)
		})
	}
}

func TestFailedVerifyForgetsThePINVerification(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	expectSW(t, c, apdu(0, 0x20, 0, 0x80, pin("999999")), 0x63c2)
	expectSW(t, c, emptyVerify, 0x63c2)
	ok(t, c, needsMgmtAuth) // the management key is another reference
}

func TestVerifyWithP1FFForgetsThePINVerification(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	ok(t, c, resetVerify)
	expectSW(t, c, emptyVerify, 0x63c3)
	if n := c.Counters(); n.PINFailures != 0 {
		t.Errorf("resetting the verification counted %d PIN failures", n.PINFailures)
	}
}

func TestKeepPowerKeepsTheStatusAcrossPowerEventsButNotResetRemovalOrFactoryReset(t *testing.T) {
	c := verifiedAndAuthenticated(t)
	srv := httptest.NewServer(NewControlHandler(NewReader(c, "127.0.0.1:1", nil)))
	defer srv.Close()
	cl := NewClient(srv.URL)
	ctx := context.Background()
	if err := cl.KeepPower(ctx, 12345678, true); err != nil {
		t.Fatal(err)
	}
	if st, err := cl.Status(ctx, 12345678); err != nil || !st.KeepPower {
		t.Fatalf("status %+v, %v; want keep_power", st, err)
	}
	c.PowerOff()
	c.PowerOn()
	ok(t, c, selectPIV)
	expectSW(t, c, emptyVerify, swOK)
	ok(t, c, needsMgmtAuth)

	c.WarmReset()
	wantForgotten(t, c, 0x63c3)

	authDefault(t, c)
	verifyPIN(t, c, "123456")
	if err := cl.Remove(ctx, 12345678); err != nil {
		t.Fatal(err)
	}
	wantForgotten(t, c, 0x63c3)

	if err := cl.FactoryReset(ctx, 12345678); err != nil {
		t.Fatal(err)
	}
	if c.PowerKept() {
		t.Fatal("factory reset left KeepPower on")
	}
	verifyPIN(t, c, "123456")
	c.PowerOff()
	c.PowerOn()
	expectSW(t, c, emptyVerify, 0x63c3)
}
