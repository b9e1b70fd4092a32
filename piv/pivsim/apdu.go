package pivsim

// Status words the card answers with (ISO 7816-4 and SP 800-73-4).
const (
	swOK                 = 0x9000
	swMoreData           = 0x6100 // low byte: bytes remaining (00 = 256 or more)
	swVerifyFail         = 0x63c0 // low nibble: tries remaining
	swMemoryFailure      = 0x6581
	swWrongLength        = 0x6700
	swChainNotSupported  = 0x6884
	swSecurityStatus     = 0x6982
	swAuthBlocked        = 0x6983
	swConditionsNotMet   = 0x6985
	swIncorrectData      = 0x6a80
	swFileNotFound       = 0x6a82
	swNoSpace            = 0x6a84
	swIncorrectP1P2      = 0x6a86
	swRefNotFound        = 0x6a88
	swWrongP1P2          = 0x6b00
	swInsNotSupported    = 0x6d00
	swClassNotSupported  = 0x6e00
	swNoPreciseDiagnosis = 0x6f00
)

// maxChain bounds the data a chained command may accumulate.
const maxChain = 16 << 10

// maxResponse keeps a response (data and status word) within one vpcd frame.
const maxResponse = 0xffff - 2

// command is a parsed command APDU.
type command struct {
	cla, ins, p1, p2 byte
	data             []byte
	ne               int // maximum response data length
	extended         bool
}

// parseAPDU decodes the four ISO 7816-4 cases in short and extended form.
// A command without Le may receive up to 256 (short) or 65536 (extended)
// bytes, as a YubiKey answers.
func parseAPDU(b []byte) (command, uint16) {
	if len(b) < 4 {
		return command{}, swWrongLength
	}
	c := command{cla: b[0], ins: b[1], p1: b[2], p2: b[3], ne: 256}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2 short
		c.ne = shortLe(body[0])
	case body[0] != 0: // case 3 or 4 short
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
		case 2 + lc:
			c.ne = shortLe(body[1+lc])
		default:
			return command{}, swWrongLength
		}
		c.data = body[1 : 1+lc]
	case len(body) == 3: // case 2 extended
		c.extended = true
		c.ne = extLe(body[1], body[2])
	default: // case 3 or 4 extended
		c.extended = true
		if len(body) < 3 {
			return command{}, swWrongLength
		}
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return command{}, swWrongLength
		}
		switch len(body) {
		case 3 + lc:
			c.ne = 65536
		case 5 + lc:
			c.ne = extLe(body[3+lc], body[4+lc])
		default:
			return command{}, swWrongLength
		}
		c.data = body[3 : 3+lc]
	}
	return c, 0
}

func shortLe(b byte) int {
	if b == 0 {
		return 256
	}
	return int(b)
}

func extLe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return 65536
	}
	return n
}

// status is a bare status word as a response.
func status(sw uint16) []byte {
	return []byte{byte(sw >> 8), byte(sw)}
}

// withStatus appends a status word to response data.
func withStatus(data []byte, sw uint16) []byte {
	out := make([]byte, 0, len(data)+2)
	out = append(out, data...)
	return append(out, byte(sw>>8), byte(sw))
}
