package pivsim

import "fmt"

// Data objects with special handling.
const (
	objDiscovery   = 0x7e
	objPrinted     = 0x5fc109 // PIN-protected data
	objAttestation = 0x5fff01
)

// maxObject is the largest data object a YubiKey 5 stores.
const maxObject = 3063

// discovery is the PIV discovery object: the PIV AID and the PIN usage
// policy (PIV PIN only).
var discovery = func() []byte {
	v := appendTLV(nil, 0x4f, aidPIV)
	v = appendTLV(v, 0x5f2f, []byte{0x40, 0x00})
	return tlvBytes(objDiscovery, v)
}()

// objectID reads the 5C tag list of GET and PUT DATA.
func objectID(items []tlv) (uint32, bool) {
	id, ok := find(items, 0x5c)
	if !ok {
		return 0, false
	}
	switch len(id) {
	case 1:
		return uint32(id[0]), id[0] == objDiscovery
	case 3:
		v := uint32(id[0])<<16 | uint32(id[1])<<8 | uint32(id[2])
		ok := (v >= 0x5fc101 && v <= 0x5fc123) || (v >= 0x5fff00 && v <= 0x5fff15)
		return v, ok
	}
	return 0, false
}

func objectKey(id uint32) string { return fmt.Sprintf("%06x", id) }

// getData is GET DATA (P1P2 3FFF): the object wrapped in tag 53, or the
// discovery object itself.
func (c *Card) getData(cmd command) ([]byte, uint16) {
	if cmd.p1 != 0x3f || cmd.p2 != 0xff {
		return nil, swIncorrectP1P2
	}
	items, ok := parseTLVs(cmd.data)
	if !ok {
		return nil, swIncorrectData
	}
	id, ok := objectID(items)
	if !ok {
		return nil, swIncorrectData
	}
	switch id {
	case objDiscovery:
		return discovery, swOK
	case objPrinted:
		if !c.sess.pinVerified {
			return nil, swSecurityStatus
		}
	}
	v, ok := c.st.Objects[objectKey(id)]
	if !ok && id == objAttestation {
		v, ok = c.st.deviceObject(), true
	}
	if !ok {
		return nil, swFileNotFound
	}
	return tlvBytes(0x53, v), swOK
}

// putData is PUT DATA (P1P2 3FFF): 5C object ID, 53 content; empty
// content deletes the object. It needs the management key.
func (c *Card) putData(cmd command) uint16 {
	if cmd.p1 != 0x3f || cmd.p2 != 0xff {
		return swIncorrectP1P2
	}
	if !c.sess.mgmtAuth {
		return swSecurityStatus
	}
	items, ok := parseTLVs(cmd.data)
	if !ok || len(items) != 2 || items[0].tag != 0x5c || items[1].tag != 0x53 {
		return swIncorrectData
	}
	id, ok := objectID(items)
	if !ok || id == objDiscovery {
		return swIncorrectData
	}
	v := items[1].val
	if len(v) > maxObject {
		return swNoSpace
	}
	if len(v) == 0 {
		delete(c.st.Objects, objectKey(id))
	} else {
		c.st.Objects[objectKey(id)] = append([]byte(nil), v...)
	}
	return c.commit()
}
