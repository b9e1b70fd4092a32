package pivsim

import (
	"bytes"
	"crypto/subtle"
)

// padPIN pads a PIN or PUK to eight bytes with 0xff.
func padPIN(p []byte) []byte {
	out := bytes.Repeat([]byte{0xff}, 8)
	copy(out, p)
	return out
}

// validNewPIN accepts 6 to 8 bytes padded with 0xff, as a YubiKey does.
func validNewPIN(p []byte) bool {
	if len(p) != 8 {
		return false
	}
	n := bytes.IndexByte(p, 0xff)
	if n < 0 {
		n = 8
	}
	for _, b := range p[n:] {
		if b != 0xff {
			return false
		}
	}
	return n >= 6
}

// retriesSW is the status word for a failed check with n tries left.
func retriesSW(n int) uint16 {
	return swVerifyFail | uint16(min(n, 15))
}

// checkRef compares a PIN or PUK and counts the try.
func (c *Card) checkRef(given, want []byte, left *int, max int) uint16 {
	if *left <= 0 {
		return swAuthBlocked
	}
	if len(given) == 8 && subtle.ConstantTimeCompare(given, want) == 1 {
		if *left == max {
			return swOK
		}
		*left = max
		return c.commit()
	}
	*left--
	c.touch.count(func(n *Counters) { n.PINFailures++ })
	if sw := c.commit(); sw != swOK {
		return sw
	}
	return retriesSW(*left)
}

// verify is VERIFY for the PIN (P2 80): with data it checks the PIN, with
// none it reports the status, with P1 FF it forgets the verification.
func (c *Card) verify(cmd command) uint16 {
	if cmd.p2 != refPIN {
		return swRefNotFound
	}
	switch cmd.p1 {
	case 0xff:
		if len(cmd.data) != 0 {
			return swIncorrectData
		}
		c.sess.pinVerified, c.sess.pinFresh = false, false
		return swOK
	case 0x00:
	default:
		return swIncorrectP1P2
	}
	if len(cmd.data) == 0 {
		switch {
		case c.st.PINLeft <= 0:
			return swAuthBlocked
		case c.sess.pinVerified:
			return swOK
		}
		return retriesSW(c.st.PINLeft)
	}
	if len(cmd.data) != 8 {
		return swIncorrectData
	}
	if sw := c.checkRef(cmd.data, c.st.PIN, &c.st.PINLeft, c.st.PINMax); sw != swOK {
		c.sess.pinVerified = false
		return sw
	}
	c.sess.pinVerified, c.sess.pinFresh = true, true
	c.touch.count(func(n *Counters) { n.PINVerifications++ })
	return swOK
}

// changeReference is CHANGE REFERENCE DATA for the PIN (80) or PUK (81).
func (c *Card) changeReference(cmd command) uint16 {
	if cmd.p1 != 0 {
		return swIncorrectP1P2
	}
	if len(cmd.data) != 16 {
		return swIncorrectData
	}
	oldV, newV := cmd.data[:8], cmd.data[8:]
	var cur *[]byte
	var left *int
	var max int
	switch cmd.p2 {
	case refPIN:
		cur, left, max = &c.st.PIN, &c.st.PINLeft, c.st.PINMax
	case refPUK:
		cur, left, max = &c.st.PUK, &c.st.PUKLeft, c.st.PUKMax
	default:
		return swRefNotFound
	}
	if sw := c.checkRef(oldV, *cur, left, max); sw != swOK {
		return sw
	}
	if !validNewPIN(newV) {
		return swIncorrectData
	}
	*cur = bytes.Clone(newV)
	return c.commit()
}

// resetRetryCounter unblocks the PIN with the PUK and sets a new PIN.
func (c *Card) resetRetryCounter(cmd command) uint16 {
	if cmd.p1 != 0 || cmd.p2 != refPIN {
		return swIncorrectP1P2
	}
	if len(cmd.data) != 16 {
		return swIncorrectData
	}
	if sw := c.checkRef(cmd.data[:8], c.st.PUK, &c.st.PUKLeft, c.st.PUKMax); sw != swOK {
		return sw
	}
	if !validNewPIN(cmd.data[8:]) {
		return swIncorrectData
	}
	c.st.PIN = bytes.Clone(cmd.data[8:])
	c.st.PINLeft = c.st.PINMax
	return c.commit()
}

// setRetries sets the PIN (P1) and PUK (P2) tries; it needs the management
// key and the PIN, and resets PIN and PUK to their factory values.
func (c *Card) setRetries(cmd command) uint16 {
	if !c.sess.mgmtAuth || !c.sess.pinVerified {
		return swSecurityStatus
	}
	if cmd.p1 == 0 || cmd.p2 == 0 {
		return swIncorrectP1P2
	}
	c.st.PINMax, c.st.PINLeft = int(cmd.p1), int(cmd.p1)
	c.st.PUKMax, c.st.PUKLeft = int(cmd.p2), int(cmd.p2)
	c.st.PIN, c.st.PUK = bytes.Clone(defaultPIN), bytes.Clone(defaultPUK)
	return c.commit()
}

// reset is the applet RESET, allowed only once PIN and PUK are blocked.
func (c *Card) reset(cmd command) uint16 {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return swIncorrectP1P2
	}
	if c.st.PINLeft > 0 || c.st.PUKLeft > 0 {
		return swConditionsNotMet
	}
	c.st.factoryReset()
	c.sess = session{app: appPIV}
	return c.commit()
}
