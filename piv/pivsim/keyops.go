package pivsim

// generalAuthenticate is GENERAL AUTHENTICATE: management key
// authentication for slot 9b, signing (81) and ECDH (85) for key slots.
func (c *Card) generalAuthenticate(cmd command) ([]byte, uint16) {
	inner, ok := unwrap(cmd.data, 0x7c)
	if !ok {
		return nil, swIncorrectData
	}
	items, ok := parseTLVs(inner)
	if !ok {
		return nil, swIncorrectData
	}
	if cmd.p2 == slotMgmt {
		return c.mgmtAuthenticate(cmd, items)
	}
	pinFresh := c.sess.pinFresh
	c.sess.pinFresh = false
	if !keySlot(cmd.p2) {
		return nil, swIncorrectP1P2
	}
	k := c.st.Keys[slotName(cmd.p2)]
	if k == nil || cmd.p1 != k.Alg {
		return nil, swIncorrectData
	}
	if r, ok := find(items, 0x82); !ok || len(r) != 0 {
		return nil, swIncorrectData
	}
	chal, isSign := find(items, 0x81)
	peer, isECDH := find(items, 0x85)
	if isSign == isECDH {
		return nil, swIncorrectData
	}
	switch k.PINPolicy {
	case pinOnce:
		if !c.sess.pinVerified {
			return nil, swSecurityStatus
		}
	case pinAlways:
		if !c.sess.pinVerified || !pinFresh {
			return nil, swSecurityStatus
		}
	}
	switch k.TouchPolicy {
	case touchAlways:
		if !c.touch.wait(c.now) {
			return nil, swSecurityStatus
		}
	case touchCached:
		if !c.touch.cached(c.now()) && !c.touch.wait(c.now) {
			return nil, swSecurityStatus
		}
	}
	var out []byte
	var err error
	if isSign {
		out, err = k.sign(chal)
	} else {
		out, err = k.sharedSecret(peer)
	}
	if err != nil {
		return nil, swIncorrectData
	}
	c.touch.count(func(n *Counters) {
		if isSign {
			n.Signatures++
		} else {
			n.KeyAgreements++
		}
	})
	return tlvBytes(0x7c, tlvBytes(0x82, out)), swOK
}

// generateAsymmetric is GENERATE ASYMMETRIC KEY PAIR; it answers with the
// public point (7F49 { 86 point }).
func (c *Card) generateAsymmetric(cmd command) ([]byte, uint16) {
	if !c.sess.mgmtAuth {
		return nil, swSecurityStatus
	}
	if cmd.p1 != 0 || !keySlot(cmd.p2) {
		return nil, swIncorrectP1P2
	}
	inner, ok := unwrap(cmd.data, 0xac)
	if !ok {
		return nil, swIncorrectData
	}
	items, ok := parseTLVs(inner)
	if !ok {
		return nil, swIncorrectData
	}
	alg, ok := find(items, 0x80)
	if !ok || len(alg) != 1 || curveFor(alg[0]) == nil {
		return nil, swIncorrectData
	}
	pp, tp, ok := requestedPolicies(cmd.p2, items)
	if !ok {
		return nil, swIncorrectData
	}
	k, err := generateKey(alg[0], pp, tp)
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	point, err := k.publicPoint()
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	c.st.Keys[slotName(cmd.p2)] = k
	if sw := c.commit(); sw != swOK {
		return nil, sw
	}
	return tlvBytes(0x7f49, tlvBytes(0x86, point)), swOK
}

// requestedPolicies reads the optional AA (PIN) and AB (touch) policies.
func requestedPolicies(slot byte, items []tlv) (byte, byte, bool) {
	var pp, tp byte
	if v, ok := find(items, 0xaa); ok {
		if len(v) != 1 {
			return 0, 0, false
		}
		pp = v[0]
	}
	if v, ok := find(items, 0xab); ok {
		if len(v) != 1 {
			return 0, 0, false
		}
		tp = v[0]
	}
	return policies(slot, pp, tp)
}

// importKey is Yubico's IMPORT ASYMMETRIC KEY (P1 algorithm, P2 slot; tag
// 06 holds the EC private scalar).
func (c *Card) importKey(cmd command) uint16 {
	if !c.sess.mgmtAuth {
		return swSecurityStatus
	}
	if !keySlot(cmd.p2) || curveFor(cmd.p1) == nil {
		return swIncorrectP1P2
	}
	items, ok := parseTLVs(cmd.data)
	if !ok {
		return swIncorrectData
	}
	d, ok := find(items, 0x06)
	if !ok || len(d) != (curveFor(cmd.p1).Params().BitSize+7)/8 {
		return swIncorrectData
	}
	pp, tp, ok := requestedPolicies(cmd.p2, items)
	if !ok {
		return swIncorrectData
	}
	k, err := importKey(cmd.p1, d, pp, tp)
	if err != nil {
		return swIncorrectData
	}
	c.st.Keys[slotName(cmd.p2)] = k
	return c.commit()
}

// metadata is Yubico's GET METADATA for the PIN, PUK, management key and
// key slots.
func (c *Card) metadata(cmd command) ([]byte, uint16) {
	if cmd.p1 != 0 {
		return nil, swIncorrectP1P2
	}
	boolByte := func(b bool) []byte {
		if b {
			return []byte{1}
		}
		return []byte{0}
	}
	switch ref := cmd.p2; {
	case ref == refPIN || ref == refPUK:
		cur, def, total, left := c.st.PIN, defaultPIN, c.st.PINMax, c.st.PINLeft
		if ref == refPUK {
			cur, def, total, left = c.st.PUK, defaultPUK, c.st.PUKMax, c.st.PUKLeft
		}
		out := appendTLV(nil, 0x01, []byte{0xff})
		out = appendTLV(out, 0x05, boolByte(string(cur) == string(def)))
		return appendTLV(out, 0x06, []byte{byte(min(total, 255)), byte(max(0, min(left, 255)))}), swOK
	case ref == slotMgmt:
		m := c.st.Mgmt
		touch := byte(touchNever)
		if m.Touch {
			touch = touchAlways
		}
		out := appendTLV(nil, 0x01, []byte{m.Alg})
		out = appendTLV(out, 0x02, []byte{0x00, touch})
		return appendTLV(out, 0x05, boolByte(string(m.Key) == string(defaultManagementKey))), swOK
	case keySlot(ref):
		k := c.st.Keys[slotName(ref)]
		if k == nil {
			return nil, swRefNotFound
		}
		point, err := k.publicPoint()
		if err != nil {
			return nil, swNoPreciseDiagnosis
		}
		out := appendTLV(nil, 0x01, []byte{k.Alg})
		out = appendTLV(out, 0x02, []byte{k.PINPolicy, k.TouchPolicy})
		out = appendTLV(out, 0x03, []byte{k.Origin})
		return appendTLV(out, 0x04, tlvBytes(0x86, point)), swOK
	}
	return nil, swRefNotFound
}

// attest is Yubico's ATTEST: a certificate for a generated key, signed by
// the device attestation key. Imported keys have none.
func (c *Card) attest(cmd command) ([]byte, uint16) {
	if cmd.p2 != 0 {
		return nil, swIncorrectP1P2
	}
	if !keySlot(cmd.p1) {
		return nil, swIncorrectP1P2
	}
	k := c.st.Keys[slotName(cmd.p1)]
	if k == nil || k.Origin != originGenerated {
		return nil, swIncorrectData
	}
	der, err := c.st.attestSlot(cmd.p1, k)
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	return der, swOK
}
