// Package keyid shortens TUF key IDs for people: every message, table and
// notice shows the same prefix of a key ID, and commands accept that prefix
// back as a key reference.
package keyid

// ShortLen is the number of hex characters shown of a key ID: 16 (64
// bits). It is what `key list` always showed and what people paste back
// as a key reference; at 12 characters (48 bits) a key whose ID starts
// like someone else's can be made with a few GPU-hours, at 16 it cannot.
const ShortLen = 16

// Short returns the first ShortLen characters of a key ID, or the whole
// ID when it is shorter.
func Short(id string) string {
	if len(id) > ShortLen {
		return id[:ShortLen]
	}
	return id
}

// Shorts is Short of every ID, in order.
func Shorts(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Short(id)
	}
	return out
}
