package textesc

import (
	"strconv"
	"strings"
)

// unescape reverses String. It fails on an escape String does not write.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errBad(s, i)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			v, err := hexByte(s, i+1)
			if err != nil {
				return "", err
			}
			b.WriteByte(v)
			i += 2
		case 'u':
			if !strings.HasPrefix(s[i+1:], "00") {
				return "", errBad(s, i-1)
			}
			v, err := hexByte(s, i+3)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(v))
			i += 4
		default:
			return "", errBad(s, i-1)
		}
	}
	return b.String(), nil
}

func hexByte(s string, i int) (byte, error) {
	if i+2 > len(s) {
		return 0, errBad(s, i)
	}
	v, err := strconv.ParseUint(s[i:i+2], 16, 8)
	if err != nil {
		return 0, errBad(s, i)
	}
	return byte(v), nil
}

type badEscapeError struct{ at int }

func (e *badEscapeError) Error() string {
	return "textesc: bad escape at byte " + strconv.Itoa(e.at)
}

func errBad(_ string, at int) error { return &badEscapeError{at: at} }
