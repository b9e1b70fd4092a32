package admission

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// imageRef is a container image reference as Kubernetes reads it: a tag
// ("latest" when neither a tag nor a digest is given), a digest, or both.
type imageRef struct {
	repo   name.Repository
	tag    string // "" for REPO@sha256:…
	digest string // "" for REPO:TAG
}

// parseImage parses a container's image field.
func parseImage(s string) (imageRef, error) {
	base, digest, hasDigest := strings.Cut(s, "@")
	var ref imageRef
	if hasDigest {
		d, err := name.NewDigest("example.invalid/x@" + digest)
		if err != nil || !strings.HasPrefix(digest, "sha256:") {
			return ref, fmt.Errorf("not a sha256 digest: %q", digest)
		}
		ref.digest = d.DigestStr()
	}
	last := base[strings.LastIndex(base, "/")+1:]
	if strings.Contains(last, ":") {
		t, err := name.NewTag(base)
		if err != nil {
			return ref, fmt.Errorf("not an image reference: %w", err)
		}
		ref.repo, ref.tag = t.Context(), t.TagStr()
		return ref, nil
	}
	r, err := name.NewRepository(base)
	if err != nil {
		return ref, fmt.Errorf("not an image reference: %w", err)
	}
	ref.repo = r
	if !hasDigest {
		ref.tag = "latest"
	}
	return ref, nil
}

// tagRef is REPO:TAG.
func (r imageRef) tagRef() string { return r.repo.Name() + ":" + r.tag }

// pinned is REPO:TAG@DIGEST.
func pinned(r imageRef, digest string) string { return r.tagRef() + "@" + digest }
