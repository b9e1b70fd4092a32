package pivsim

import (
	"bytes"
	"fmt"
)

// Application identifiers the card answers SELECT for.
var (
	aidPIV  = []byte{0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00}
	aidMgmt = []byte{0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17}
)

// selectApp handles SELECT by AID. The PIV AID may be given truncated
// (piv-go sends its first five bytes). As on a YubiKey 5, selecting PIV
// again while PIV is selected (a new connection does) keeps the PIN
// verification and the management key authentication; selecting any
// other application, even one the card does not have, forgets them.
// (A YubiKey 4 forgot them on every SELECT.)
func (c *Card) selectApp(cmd command) ([]byte, uint16) {
	if cmd.p1 != 0x04 {
		return nil, swIncorrectP1P2
	}
	switch {
	case len(cmd.data) >= 5 && bytes.HasPrefix(aidPIV, cmd.data):
		kept := session{app: appPIV}
		if c.sess.app == appPIV {
			kept.pinVerified, kept.mgmtAuth = c.sess.pinVerified, c.sess.mgmtAuth
		}
		c.sess = kept
		// Application property template: PIX of the PIV application and
		// the coexistent tag allocation authority.
		apt := appendTLV(nil, 0x4f, aidPIV[5:])
		apt = appendTLV(apt, 0x79, tlvBytes(0x4f, aidPIV[:5]))
		return tlvBytes(0x61, apt), swOK
	case bytes.Equal(cmd.data, aidMgmt):
		c.sess = session{app: appMgmt}
		f := c.st.Firmware
		return fmt.Appendf(nil, "Virtual mgr - FW version %d.%d.%d", f[0], f[1], f[2]), swOK
	}
	c.sess = session{app: c.sess.app}
	return nil, swFileNotFound
}

// mgmtCommand is the part of the management application that clients use
// to identify a YubiKey: READ CONFIG (device info).
func (c *Card) mgmtCommand(cmd command) ([]byte, uint16) {
	if cmd.ins != 0x1d {
		return nil, swInsNotSupported
	}
	s := c.st.Serial
	const capPIV = 0x0010
	info := appendTLV(nil, 0x01, []byte{0, capPIV})
	info = appendTLV(info, 0x02, []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
	info = appendTLV(info, 0x03, []byte{0, capPIV})
	info = appendTLV(info, 0x04, []byte{c.st.FormFactor})
	info = appendTLV(info, 0x05, c.st.Firmware[:])
	return append([]byte{byte(len(info))}, info...), swOK
}
