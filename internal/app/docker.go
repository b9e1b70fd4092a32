package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/signer"
)

// Docker runs the user's docker command line for DockerPull and DockerPush.
// An implementation runs docker in the user's environment (DOCKER_HOST,
// DOCKER_CONTEXT and DOCKER_CONFIG untouched), shows docker's standard
// output to the user as status (on stderr: signet's standard output is its
// result) and, when out is not nil, copies it to out too; docker's stderr
// goes to the user's. Run returns when docker has exited, or kills it when
// ctx ends; a docker that exits non-zero is an error.
type Docker interface {
	Run(ctx context.Context, out io.Writer, args ...string) error
}

// DockerPullRequest is `docker signet pull IMAGE[:TAG]`.
type DockerPullRequest struct {
	Image    string // IMAGE[:TAG]; the tag defaults to latest, as docker's
	RootFile string // pin this root instead of the one kept in the signet home
}

// DockerPullResult is an image verified, pulled by digest and tagged in the
// docker daemon.
type DockerPullResult struct {
	VerifyResult
	// Image is the tag as the daemon now has it, REPO:TAG.
	Image string `json:"image"`
	// Pulled is what docker pulled, REPO@DIGEST: the verified digest.
	Pulled string `json:"pulled"`
}

// DockerPull verifies the tag of req.Image exactly as Verify does, then has
// docker pull the verified digest and tag it as REPO:TAG, as Docker Content
// Trust did: the daemon gets what was signed even if the tag moves in
// between. When verification fails docker is never run, so nothing is
// pulled and no tag is created or moved in the daemon.
func DockerPull(ctx context.Context, d *Deps, docker Docker, req DockerPullRequest) (*DockerPullResult, error) {
	s, tag, err := dockerTagRef(req.Image)
	if err != nil {
		return nil, err
	}
	vr, err := Verify(ctx, d, VerifyRequest{Tag: s, RootFile: req.RootFile})
	if err != nil {
		return nil, err
	}
	repo := dockerRepository(tag)
	byDigest := repo + "@" + vr.Digest
	image := repo + ":" + tag.TagStr()
	if err := runDocker(ctx, docker, nil, "pull", byDigest); err != nil {
		return nil, err
	}
	if err := runDocker(ctx, docker, nil, "tag", byDigest, image); err != nil {
		return nil, fmt.Errorf("%s was pulled but not tagged %s: %w", byDigest, image, err)
	}
	return &DockerPullResult{VerifyResult: *vr, Image: image, Pulled: byDigest}, nil
}

// DockerPushRequest is `docker signet push IMAGE[:TAG] [--key REF]`.
type DockerPushRequest struct {
	Image string // IMAGE[:TAG] of an image in the docker daemon; the tag defaults to latest
	Key   string // as SignRequest.Key
}

// DockerPush has docker push REPO:TAG, reads the digest docker reports for
// the tag, and signs REPO:TAG for that digest in one publish. What is signed
// is the manifest the registry serves for the tag, hashed, and only when it
// is the one docker reported: when the tag points elsewhere (someone pushed
// in between), whether before signing starts or just before the trust data
// is published, DockerPush signs nothing and fails with a verification
// error.
//
// docker moves the tag before anything is signed, so what would make the
// signing fail is checked before docker runs (checkCanSign); what can still
// fail after it (a PIN, a touch, the registry) leaves the tag at an image
// that verify refuses until the same push is run again.
func DockerPush(ctx context.Context, d *Deps, docker Docker, req DockerPushRequest) (*SignResult, error) {
	s, tag, err := dockerTagRef(req.Image)
	if err != nil {
		return nil, err
	}
	key, err := checkCanSign(ctx, d, tag, req.Key)
	if err != nil {
		return nil, err
	}
	image := dockerRepository(tag) + ":" + tag.TagStr()
	report := &pushReport{tag: tag.TagStr()}
	if err := runDocker(ctx, docker, report, "push", image); err != nil {
		return nil, err
	}
	pushed, err := report.result(image)
	if err != nil {
		return nil, err
	}
	stillPushed := func(ctx context.Context) (v1.Descriptor, error) {
		desc, err := d.Registry.Resolve(ctx, tag)
		if err != nil {
			return v1.Descriptor{}, err // names the tag already
		}
		if desc.Digest != pushed.Digest {
			return v1.Descriptor{}, errkind.Mark(errkind.Verification, fmt.Errorf(
				"tag moved: docker pushed %s as %s but %s points to %s now; nothing was signed (check who pushed, then push again)",
				image, pushed.Digest, tag, desc.Digest))
		}
		return desc, nil
	}
	desc, err := stillPushed(ctx)
	if err != nil {
		return nil, err
	}
	recheck := func(ctx context.Context) error {
		_, err := stillPushed(ctx)
		return err
	}
	res, err := sign(ctx, d, SignRequest{Tags: []string{s}, Key: req.Key, Descriptors: map[string]v1.Descriptor{s: desc}, key: key}, recheck)
	if err != nil {
		// The tag has moved already: say so, whatever stopped the signing.
		return nil, fmt.Errorf("docker pushed %s as %s, unsigned: verify refuses %s until this push is run again: %w", image, pushed.Digest, tag, err)
	}
	return res, nil
}

// checkCanSign fails for what would make signing tag fail after docker
// pushed: no trust data, trust data that does not verify from the root
// this machine trusts, a key that is not there (keyRef, or none at hand
// without it) or that may not sign the tag. It signs nothing: keys that
// need a PIN or a touch are asked for them when signing. It returns the
// key keyRef names, resolved (nil without keyRef), for the signing.
func checkCanSign(ctx context.Context, d *Deps, tag name.Tag, keyRef string) (*signer.Key, error) {
	repo := tag.Context()
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	r, _, err := d.open(ctx, repo, store, mustTrust)
	if err != nil {
		return nil, withRepo(err, repo)
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	names := []string{tag.TagStr()}
	if keyRef == "" {
		_, err = chooseKey(ctx, res, r, names)
		return nil, err
	}
	key, err := res.Resolve(ctx, keyRef)
	if err != nil {
		return nil, err
	}
	if _, err := r.RoleFor(ctx, key.ID, names); err != nil {
		return nil, err
	}
	return key, nil
}

// runDocker runs docker and turns its failure into one line with exit code
// 4: docker has already said why on stderr.
func runDocker(ctx context.Context, docker Docker, out io.Writer, args ...string) error {
	err := docker.Run(ctx, out, args...)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("docker %s: %w", strings.Join(args, " "), context.Cause(ctx))
	}
	return errkind.Mark(errkind.Registry, fmt.Errorf("docker %s failed (%w): docker's own message is above", strings.Join(args, " "), err))
}

// dockerTagRef parses IMAGE[:TAG] as docker does, with latest as the
// default tag, and returns it with the tag spelled out. A digest reference
// is refused: there is nothing to verify about it.
func dockerTagRef(image string) (string, name.Tag, error) {
	if strings.Contains(image, "@") {
		return "", name.Tag{}, errkind.Mark(errkind.Input, fmt.Errorf("%q names a digest: docker signet pulls and pushes tags (IMAGE[:TAG])", image))
	}
	s := image
	if !strings.Contains(s[strings.LastIndex(s, "/")+1:], ":") {
		s += ":latest"
	}
	tag, err := parseTagRef(s)
	if err != nil {
		return "", name.Tag{}, err
	}
	return s, tag, nil
}

// dockerRepository is how tag's repository is named to docker: its full
// name, with Docker Hub spelled docker.io as docker spells it.
func dockerRepository(tag name.Tag) string {
	repo := tag.Context()
	if repo.RegistryStr() == name.DefaultRegistry {
		return "docker.io/" + repo.RepositoryStr()
	}
	return repo.Name()
}

// maxPushLine bounds a line of docker push output that pushReport keeps.
const maxPushLine = 4096

// pushLine is the line docker push prints for each tag it pushed.
var pushLine = regexp.MustCompile(`^(\S+): digest: (sha256:[0-9a-f]{64}) size: ([0-9]{1,19})$`)

// pushReport reads docker push's standard output for the line that reports
// the pushed digest of its tag: "TAG: digest: sha256:HEX size: N". It keeps
// at most one line of maxPushLine bytes at a time.
type pushReport struct {
	tag      string
	line     []byte
	long     bool // the current line passed maxPushLine: it is not the one
	pushed   *v1.Descriptor
	conflict bool // the tag was reported twice, with different digests
}

func (p *pushReport) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i]
		}
		if !p.long && len(p.line)+len(chunk) <= maxPushLine {
			p.line = append(p.line, chunk...)
		} else {
			p.long = true
		}
		if i < 0 {
			break
		}
		p.endLine()
		b = b[i+1:]
	}
	return n, nil
}

func (p *pushReport) endLine() {
	line := strings.TrimRight(string(p.line), "\r")
	if !p.long {
		if m := pushLine.FindStringSubmatch(line); m != nil && m[1] == p.tag {
			if h, err := v1.NewHash(m[2]); err == nil {
				if size, err := strconv.ParseInt(m[3], 10, 64); err == nil {
					if p.pushed != nil && (p.pushed.Digest != h || p.pushed.Size != size) {
						p.conflict = true
					}
					p.pushed = &v1.Descriptor{Digest: h, Size: size}
				}
			}
		}
	}
	p.line, p.long = p.line[:0], false
}

// result is the digest docker reported for the tag; a report missing or
// given twice differently is an error (exit 4).
func (p *pushReport) result(image string) (v1.Descriptor, error) {
	if len(p.line) > 0 {
		p.endLine()
	}
	if p.pushed == nil {
		return v1.Descriptor{}, errkind.Mark(errkind.Registry, fmt.Errorf(
			"docker push %s printed no \"%s: digest: sha256:… size: N\" line: nothing was signed", image, p.tag))
	}
	if p.conflict {
		return v1.Descriptor{}, errkind.Mark(errkind.Registry, fmt.Errorf(
			"docker push %s reported two digests for the tag %s: nothing was signed", image, p.tag))
	}
	return *p.pushed, nil
}
