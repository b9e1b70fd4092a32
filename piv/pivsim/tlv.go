package pivsim

// BER-TLV as PIV uses it: tags of one to three bytes, definite lengths of
// up to three length bytes.

// tlv is one parsed element; val aliases the input.
type tlv struct {
	tag uint32
	val []byte
}

// readTLV reads one element from b and returns it and the rest.
func readTLV(b []byte) (t tlv, rest []byte, ok bool) {
	if len(b) < 2 {
		return tlv{}, nil, false
	}
	i := 0
	tag := uint32(b[i])
	i++
	if tag&0x1f == 0x1f {
		for n := 0; ; n++ {
			if i >= len(b) || n == 2 {
				return tlv{}, nil, false
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return tlv{}, nil, false
	}
	l := int(b[i])
	i++
	if l > 0x80 {
		n := l & 0x7f
		if n > 3 || i+n > len(b) {
			return tlv{}, nil, false
		}
		l = 0
		for k := 0; k < n; k++ {
			l = l<<8 | int(b[i])
			i++
		}
	} else if l == 0x80 {
		return tlv{}, nil, false
	}
	if l > len(b)-i {
		return tlv{}, nil, false
	}
	return tlv{tag: tag, val: b[i : i+l]}, b[i+l:], true
}

// parseTLVs parses a whole buffer of consecutive elements.
func parseTLVs(b []byte) ([]tlv, bool) {
	var out []tlv
	for len(b) > 0 {
		t, rest, ok := readTLV(b)
		if !ok {
			return nil, false
		}
		out = append(out, t)
		b = rest
	}
	return out, true
}

// find returns the value of the first element with the tag.
func find(ts []tlv, tag uint32) ([]byte, bool) {
	for _, t := range ts {
		if t.tag == tag {
			return t.val, true
		}
	}
	return nil, false
}

// unwrap parses b as exactly one element with the tag and returns its value.
func unwrap(b []byte, tag uint32) ([]byte, bool) {
	t, rest, ok := readTLV(b)
	if !ok || len(rest) != 0 || t.tag != tag {
		return nil, false
	}
	return t.val, true
}

// appendTLV appends tag, length and value to dst.
func appendTLV(dst []byte, tag uint32, val []byte) []byte {
	switch {
	case tag > 0xffff:
		dst = append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xff:
		dst = append(dst, byte(tag>>8), byte(tag))
	default:
		dst = append(dst, byte(tag))
	}
	n := len(val)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n < 0x100:
		dst = append(dst, 0x81, byte(n))
	case n < 0x10000:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, val...)
}

// tlvBytes is appendTLV onto a fresh slice.
func tlvBytes(tag uint32, val []byte) []byte {
	return appendTLV(nil, tag, val)
}
