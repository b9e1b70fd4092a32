package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry"
)

// VerifySigned is Verify without asking the registry what the tag points
// to now: it returns what was signed for the tag. It is for a reference
// that already names its digest (R:T@sha256:…, as the admission webhook
// pins them), where only the signed digest matters. One request when the
// warm-verify memo applies: the trust data's manifest.
func VerifySigned(ctx context.Context, d *Deps, req VerifyRequest) (*VerifyResult, error) {
	tag, err := parseTagRef(req.Tag)
	if err != nil {
		return nil, err
	}
	vt, err := verifyTarget(ctx, d, tag, req.RootFile)
	if err != nil {
		return nil, err
	}
	return &VerifyResult{Tag: tag.String(), Digest: vt.Digest(), Size: vt.Length, MediaType: vt.MediaType,
		Role: vt.Role, RootVersion: vt.RootVersion, TOFU: vt.TOFU}, nil
}

// SignedTag returns a tag of repository whose signed digest is digest
// (sha256:HEX), confirmed by VerifySigned from rootFile, or "" when no tag
// signs it: a target a delegation lists outside its paths does not count,
// and neither does a listed name that is no tag. It stops at the first.
func SignedTag(ctx context.Context, d *Deps, repository, digest, rootFile string) (string, error) {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return "", errkind.Mark(errkind.Input, fmt.Errorf("%q is not a sha256 digest", digest))
	}
	od := *d
	od.RootFile = rootFile
	repo, r, _, err := openRepo(ctx, &od, repository, mustTrust)
	if err != nil {
		return "", err
	}
	targets, err := r.ListTargets(ctx)
	if err != nil {
		return "", err
	}
	tried := map[string]bool{}
	for _, t := range targets {
		if t.SHA256 != hex || tried[t.Name] {
			continue
		}
		tried[t.Name] = true
		ref := repo.Tag(t.Name).String()
		if _, err := registry.ParseTag(ref); err != nil {
			continue // a signed name no image reference can carry
		}
		res, err := VerifySigned(ctx, d, VerifyRequest{Tag: ref, RootFile: rootFile})
		if errkind.Of(err) == errkind.Verification {
			// A listing that does not verify (a delegation naming a tag
			// outside its paths) does not count, and does not hide
			// another tag that signs the digest.
			continue
		}
		if err != nil {
			return "", err
		}
		if res.Digest == digest {
			return t.Name, nil
		}
	}
	return "", nil
}
