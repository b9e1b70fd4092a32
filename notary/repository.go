package notary

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"sort"
	"time"
)

// Repository is a Notary repository's verified trust data.
type Repository struct {
	GUN string
	// Pinned is true when the root was checked against a pinned
	// certificate (WithRootCert); false means trust on first use.
	Pinned bool
	// RootKeyIDs and RootCerts are the root keys that signed the root.
	RootKeyIDs  []string
	RootCerts   []*x509.Certificate
	RootVersion int
	RootExpires time.Time

	TimestampVersion, SnapshotVersion int
	TimestampExpires, SnapshotExpires time.Time

	// Roles are targets, then every published delegation in the order
	// Notary walks them (breadth first).
	Roles []*Role
}

// Role is one verified targets role.
type Role struct {
	Name      string
	Version   int
	Expires   time.Time
	KeyIDs    []string
	Threshold int
	// Signers are the key IDs whose signatures verified.
	Signers []string
	// Paths are the tag prefixes the role may sign, restricted by its
	// parents; nil for targets (every tag).
	Paths []string
	// Targets are the role's tags within its paths.
	Targets map[string]Target
}

// Target is one signed tag of a role.
type Target struct {
	Name   string
	Length int64
	SHA256 []byte // nil when the role gave no sha256 hash
	SHA512 []byte
}

// Digest returns "sha256:<hex>", or "" without a sha256 hash.
func (t Target) Digest() string {
	if len(t.SHA256) != 32 {
		return ""
	}
	return "sha256:" + hex.EncodeToString(t.SHA256)
}

// Tag is one tag of the repository as `docker trust` resolves it.
type Tag struct {
	Target
	// Role is the role `docker trust` takes the tag from: targets/releases
	// when it lists the tag, else targets; "" when only other delegations
	// sign it, which `docker pull` would not accept.
	Role string
	// Signers are the roles that list the tag with the same sha256.
	Signers []string
}

// Role returns the named role, or nil when it was not published.
func (r *Repository) Role(name string) *Role {
	for _, role := range r.Roles {
		if role.Name == name {
			return role
		}
	}
	return nil
}

// Tags returns every tag any role signs, sorted by name, resolved the
// way `docker trust` does (see Tag.Role).
func (r *Repository) Tags() []Tag {
	names := map[string]bool{}
	for _, role := range r.Roles {
		for n := range role.Targets {
			names[n] = true
		}
	}
	out := make([]Tag, 0, len(names))
	for n := range names {
		tag := Tag{}
		for _, from := range []string{ReleasesRole, roleTargets} {
			if role := r.Role(from); role != nil {
				if t, ok := role.Targets[n]; ok {
					tag.Target, tag.Role = t, from
					break
				}
			}
		}
		if tag.Role == "" {
			for _, role := range r.Roles {
				if t, ok := role.Targets[n]; ok {
					tag.Target = t
					break
				}
			}
		}
		for _, role := range r.Roles {
			if t, ok := role.Targets[n]; ok && bytes.Equal(t.SHA256, tag.SHA256) {
				tag.Signers = append(tag.Signers, role.Name)
			}
		}
		out = append(out, tag)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
