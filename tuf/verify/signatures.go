package verify

import (
	"errors"
	"slices"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// signatures explains metadata that lacks a threshold of valid signatures:
// a signature by a trusted key that does not verify means the bytes changed
// after signing; otherwise the signers are not (enough) trusted keys; for a
// new root that drops the trusted root keys, it is a key removal attack.
func (c failCase) signatures() error {
	md, sigs, err := parseRole(c.role, c.data)
	if c.trusted == nil || err != nil {
		return fail(c.err, "untrusted signature: %s is not signed by a threshold of trusted keys", c.role)
	}
	if c.role == metadata.ROOT {
		return c.rootSignatures(md.(*metadata.Metadata[metadata.RootType]), sigs)
	}
	keys, ids, threshold, ok := c.delegator()
	if !ok {
		return fail(c.err, "untrusted signature: %s is not signed by a threshold of trusted keys", c.role)
	}
	valid, bad := tufmeta.CountSignatures(keys, ids, md, sigs)
	if bad > 0 {
		return fail(c.err, "tampered metadata: %s was changed after it was signed (a signature by a trusted key does not verify)", c.name)
	}
	return fail(c.err, "untrusted signature: %s is not signed by a threshold of trusted keys (%d of %d)", c.role, valid, threshold)
}

// rootSignatures explains a new root of the chain that the updater refused.
// A new root needs a threshold of the trusted root's keys and a threshold
// of its own.
func (c failCase) rootSignatures(next *metadata.Metadata[metadata.RootType], sigs []metadata.Signature) error {
	prev := c.trusted.Root.Signed
	prevRole := prev.Roles[metadata.ROOT]
	nextRole := next.Signed.Roles[metadata.ROOT]
	if prevRole == nil || nextRole == nil {
		return fail(c.err, "untrusted signature: %s is not signed by a threshold of trusted root keys", c.name)
	}
	valid, bad := tufmeta.CountSignatures(prev.Keys, prevRole.KeyIDs, next, sigs)
	if bad > 0 {
		return fail(c.err, "tampered metadata: %s was changed after it was signed (a signature by a trusted root key does not verify)", c.name)
	}
	if valid >= prevRole.Threshold {
		own, _ := tufmeta.CountSignatures(next.Signed.Keys, nextRole.KeyIDs, next, sigs)
		return fail(c.err, "untrusted signature: %s is not signed by a threshold of its own root keys (%d of %d)", c.name, own, nextRole.Threshold)
	}
	for _, id := range prevRole.KeyIDs {
		if !slices.Contains(nextRole.KeyIDs, id) {
			return fail(c.err, "key removal attack: %s replaces the root keys without a threshold of signatures from trusted root version %d (%d of %d)", c.name, prev.Version, valid, prevRole.Threshold)
		}
	}
	return fail(c.err, "untrusted signature: %s is not signed by a threshold of the keys of trusted root version %d (%d of %d)", c.name, prev.Version, valid, prevRole.Threshold)
}

// delegator returns the keys, key IDs and threshold that the trusted
// metadata requires for c's role: root's for a top-level role, the
// delegating role's for a delegated one.
func (c failCase) delegator() (map[string]*metadata.Key, []string, int, bool) {
	switch c.role {
	case metadata.TIMESTAMP, metadata.SNAPSHOT, metadata.TARGETS:
		r := c.trusted.Root.Signed.Roles[c.role]
		if r == nil {
			return nil, nil, 0, false
		}
		return c.trusted.Root.Signed.Keys, r.KeyIDs, r.Threshold, true
	}
	names := make([]string, 0, len(c.trusted.Targets))
	for name := range c.trusted.Targets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := c.trusted.Targets[name].Signed.Delegations
		if d == nil {
			continue
		}
		for _, r := range d.Roles {
			if r.Name == c.role {
				return d.Keys, r.KeyIDs, r.Threshold, true
			}
		}
	}
	return nil, nil, 0, false
}

// parseRole parses data as the metadata type of role.
func parseRole(role string, data []byte) (any, []metadata.Signature, error) {
	if data == nil {
		return nil, nil, errors.New("no data")
	}
	switch role {
	case metadata.ROOT:
		m, err := metadata.Root().FromBytes(data)
		if err != nil {
			return nil, nil, err
		}
		return m, m.Signatures, nil
	case metadata.TIMESTAMP:
		m, err := metadata.Timestamp().FromBytes(data)
		if err != nil {
			return nil, nil, err
		}
		return m, m.Signatures, nil
	case metadata.SNAPSHOT:
		m, err := metadata.Snapshot().FromBytes(data)
		if err != nil {
			return nil, nil, err
		}
		return m, m.Signatures, nil
	default:
		m, err := metadata.Targets().FromBytes(data)
		if err != nil {
			return nil, nil, err
		}
		return m, m.Signatures, nil
	}
}
