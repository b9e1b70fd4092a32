package pivsim

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"
)

func TestSelectVersionSerialAnswerLikeAYubiKey5(t *testing.T) {
	c := newTestCard(t)
	resp := ok(t, c, apdu(0, 0xa4, 4, 0, []byte{0xa0, 0, 0, 3, 8}))
	if !bytes.HasPrefix(resp, []byte{0x61}) || !bytes.Contains(resp, []byte{0x4f, 0x06, 0, 0, 0x10, 0, 1, 0}) {
		t.Errorf("select response %x lacks the application property template", resp)
	}
	if v := ok(t, c, []byte{0, 0xfd, 0, 0, 0}); !bytes.Equal(v, []byte{5, 4, 3}) {
		t.Errorf("version %x, want 050403", v)
	}
	if s := ok(t, c, []byte{0, 0xf8, 0, 0, 0}); !bytes.Equal(s, []byte{0x00, 0xbc, 0x61, 0x4e}) {
		t.Errorf("serial %x, want 00bc614e (12345678)", s)
	}
	expectSW(t, c, apdu(0, 0xa4, 4, 0, []byte{0xa0, 0, 0, 5, 0x27, 0x20, 1, 1}), swFileNotFound)
}

func TestPINTriesBlockAndPUKUnblocks(t *testing.T) {
	c := newTestCard(t)
	expectSW(t, c, []byte{0, 0x20, 0, 0x80, 0}, 0x63c3)
	expectSW(t, c, apdu(0, 0x20, 0, 0x80, pin("000000")), 0x63c2)
	expectSW(t, c, apdu(0, 0x20, 0, 0x80, pin("000000")), 0x63c1)
	verifyPIN(t, c, "123456") // a right PIN restores the tries
	expectSW(t, c, []byte{0, 0x20, 0, 0x80}, swOK)
	for _, want := range []uint16{0x63c2, 0x63c1, 0x63c0, swAuthBlocked} {
		expectSW(t, c, apdu(0, 0x20, 0, 0x80, pin("000000")), want)
	}
	expectSW(t, c, apdu(0, 0x20, 0, 0x80, pin("123456")), swAuthBlocked)
	expectSW(t, c, apdu(0, 0x2c, 0, 0x80, append(pin("11111111"), pin("654321")...)), 0x63c2)
	ok(t, c, apdu(0, 0x2c, 0, 0x80, append(pin("12345678"), pin("654321")...)))
	verifyPIN(t, c, "654321")
	expectSW(t, c, apdu(0, 0x24, 0, 0x80, append(pin("654321"), pin("12")...)), swIncorrectData)
	ok(t, c, apdu(0, 0x24, 0, 0x81, append(pin("12345678"), pin("87654321")...)))
	if n := c.Counters(); n.PINVerifications != 2 || n.PINFailures != 6 {
		t.Errorf("counters %+v, want 2 verifications and 6 failures", n)
	}
}

func TestManagementKeyAuthWith3DESThenAES(t *testing.T) {
	c := newTestCard(t)
	expectSW(t, c, apdu(0, 0x47, 0, 0x9a, tlvBytes(0xac, []byte{0x80, 1, algP256})), swSecurityStatus)
	wrong := bytes.Repeat([]byte{7}, 24)
	if sw := tryAuthMgmt(t, c, alg3DES, wrong); sw != swSecurityStatus {
		t.Fatalf("wrong key: status %04x, want 6982", sw)
	}
	for _, k := range []struct {
		alg byte
		n   int
	}{{algAES128, 16}, {algAES192, 24}, {algAES256, 32}, {alg3DES, 24}} {
		key := make([]byte, k.n)
		_, _ = rand.Read(key)
		authDefault(t, c)
		ok(t, c, apdu(0, 0xff, 0xff, 0xff, append([]byte{k.alg, 0x9b, byte(k.n)}, key...)))
		meta := ok(t, c, []byte{0, 0xf7, 0, 0x9b, 0})
		if meta[2] != k.alg {
			t.Fatalf("metadata %x: algorithm %#x, want %#x", meta, meta[2], k.alg)
		}
		c.PowerOff()
		authMgmt(t, c, k.alg, key)
		ok(t, c, apdu(0, 0xff, 0xff, 0xff, append([]byte{alg3DES, 0x9b, 24}, defaultManagementKey...)))
		c.WarmReset()
	}
}

func TestFirmware57DefaultsToAES192ManagementKey(t *testing.T) {
	c := newTestCard(t, WithFirmware(5, 7, 1))
	meta := ok(t, c, []byte{0, 0xf7, 0, 0x9b, 0})
	if meta[2] != algAES192 {
		t.Fatalf("metadata %x, want AES-192", meta)
	}
	authMgmt(t, c, algAES192, defaultManagementKey)
}

func TestGeneratedKeysSignAndVerify(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	for _, k := range []struct {
		alg   byte
		curve elliptic.Curve
		slot  byte
	}{{algP256, elliptic.P256(), 0x9a}, {algP384, elliptic.P384(), 0x95}} {
		point := generate(t, c, k.slot, k.alg, pinNever, touchNever)
		pub, err := ecdsa.ParseUncompressedPublicKey(k.curve, point)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256([]byte("signet"))
		sig := sigFrom(t, ok(t, c, signCmd(k.alg, k.slot, digest[:])))
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Errorf("slot %02x: signature does not verify with the generated public key", k.slot)
		}
		meta := ok(t, c, []byte{0, 0xf7, 0, k.slot, 0})
		if !bytes.Contains(meta, point) || !bytes.Contains(meta, []byte{0x03, 0x01, originGenerated}) {
			t.Errorf("slot %02x metadata %x lacks the point or origin", k.slot, meta)
		}
	}
	expectSW(t, c, signCmd(algP256, 0x9c, make([]byte, 32)), swIncorrectData)
	if n := c.Counters().Signatures; n != 2 {
		t.Errorf("signatures = %d, want 2", n)
	}
}

func TestPINPolicyAlwaysNeedsAVerifyBeforeEachSignature(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	generate(t, c, 0x9c, algP256, 0, touchNever) // 9c defaults to PIN always
	d := make([]byte, 32)
	expectSW(t, c, signCmd(algP256, 0x9c, d), swSecurityStatus)
	verifyPIN(t, c, "123456")
	ok(t, c, signCmd(algP256, 0x9c, d))
	expectSW(t, c, signCmd(algP256, 0x9c, d), swSecurityStatus)

	generate(t, c, 0x9a, algP256, pinOnce, touchNever)
	ok(t, c, signCmd(algP256, 0x9a, d)) // PIN still verified this session
	c.PowerOff()
	expectSW(t, c, signCmd(algP256, 0x9a, d), swSecurityStatus)
}

func TestTouchNeverFailsTheSignatureAfterTheTimeout(t *testing.T) {
	c := newTestCard(t, WithTouch(TouchConfig{Mode: TouchNever, Timeout: 20 * time.Millisecond}))
	authDefault(t, c)
	generate(t, c, 0x9a, algP256, pinNever, touchAlways)
	expectSW(t, c, signCmd(algP256, 0x9a, make([]byte, 32)), swSecurityStatus)
	if n := c.Counters(); n.TouchTimeouts != 1 || n.Touches != 0 || n.Signatures != 0 {
		t.Errorf("counters %+v, want one timeout and nothing else", n)
	}
	if err := c.SetTouch(TouchConfig{Mode: TouchLate}); err != nil {
		t.Fatal(err)
	}
	expectSW(t, c, signCmd(algP256, 0x9a, make([]byte, 32)), swSecurityStatus)
	if n := c.Counters(); n.LateTouches != 1 {
		t.Errorf("counters %+v, want one late touch", n)
	}
}

func TestTouchAlwaysNeedsATouchPerSignatureAndCachedOnePer15s(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTestCard(t, WithClock(func() time.Time { return now }),
		WithTouch(TouchConfig{Mode: TouchAuto, Delay: time.Millisecond}))
	authDefault(t, c)
	generate(t, c, 0x9a, algP256, pinNever, touchAlways)
	generate(t, c, 0x9d, algP256, pinNever, touchCached)
	d := make([]byte, 32)
	ok(t, c, signCmd(algP256, 0x9a, d))
	ok(t, c, signCmd(algP256, 0x9a, d))
	if n := c.Counters().Touches; n != 2 {
		t.Fatalf("touch always: %d touches for 2 signatures, want 2", n)
	}
	c.ResetCounters()
	for range 3 {
		ok(t, c, signCmd(algP256, 0x9d, d))
	}
	now = now.Add(14 * time.Second)
	ok(t, c, signCmd(algP256, 0x9d, d))
	if n := c.Counters(); n.Touches != 1 || n.Signatures != 4 {
		t.Fatalf("touch cached: counters %+v, want 1 touch for 4 signatures", n)
	}
	now = now.Add(2 * time.Second)
	ok(t, c, signCmd(algP256, 0x9d, d))
	if n := c.Counters().Touches; n != 2 {
		t.Fatalf("touch cached after 16 s: %d touches, want 2", n)
	}
}

func TestImportedKeySignsButHasNoAttestation(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d, _ := priv.Bytes()
	ok(t, c, apdu(0, 0xfe, algP256, 0x9e, append(tlvBytes(0x06, d), 0xaa, 1, pinNever, 0xab, 1, touchNever)))
	digest := sha256.Sum256([]byte("x"))
	sig := sigFrom(t, ok(t, c, signCmd(algP256, 0x9e, digest[:])))
	if !ecdsa.VerifyASN1(&priv.PublicKey, digest[:], sig) {
		t.Error("signature of the imported key does not verify")
	}
	expectSW(t, c, []byte{0, 0xf9, 0x9e, 0, 0}, swIncorrectData)
	meta := ok(t, c, []byte{0, 0xf7, 0, 0x9e, 0})
	if !bytes.Contains(meta, []byte{0x03, 0x01, originImported}) {
		t.Errorf("metadata %x does not say imported", meta)
	}
}

func TestECDHAgreesWithThePeer(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	point := generate(t, c, 0x9d, algP256, pinNever, touchNever)
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	inner := append([]byte{0x82, 0}, tlvBytes(0x85, peer.PublicKey().Bytes())...)
	resp := ok(t, c, apdu(0, 0x87, algP256, 0x9d, tlvBytes(0x7c, inner)))
	got := sigFrom(t, resp)
	cardPub, _ := ecdh.P256().NewPublicKey(point)
	want, _ := peer.ECDH(cardPub)
	if !bytes.Equal(got, want) {
		t.Errorf("shared secret %x, want %x", got, want)
	}
}

func TestAttestationChainsToTheCardsCA(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	point := generate(t, c, 0x9c, algP256, pinAlways, touchCached)
	der := ok(t, c, []byte{0, 0xf9, 0x9c, 0, 0})
	slotCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	obj := ok(t, c, apdu(0, 0xcb, 0x3f, 0xff, []byte{0x5c, 3, 0x5f, 0xff, 0x01}))
	inner, _ := unwrap(obj, 0x53)
	ts, _ := parseTLVs(inner)
	devDER, _ := find(ts, 0x70)
	dev, err := x509.ParseCertificate(devDER)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := c.AttestationCA()
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca)
	inter.AddCert(dev)
	if _, err := slotCert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("slot attestation does not chain to the CA: %v", err)
	}
	pub := slotCert.PublicKey.(*ecdsa.PublicKey)
	if b, _ := pub.Bytes(); !bytes.Equal(b, point) {
		t.Error("attested public key is not the generated one")
	}
	exts := map[string][]byte{}
	for _, e := range slotCert.Extensions {
		exts[e.Id.String()] = e.Value
	}
	if !bytes.Equal(exts[oidPolicy.String()], []byte{pinAlways, touchCached}) ||
		!bytes.Equal(exts[oidFirmware.String()], []byte{5, 4, 3}) ||
		!bytes.Equal(exts[oidFormFactor.String()], []byte{FormFactorUSBAKeychain}) {
		t.Errorf("Yubico extensions wrong: %x", exts)
	}
}

func TestLongObjectsTravelByChainingAndGetResponse(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	content := appendTLV(tlvBytes(0x70, bytes.Repeat([]byte{0xab}, 1500)), 0x71, []byte{0})
	body := append([]byte{0x5c, 3, 0x5f, 0xc1, 0x05}, tlvBytes(0x53, content)...)
	for len(body) > 255 {
		ok(t, c, apdu(0x10, 0xdb, 0x3f, 0xff, body[:255]))
		body = body[255:]
	}
	ok(t, c, apdu(0, 0xdb, 0x3f, 0xff, body))

	get := apdu(0, 0xcb, 0x3f, 0xff, []byte{0x5c, 3, 0x5f, 0xc1, 0x05})
	var got []byte
	resp := c.Transmit(append(get, 0)) // short, Le 256
	for swOf(resp)&0xff00 == swMoreData {
		got = append(got, resp[:len(resp)-2]...)
		resp = c.Transmit([]byte{0, 0xc0, 0, 0, 0})
	}
	if swOf(resp) != swOK {
		t.Fatalf("GET RESPONSE ended with %04x", swOf(resp))
	}
	got = append(got, resp[:len(resp)-2]...)
	if !bytes.Equal(got, tlvBytes(0x53, content)) {
		t.Fatal("object read back in short chunks differs")
	}
	ext := []byte{0, 0xcb, 0x3f, 0xff, 0, 0, 5, 0x5c, 3, 0x5f, 0xc1, 0x05, 0, 0}
	if resp := ok(t, c, ext); !bytes.Equal(resp, tlvBytes(0x53, content)) {
		t.Fatal("object read back with one extended APDU differs")
	}
	small := c.Transmit(append(bytes.Clone(get), 0x10)) // Le 16 is honoured
	if len(small) != 18 || swOf(small) != swMoreData {  // 256 or more bytes remain
		t.Fatalf("Le 16: %d bytes, status %04x", len(small), swOf(small))
	}
}

func TestPINProtectedDataNeedsThePIN(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	ok(t, c, apdu(0, 0xdb, 0x3f, 0xff, append([]byte{0x5c, 3, 0x5f, 0xc1, 0x09}, tlvBytes(0x53, []byte{0x88, 0})...)))
	get := apdu(0, 0xcb, 0x3f, 0xff, []byte{0x5c, 3, 0x5f, 0xc1, 0x09})
	expectSW(t, c, get, swSecurityStatus)
	verifyPIN(t, c, "123456")
	ok(t, c, get)
	expectSW(t, c, apdu(0, 0xcb, 0x3f, 0xff, []byte{0x5c, 3, 0x5f, 0xc1, 0x02}), swFileNotFound)
	if d := ok(t, c, apdu(0, 0xcb, 0x3f, 0xff, []byte{0x5c, 1, 0x7e})); d[0] != 0x7e {
		t.Errorf("discovery object %x", d)
	}
}

func TestResetOnlyOncePINAndPUKAreBlocked(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	generate(t, c, 0x9a, algP256, pinNever, touchNever)
	expectSW(t, c, []byte{0, 0xfb, 0, 0}, swConditionsNotMet)
	for range 3 {
		c.Transmit(apdu(0, 0x20, 0, 0x80, pin("000000")))
		c.Transmit(apdu(0, 0x24, 0, 0x81, append(pin("00000000"), pin("00000000")...)))
	}
	ok(t, c, []byte{0, 0xfb, 0, 0})
	expectSW(t, c, []byte{0, 0xf7, 0, 0x9a, 0}, swRefNotFound)
	verifyPIN(t, c, "123456")
}

func TestSetRetriesNeedsManagementKeyAndPIN(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	expectSW(t, c, []byte{0, 0xfa, 5, 6}, swSecurityStatus)
	verifyPIN(t, c, "123456")
	ok(t, c, []byte{0, 0xfa, 5, 6})
	meta := ok(t, c, []byte{0, 0xf7, 0, 0x81, 0})
	if !bytes.Contains(meta, []byte{0x06, 0x02, 6, 6}) {
		t.Errorf("PUK metadata %x, want 6 of 6 tries", meta)
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "card.json")
	c := newTestCard(t, WithStateFile(path))
	authDefault(t, c)
	point := generate(t, c, 0x82, algP256, pinNever, touchNever)
	ok(t, c, apdu(0, 0x24, 0, 0x80, append(pin("123456"), pin("24680135")...)))
	caPEM := c.AttestationCAPEM()

	again, err := New(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	if again.Serial() != 12345678 || !bytes.Equal(again.AttestationCAPEM(), caPEM) {
		t.Error("serial or attestation CA changed across a restart")
	}
	meta := ok(t, again, []byte{0, 0xf7, 0, 0x82, 0})
	if !bytes.Contains(meta, point) {
		t.Error("key in slot 82 lost across a restart")
	}
	verifyPIN(t, again, "24680135")
	if _, err := New(WithStateFile(path), WithSerial(1)); err == nil {
		t.Error("a state file of another serial was accepted")
	}
	if err := again.FactoryReset(); err != nil {
		t.Fatal(err)
	}
	third, err := New(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	verifyPIN(t, third, "123456")
}

func TestPowerOffForgetsPINAndManagementKey(t *testing.T) {
	c := newTestCard(t)
	authDefault(t, c)
	verifyPIN(t, c, "123456")
	c.PowerOff()
	c.PowerOn()
	expectSW(t, c, []byte{0, 0x20, 0, 0x80}, 0x63c3)
	expectSW(t, c, apdu(0, 0x47, 0, 0x9a, tlvBytes(0xac, []byte{0x80, 1, algP256})), swSecurityStatus)
}

func TestMalformedCommandsGetAStatusWord(t *testing.T) {
	c := newTestCard(t)
	for _, cmd := range [][]byte{
		nil, {0}, {0, 0xa4, 4}, {0, 0xa4, 4, 0, 5, 1}, {0x80, 0xfd, 0, 0},
		{0, 0x87, 0x03, 0x9b, 2, 0x7c, 0x05}, {0, 0xcb, 0x3f, 0xff, 2, 0x5c, 0x81},
		{0, 0x47, 0, 0x9a, 0, 0, 0}, {0, 0xee, 0, 0}, {0, 0xc0, 0, 0, 0},
		{0, 0x20, 0, 0x80, 3, 1, 2, 3}, {0, 0xf9, 0x9a, 0},
	} {
		resp := c.Transmit(cmd)
		if len(resp) < 2 || swOf(resp) == swOK {
			t.Errorf("% x: response %x, want an error status word", cmd, resp)
		}
	}
}
