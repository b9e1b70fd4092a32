package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signet-dev/signet/internal/errkind"
)

// MetadataTag is the tag of a repository's metadata artifact.
const MetadataTag = "_tuf"

// ParseRepository parses a repository such as "registry.example.com/team/app"
// ("app" alone means Docker Hub's "library/app"). A tag or digest is bad
// input (errkind.Input).
func ParseRepository(s string) (name.Repository, error) {
	if strings.Contains(s, "@") {
		return name.Repository{}, errkind.Mark(errkind.Input, fmt.Errorf("%q is not a repository: remove the digest", s))
	}
	if hasTag(s) {
		return name.Repository{}, errkind.Mark(errkind.Input, fmt.Errorf("%q is not a repository: remove the tag", s))
	}
	r, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, errkind.Mark(errkind.Input, fmt.Errorf("%q is not a repository: %w", s, err))
	}
	return r, nil
}

// ParseTag parses "REPOSITORY:TAG". The tag must be explicit; a digest is
// bad input (errkind.Input).
func ParseTag(s string) (name.Tag, error) {
	if strings.Contains(s, "@") {
		return name.Tag{}, errkind.Mark(errkind.Input, fmt.Errorf("%q is not REPOSITORY:TAG: use a tag, not a digest", s))
	}
	if !hasTag(s) {
		return name.Tag{}, errkind.Mark(errkind.Input, fmt.Errorf("%q has no tag: use REPOSITORY:TAG", s))
	}
	t, err := name.NewTag(s)
	if err != nil {
		return name.Tag{}, errkind.Mark(errkind.Input, fmt.Errorf("%q is not REPOSITORY:TAG: %w", s, err))
	}
	return t, nil
}

// hasTag reports whether the last path element of s has a ":tag".
func hasTag(s string) bool {
	return strings.Contains(s[strings.LastIndex(s, "/")+1:], ":")
}

// MetadataRef returns the default tag of repo's metadata artifact, R:_tuf.
func MetadataRef(repo name.Repository) name.Tag {
	return repo.Tag(MetadataTag)
}

// Resolve returns the descriptor (digest, size, media type) of the
// manifest that ref points to now, worked out from the manifest itself:
// it is read (at most WithMaxManifestSize bytes) and hashed, so what the
// registry says in headers (a HEAD answer's digest and length) is never
// what gets signed or compared. A missing tag or digest is an error
// wrapping ErrNotFound (errkind.Input); an unreachable or failing registry
// is errkind.Registry.
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (v1.Descriptor, error) {
	cn, err := c.connect(ctx, ref.Context(), false)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	_, d, err := cn.getManifest(ctx, ref.Identifier())
	if isNotFound(err) {
		return v1.Descriptor{}, errkind.Mark(errkind.Input, fmt.Errorf("resolving %s: %w", ref, ErrNotFound))
	}
	if err != nil {
		return v1.Descriptor{}, cn.fail("resolving "+ref.String(), err)
	}
	return d, nil
}
