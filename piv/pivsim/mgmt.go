package pivsim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/subtle"
)

// mgmtKeyLen is the key length of each management key algorithm.
func mgmtKeyLen(alg byte) int {
	switch alg {
	case alg3DES, algAES192:
		return 24
	case algAES128:
		return 16
	case algAES256:
		return 32
	}
	return 0
}

func (c *Card) mgmtCipher() (cipher.Block, error) {
	if c.st.Mgmt.Alg == alg3DES {
		return des.NewTripleDESCipher(c.st.Mgmt.Key)
	}
	return aes.NewCipher(c.st.Mgmt.Key)
}

// mgmtAuthenticate is GENERAL AUTHENTICATE with the management key (9b).
// It supports the mutual flow piv-go, ykman and yubico-piv-tool use (80
// witness, then 80 decrypted witness and 81 challenge, answered with 82)
// and the one-way flow (81 challenge from the card, 82 response).
func (c *Card) mgmtAuthenticate(cmd command, items []tlv) ([]byte, uint16) {
	if cmd.p1 != c.st.Mgmt.Alg {
		return nil, swIncorrectP1P2
	}
	block, err := c.mgmtCipher()
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	bs := block.BlockSize()
	witness, hasW := find(items, 0x80)
	chal, hasC := find(items, 0x81)
	resp, hasR := find(items, 0x82)
	fresh := func() []byte {
		b := make([]byte, bs)
		_, _ = rand.Read(b)
		return b
	}
	switch {
	case hasW && len(witness) == 0 && !hasC && !hasR:
		if sw := c.mgmtTouch(); sw != swOK {
			return nil, sw
		}
		w := fresh()
		c.sess.witness, c.sess.challenge, c.sess.mgmtAuth = w, nil, false
		enc := make([]byte, bs)
		block.Encrypt(enc, w)
		return tlvBytes(0x7c, tlvBytes(0x80, enc)), swOK
	case hasW && hasC && !hasR && len(witness) == bs && len(chal) == bs:
		want := c.sess.witness
		c.sess.witness = nil
		if want == nil || subtle.ConstantTimeCompare(want, witness) != 1 {
			return nil, swSecurityStatus
		}
		c.sess.mgmtAuth = true
		out := make([]byte, bs)
		block.Encrypt(out, chal)
		return tlvBytes(0x7c, tlvBytes(0x82, out)), swOK
	case hasC && len(chal) == 0 && !hasW && !hasR:
		if sw := c.mgmtTouch(); sw != swOK {
			return nil, sw
		}
		ch := fresh()
		c.sess.challenge, c.sess.witness, c.sess.mgmtAuth = ch, nil, false
		return tlvBytes(0x7c, tlvBytes(0x81, ch)), swOK
	case hasR && !hasW && !hasC && len(resp) == bs:
		ch := c.sess.challenge
		c.sess.challenge = nil
		if ch == nil {
			return nil, swSecurityStatus
		}
		want := make([]byte, bs)
		block.Encrypt(want, ch)
		if subtle.ConstantTimeCompare(want, resp) != 1 {
			return nil, swSecurityStatus
		}
		c.sess.mgmtAuth = true
		return nil, swOK
	}
	c.sess.witness, c.sess.challenge = nil, nil
	return nil, swIncorrectData
}

// mgmtTouch waits for a touch when the management key requires one.
func (c *Card) mgmtTouch() uint16 {
	if c.st.Mgmt.Touch && !c.touch.wait(c.now) {
		return swSecurityStatus
	}
	return swOK
}

// setManagementKey is Yubico's SET MANAGEMENT KEY (P2 FE: touch required).
func (c *Card) setManagementKey(cmd command) uint16 {
	if !c.sess.mgmtAuth {
		return swSecurityStatus
	}
	if cmd.p1 != 0xff || (cmd.p2 != 0xff && cmd.p2 != 0xfe) {
		return swIncorrectP1P2
	}
	d := cmd.data
	if len(d) < 3 || d[1] != slotMgmt || int(d[2]) != len(d)-3 {
		return swIncorrectData
	}
	alg, key := d[0], d[3:]
	if n := mgmtKeyLen(alg); n == 0 || n != len(key) {
		return swIncorrectData
	}
	if alg != alg3DES && !c.st.atLeast(5, 4, 0) {
		return swIncorrectData
	}
	c.st.Mgmt = mgmtKey{Alg: alg, Key: bytes.Clone(key), Touch: cmd.p2 == 0xfe}
	return c.commit()
}
