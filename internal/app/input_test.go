package app_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
)

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeDockerSave(t *testing.T, path string) {
	t.Helper()
	img := registrytest.RandomImage(t, 512, 2)
	tag, _ := name.NewTag("example.com/app:latest")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputFailsWithOneLineAndTheRightExitCode(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		before := currentDigest(t, tufTag(t, repo))

		cases := []struct {
			name string
			run  func() error
			kind errkind.Kind
		}{
			{"malformed reference", func() error {
				_, err := app.Verify(ctx, pub.deps, app.VerifyRequest{Tag: "not a reference!"})
				return err
			}, errkind.Input},
			{"digest instead of tag", func() error {
				_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + "@sha256:" + fortyZeros()}})
				return err
			}, errkind.Input},
			{"tag that does not exist", func() error {
				_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":nope"}})
				return err
			}, errkind.Input},
			{"repository without trust data", func() error {
				_, err := app.Verify(ctx, pub.deps, app.VerifyRequest{Tag: uniqueRepo(t, host) + ":v1"})
				return err
			}, errkind.Input},
			{"sign in a repository without trust data", func() error {
				other := uniqueRepo(t, host)
				push := func() error {
					_, err := app.Push(ctx, pub.deps, app.PushRequest{Source: ociLayout(t), Tag: other + ":v1"})
					return err
				}
				return push()
			}, errkind.Input},
			{"bad source", func() error {
				_, err := app.Push(ctx, pub.deps, app.PushRequest{Source: "zip:foo", Tag: repo + ":v9"})
				return err
			}, errkind.Input},
			{"init twice", func() error {
				_, err := app.Init(ctx, pub.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root"}})
				return err
			}, errkind.Input},
			{"unknown key", func() error {
				_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":v1"}, Key: "nobody"})
				return err
			}, errkind.Key},
		}
		for _, c := range cases {
			err := c.run()
			if err == nil {
				t.Errorf("%s: succeeded", c.name)
				continue
			}
			if got := errkind.Of(err); got != c.kind {
				t.Errorf("%s: exit %d, want %d: %v", c.name, got, c.kind, err)
			}
		}
		if after := currentDigest(t, tufTag(t, repo)); after != before {
			t.Fatalf("a failed command changed the trust data: %s -> %s", before, after)
		}
	})
}

func TestCorruptTrustDataIsBadInput(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			return map[string][]byte{"timestamp.json": []byte("{not json")}, nil
		})
		_, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
		if err == nil || (errkind.Of(err) != errkind.Input && errkind.Of(err) != errkind.Verification) {
			t.Fatalf("corrupt timestamp: %v (kind %d)", err, errkind.Of(err))
		}
		_, err = app.Sign(context.Background(), pub.deps, app.SignRequest{Tags: []string{repo + ":v1"}})
		wantFail(t, err, errkind.Input, "corrupt")
	})
}

func TestUnreachableRegistryIsARegistryProblem(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := newPerson(t)
	_, err = app.Verify(context.Background(), p.deps, app.VerifyRequest{Tag: addr + "/team/app:v1"})
	wantFail(t, err, errkind.Registry)
}

func TestRootFileThatIsMissingIsBadInput(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		_, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: filepath.Join(t.TempDir(), "none.json")})
		wantFail(t, err, errkind.Input)
		_ = os.Remove
	})
}

func fortyZeros() string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
