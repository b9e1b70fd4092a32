package pivsim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"testing"
)

// apdu encodes a command in short form, or extended when the data needs it.
func apdu(cla, ins, p1, p2 byte, data []byte) []byte {
	out := []byte{cla, ins, p1, p2}
	switch {
	case len(data) == 0:
	case len(data) <= 255:
		out = append(out, byte(len(data)))
		out = append(out, data...)
	default:
		out = append(out, 0, byte(len(data)>>8), byte(len(data)))
		out = append(out, data...)
	}
	return out
}

func swOf(resp []byte) uint16 {
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
}

// ok sends a command, fetches the rest of a long response with GET
// RESPONSE, and fails the test unless it ends with 9000.
func ok(t *testing.T, c *Card, cmd []byte) []byte {
	t.Helper()
	var data []byte
	resp := c.Transmit(cmd)
	for {
		if len(resp) < 2 {
			t.Fatalf("% x: response %x has no status word", cmd, resp)
		}
		data = append(data, resp[:len(resp)-2]...)
		if swOf(resp)&0xff00 != swMoreData {
			break
		}
		resp = c.Transmit([]byte{0, 0xc0, 0, 0, 0})
	}
	if sw := swOf(resp); sw != swOK {
		t.Fatalf("% x: status %04x, want 9000", cmd[:4], sw)
	}
	return data
}

// expectSW sends a command and checks its status word.
func expectSW(t *testing.T, c *Card, cmd []byte, want uint16) {
	t.Helper()
	resp := c.Transmit(cmd)
	if sw := swOf(resp); sw != want {
		t.Fatalf("% x: status %04x, want %04x", cmd[:4], sw, want)
	}
}

func newTestCard(t *testing.T, opts ...Option) *Card {
	t.Helper()
	c, err := New(append([]Option{WithSerial(12345678)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pin(s string) []byte { return padPIN([]byte(s)) }

func verifyPIN(t *testing.T, c *Card, p string) {
	t.Helper()
	ok(t, c, apdu(0, 0x20, 0, 0x80, pin(p)))
}

func mgmtBlock(t *testing.T, alg byte, key []byte) cipher.Block {
	t.Helper()
	var b cipher.Block
	var err error
	if alg == alg3DES {
		b, err = des.NewTripleDESCipher(key)
	} else {
		b, err = aes.NewCipher(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authMgmt runs the mutual management key authentication piv-go uses and
// checks the card's answer to the host challenge.
func authMgmt(t *testing.T, c *Card, alg byte, key []byte) {
	t.Helper()
	if err := tryAuthMgmt(t, c, alg, key); err != 0 {
		t.Fatalf("management key authentication: status %04x", err)
	}
}

func tryAuthMgmt(t *testing.T, c *Card, alg byte, key []byte) uint16 {
	t.Helper()
	b := mgmtBlock(t, alg, key)
	bs := b.BlockSize()
	resp := ok(t, c, apdu(0, 0x87, alg, 0x9b, []byte{0x7c, 0x02, 0x80, 0x00}))
	if len(resp) != 4+bs || resp[2] != 0x80 {
		t.Fatalf("witness response %x", resp)
	}
	plain := make([]byte, bs)
	b.Decrypt(plain, resp[4:])
	chal := make([]byte, bs)
	_, _ = rand.Read(chal)
	inner := appendTLV(tlvBytes(0x80, plain), 0x81, chal)
	r := c.Transmit(apdu(0, 0x87, alg, 0x9b, tlvBytes(0x7c, inner)))
	if sw := swOf(r); sw != swOK {
		return sw
	}
	want := make([]byte, bs)
	b.Encrypt(want, chal)
	if !bytes.Equal(r[:len(r)-2], tlvBytes(0x7c, tlvBytes(0x82, want))) {
		t.Fatalf("card answered the challenge wrongly: %x", r)
	}
	return 0
}

func authDefault(t *testing.T, c *Card) {
	t.Helper()
	authMgmt(t, c, alg3DES, defaultManagementKey)
}

// generate makes a key and returns the public point.
func generate(t *testing.T, c *Card, slot, alg, pp, tp byte) []byte {
	t.Helper()
	req := tlvBytes(0xac, []byte{0x80, 1, alg, 0xaa, 1, pp, 0xab, 1, tp})
	resp := ok(t, c, apdu(0, 0x47, 0, slot, req))
	inner, good := unwrap(resp, 0x7f49)
	if !good {
		t.Fatalf("generate response %x", resp)
	}
	point, good := unwrap(inner, 0x86)
	if !good {
		t.Fatalf("generate response %x", resp)
	}
	return point
}

// signCmd is GENERAL AUTHENTICATE for a signature over digest.
func signCmd(alg, slot byte, digest []byte) []byte {
	inner := append([]byte{0x82, 0x00}, tlvBytes(0x81, digest)...)
	return apdu(0, 0x87, alg, slot, tlvBytes(0x7c, inner))
}

func sigFrom(t *testing.T, resp []byte) []byte {
	t.Helper()
	inner, good := unwrap(resp, 0x7c)
	if !good {
		t.Fatalf("sign response %x", resp)
	}
	sig, good := unwrap(inner, 0x82)
	if !good {
		t.Fatalf("sign response %x", resp)
	}
	return sig
}
