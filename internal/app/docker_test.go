package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrrandom "github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf"
)

// registryDocker stands in for the docker CLI where the real one (in
// cmd/signet/testdata/docker_plugin.txtar) cannot show a case on demand:
// "push REF" writes a new random image to REF in the registry and prints
// what docker prints (report, when set, replaces the digest line);
// afterPush runs when it has pushed, as someone racing it would. Every
// call is recorded; fail makes every call fail as docker would.
type registryDocker struct {
	calls     []string
	afterPush func()
	report    func(tag, digest string, size int64) string
	fail      error
}

func (d *registryDocker) Run(ctx context.Context, out io.Writer, args ...string) error {
	d.calls = append(d.calls, strings.Join(args, " "))
	if d.fail != nil {
		return d.fail
	}
	if args[0] != "push" {
		return nil
	}
	ref, err := name.NewTag(args[1], name.Insecure)
	if err != nil {
		return err
	}
	img, err := ggcrrandom.Image(256, 1)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return err
	}
	digest, _ := img.Digest()
	size, _ := img.Size()
	line := fmt.Sprintf("%s: digest: %s size: %d", ref.TagStr(), digest, size)
	if d.report != nil {
		line = d.report(ref.TagStr(), digest.String(), size)
	}
	if out != nil {
		fmt.Fprintf(out, "The push refers to repository [%s]\r\n%s: Pushed\n", ref.Context(), strings.Repeat("x", 10000))
		fmt.Fprintf(out, "other: digest: sha256:%064d size: 1\n%s\n", 0, line)
	}
	if d.afterPush != nil {
		d.afterPush()
	}
	return nil
}

func TestDockerPushSignsTheDigestDockerReported(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	docker := &registryDocker{}
	res, err := app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo + ":v1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"push " + repo + ":v1"}; strings.Join(docker.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("docker ran %q, want %q", docker.calls, want)
	}
	pushed := currentDigest(t, repo+":v1")
	if len(res.Signed) != 1 || res.Signed[0].Digest != pushed.String() {
		t.Fatalf("signed %+v, want %s", res.Signed, pushed)
	}
	v, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Digest != pushed.String() {
		t.Fatalf("verified %s, want %s", v.Digest, pushed)
	}
}

func TestDockerPushDefaultsToLatest(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	docker := &registryDocker{}
	res, err := app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo})
	if err != nil {
		t.Fatal(err)
	}
	if docker.calls[0] != "push "+repo+":latest" || !strings.HasSuffix(res.Signed[0].Tag, ":latest") {
		t.Fatalf("docker ran %q and signed %+v, want %s:latest", docker.calls, res.Signed, repo)
	}
}

func TestDockerPushSignsNothingWhenTheTagMovedAfterDockerPushed(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	attacker, err := name.NewTag(repo+":v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	docker := &registryDocker{afterPush: func() {
		img, _ := ggcrrandom.Image(256, 1)
		if err := remote.Write(attacker, img); err != nil {
			t.Error(err)
		}
	}}
	_, err = app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo + ":v1"})
	wantFail(t, err, errkind.Verification, "tag moved", "nothing was signed")
	_, err = app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
	wantFail(t, err, errkind.Verification)
}

// A tag moved after the check that follows docker push, while the key is
// being chosen, is caught by the check before the trust data is published;
// the error says that docker moved the tag and nothing signs it.
func TestDockerPushPublishesNothingWhenTheTagMovesWhileSigning(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	attacker, err := name.NewTag(repo+":v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	var moved bool
	notice := pub.deps.Notice
	pub.deps.Notice = func(msg string) {
		notice(msg)
		if !moved {
			moved = true
			img, _ := ggcrrandom.Image(256, 1)
			if err := remote.Write(attacker, img); err != nil {
				t.Error(err)
			}
		}
	}
	_, err = app.DockerPush(context.Background(), pub.deps, &registryDocker{}, app.DockerPushRequest{Image: repo + ":v1"})
	wantFail(t, err, errkind.Verification, "docker pushed "+repo+":v1 as sha256:", "unsigned", "run again", "tag moved")
	if !moved {
		t.Fatal("signing said nothing before publishing: the tag was never moved")
	}
	ins, err := app.Inspect(context.Background(), newPerson(t).deps, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins.Targets) != 0 {
		t.Fatalf("published %+v, want nothing", ins.Targets)
	}
}

func TestDockerPushWithoutTheDigestLineSignsNothing(t *testing.T) {
	for name, report := range map[string]func(tag, digest string, size int64) string{
		"missing": func(tag, digest string, size int64) string { return "" },
		"other tag": func(tag, digest string, size int64) string {
			return fmt.Sprintf("x%s: digest: %s size: %d", tag, digest, size)
		},
		"too long": func(tag, digest string, size int64) string {
			return fmt.Sprintf("%s: digest: %s size: %d%s", tag, digest, size, strings.Repeat("0", 5000))
		},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			repo := uniqueRepo(t, registrytest.InProcess(t))
			pub := initRepo(t, repo)
			docker := &registryDocker{report: report}
			_, err := app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo + ":v1"})
			wantFail(t, err, errkind.Registry, "printed no", "nothing was signed")
		})
	}
}

func TestDockerPullRunsDockerOnlyOnAVerifiedTag(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	signed := push(t, pub, repo+":v1").Signed[0].Digest
	push(t, pub, repo+":v2")
	root := rootFile(t, repo)

	docker := &registryDocker{}
	res, err := app.DockerPull(context.Background(), newPerson(t).deps, docker, app.DockerPullRequest{Image: repo + ":v1", RootFile: root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pull " + repo + "@" + signed, "tag " + repo + "@" + signed + " " + repo + ":v1"}
	if strings.Join(docker.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("docker ran %q, want %q", docker.calls, want)
	}
	if res.Digest != signed || res.Image != repo+":v1" {
		t.Fatalf("result %+v, want %s as %s:v1", res, signed, repo)
	}

	// The attacker moves v2 to v1's image: verification fails, docker never runs.
	rawTag(t, repo+":v2", currentDigest(t, repo+":v1"))
	docker = &registryDocker{}
	_, err = app.DockerPull(context.Background(), newPerson(t).deps, docker, app.DockerPullRequest{Image: repo + ":v2", RootFile: root})
	wantFail(t, err, errkind.Verification, "tag moved")
	if len(docker.calls) != 0 {
		t.Fatalf("docker ran %q after a failed verification", docker.calls)
	}
}

func TestDockerFailureIsARegistryError(t *testing.T) {
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	push(t, pub, repo+":v1")
	docker := &registryDocker{fail: errors.New("exit status 1")}
	_, err := app.DockerPull(context.Background(), newPerson(t).deps, docker, app.DockerPullRequest{Image: repo + ":v1", RootFile: rootFile(t, repo)})
	wantFail(t, err, errkind.Registry, "docker pull", "exit status 1")
	_, err = app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo + ":v1"})
	wantFail(t, err, errkind.Registry, "docker push", "exit status 1")
}

func TestDockerRefusesADigestReference(t *testing.T) {
	docker := &registryDocker{}
	_, err := app.DockerPull(context.Background(), newPerson(t).deps, docker, app.DockerPullRequest{Image: "127.0.0.1:1/app@sha256:" + strings.Repeat("0", 64)})
	wantFail(t, err, errkind.Input, "names a digest")
	if len(docker.calls) != 0 {
		t.Fatalf("docker ran %q", docker.calls)
	}
}

func TestDockerPushRunsNoDockerWhenSigningWouldFail(t *testing.T) {
	host := registrytest.InProcess(t)
	bare := uniqueRepo(t, host)
	p := newPerson(t)
	p.generate("root")
	docker := &registryDocker{}
	_, err := app.DockerPush(context.Background(), p.deps, docker, app.DockerPushRequest{Image: bare + ":v1"})
	wantFail(t, err, errkind.Input, "signet init")

	repo := uniqueRepo(t, host)
	pub := initRepo(t, repo)
	pub.generate("stranger")
	_, err = app.DockerPush(context.Background(), pub.deps, docker, app.DockerPushRequest{Image: repo + ":v1", Key: "stranger"})
	if !errors.Is(err, tuf.ErrNotAllowed) {
		t.Fatalf("a key that no role lists: %v, want %v", err, tuf.ErrNotAllowed)
	}
	if len(docker.calls) != 0 {
		t.Fatalf("docker ran %q although signing could not succeed", docker.calls)
	}
}
