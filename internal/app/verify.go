package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/verify"
)

// maxRootFile bounds a root file given with --root.
const maxRootFile = 1 << 20

// VerifyRequest is `signet verify R:T [--root FILE]`.
type VerifyRequest struct {
	Tag      string
	RootFile string // pin this root instead of the one kept in the signet home
}

// VerifyResult is a tag whose current digest matches its signed digest.
type VerifyResult struct {
	Tag         string `json:"tag"`
	Digest      string `json:"digest"`
	Size        int64  `json:"size"`
	MediaType   string `json:"mediaType,omitempty"`
	Role        string `json:"role"`
	RootVersion int64  `json:"rootVersion"`
	TOFU        bool   `json:"tofu,omitempty"`
}

// Verify runs a full TUF update for the tag's repository and checks that
// the tag points now at the digest that was signed for it. The trusted
// root comes from --root, else from the signet home, else the repository's
// first root is trusted on first use, which Verify announces.
func Verify(ctx context.Context, d *Deps, req VerifyRequest) (*VerifyResult, error) {
	tag, err := parseTagRef(req.Tag)
	if err != nil {
		return nil, err
	}
	// What the tag points to now does not depend on the trust data: ask
	// for it while the update runs, one round trip less.
	resolveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type resolved struct {
		desc v1.Descriptor
		err  error
	}
	now := make(chan resolved, 1)
	go func() {
		desc, err := d.Registry.Resolve(resolveCtx, tag)
		now <- resolved{desc, err}
	}()
	vt, err := verifyTarget(ctx, d, tag, req.RootFile)
	if errors.Is(err, verify.ErrNotSigned) {
		// Not signed, and not in the registry either: most likely a typo.
		if r := <-now; errors.Is(r.err, registry.ErrNotFound) {
			return nil, errkind.Mark(errkind.Verification, fmt.Errorf("%s has no tag %s: signet inspect %s lists its signed tags",
				tag.Context().Name(), tag.TagStr(), tag.Context().Name()))
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	r := <-now
	if r.err != nil {
		return nil, r.err // names the tag already
	}
	desc := r.desc
	if desc.Digest.Hex != vt.SHA256 || desc.Size != vt.Length {
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf(
			"tag moved: %s points to %s (%d bytes) but the signed digest is %s (%d bytes) (a push publishes the trust data just before it moves the tag: if one is under way, verify again in a moment)",
			tag, desc.Digest, desc.Size, vt.Digest(), vt.Length))
	}
	return &VerifyResult{Tag: tag.String(), Digest: vt.Digest(), Size: vt.Length, MediaType: vt.MediaType,
		Role: vt.Role, RootVersion: vt.RootVersion, TOFU: vt.TOFU}, nil
}

// verifyTarget runs the TUF update for tag against the trust kept in the
// signet home (and rootFile when given), announcing trust on first use.
func verifyTarget(ctx context.Context, d *Deps, tag name.Tag, rootFile string) (*verify.Result, error) {
	repo := tag.Context()
	ks, err := d.Keystore()
	if err != nil {
		return nil, err
	}
	trustDir, err := ks.TrustDir(repo.RegistryStr(), repo.RepositoryStr())
	if err != nil {
		return nil, err
	}
	opts := []verify.Option{verify.WithTrustDir(trustDir), verify.WithClock(d.now), verify.OnDiscardedRoot(func(v int64) {
		d.notice("discarded root version %d kept for %s: it does not descend from --root %s", v, repo.Name(), rootFile)
	})}
	var root []byte
	if rootFile != "" {
		if root, err = d.readRoot(rootFile); err != nil {
			return nil, err
		}
	} else if root, err = ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr()); err != nil && !errors.Is(err, keystore.ErrNoPinnedRoot) {
		return nil, err
	}
	if len(root) > 0 {
		opts = append(opts, verify.WithRoot(root))
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	view, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	if len(view.Files()) == 0 {
		if v := trustedVersion(root, trustDir); v > 0 {
			return nil, withheld(repo, v)
		}
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s has no trust data: it was never signed with signet", repo.Name()))
	}
	vt, err := verify.Target(ctx, view, tag.TagStr(), opts...)
	var expired *verify.ExpiredError
	if errors.As(err, &expired) {
		return nil, fmt.Errorf("%w: %s", err, freezeAdvice(expired.Role, repo.Name()))
	}
	if err != nil {
		return nil, err
	}
	if vt.TOFU {
		fp := "unknown"
		if data, err := ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr()); err == nil {
			if root, err := metadata.Root().FromBytes(data); err == nil {
				if f, err := tuf.RootFingerprint(root); err == nil {
					fp = f
				}
			}
		}
		d.notice("trusting the root of %s on first use (root version %d, fingerprint %s: compare it with signet trust show %s where it is trusted); pin it with --root or signet trust pin to avoid this",
			repo.Name(), vt.RootVersion, fp, repo.Name())
	}
	return vt, nil
}

func readRootFile(path string) ([]byte, error) {
	data, err := localfile.Read(path, maxRootFile)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	if _, err := metadata.Root().FromBytes(data); err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("--root %s is not a TUF root.json (signet trust show R --raw prints one; -o json is a summary)", path))
	}
	return data, nil
}

// trustedVersion is the version of the root a verify starts from: the
// pinned one or the trust directory's, whichever is newer; 0 for none.
func trustedVersion(pinned []byte, trustDir string) int64 {
	v, _ := verify.TrustedRootVersion(trustDir)
	if len(pinned) > 0 {
		if p, err := tuf.TrustedRootVersionOf(pinned); err == nil && p > v {
			v = p
		}
	}
	return v
}

// PullRequest is `signet pull R:T --to oci:DIR`.
type PullRequest struct {
	Tag      string
	To       string // oci:DIR
	RootFile string
}

// Pull verifies the tag, then pulls the image by the verified digest, so
// what lands on disk is what was signed even if the tag moves meanwhile.
func Pull(ctx context.Context, d *Deps, req PullRequest) (*VerifyResult, error) {
	tag, err := parseTagRef(req.Tag)
	if err != nil {
		return nil, err
	}
	dir, ok := strings.CutPrefix(req.To, "oci:")
	if !ok || dir == "" {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("--to %q: want oci:DIR", req.To))
	}
	vt, err := verifyTarget(ctx, d, tag, req.RootFile)
	if err != nil {
		return nil, err
	}
	dig, err := name.NewDigest(tag.Context().Name()+"@"+vt.Digest(), name.StrictValidation)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	if err := d.Registry.PullImage(ctx, dig, dir, registry.WithRefName(tag.TagStr())); err != nil {
		return nil, err
	}
	return &VerifyResult{Tag: tag.String(), Digest: vt.Digest(), Size: vt.Length, MediaType: vt.MediaType,
		Role: vt.Role, RootVersion: vt.RootVersion, TOFU: vt.TOFU}, nil
}

// freezeAdvice says who renews an expired role, and how: a consumer cannot
// renew it, the publisher must.
func freezeAdvice(role, repo string) string {
	switch role {
	case metadata.SNAPSHOT, metadata.TIMESTAMP:
		return "the publisher must run signet refresh " + repo
	case metadata.ROOT:
		return "the publisher must run signet rotate " + repo + " root"
	}
	return "the publisher must sign a tag again or run signet rotate " + repo + " " + role
}
