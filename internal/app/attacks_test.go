package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

func TestInitPushVerifyInspectRevokePull(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		signed := push(t, pub, repo+":v1")
		if len(signed.Signed) != 1 || signed.Signed[0].Role != "targets" {
			t.Fatalf("push result %+v", signed)
		}

		// A consumer pins the root it was handed and verifies.
		root := rootFile(t, repo)
		consumer := newPerson(t)
		got, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if got.Digest != signed.Signed[0].Digest || got.TOFU {
			t.Fatalf("verify = %+v, pushed %+v", got, signed.Signed[0])
		}

		// sign of a tag pushed by other means, then inspect shows both.
		other := push(t, pub, repo+":v2")
		if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":v2"}}); err != nil {
			t.Fatalf("sign: %v", err)
		}
		ins, err := app.Inspect(ctx, pub.deps, repo)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins.Targets) != 2 || ins.Targets[1].Name != "v2" || "sha256:"+ins.Targets[1].SHA256 != other.Signed[0].Digest {
			t.Fatalf("inspect targets %+v", ins.Targets)
		}
		if ins.Roles[0].Name != "root" || ins.Roles[0].Keys[0].Name != "root" {
			t.Fatalf("inspect roles %+v", ins.Roles)
		}

		// pull by the verified digest into an OCI layout.
		dir := t.TempDir()
		if _, err := app.Pull(ctx, consumer.deps, app.PullRequest{Tag: repo + ":v1", To: "oci:" + dir}); err != nil {
			t.Fatalf("pull: %v", err)
		}
		if idx, err := os.ReadFile(filepath.Join(dir, "index.json")); err != nil || !strings.Contains(string(idx), strings.TrimPrefix(got.Digest, "sha256:")) {
			t.Fatalf("pulled layout lacks %s: %s %v", got.Digest, idx, err)
		}

		// revoke: verify of v1 now fails, v2 still passes.
		if _, err := app.Revoke(ctx, pub.deps, app.RevokeRequest{Tag: repo + ":v1"}); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		_, err = app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1"})
		wantFail(t, err, errkind.Verification, "not signed")
		if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v2"}); err != nil {
			t.Fatalf("verify v2 after revoking v1: %v", err)
		}
	})
}

func TestPushFromADockerSaveTarball(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		tar := filepath.Join(t.TempDir(), "image.tar")
		writeDockerSave(t, tar)
		res, err := app.Push(context.Background(), pub.deps, app.PushRequest{Source: "tar:" + tar, Tag: repo + ":fromtar"})
		if err != nil {
			t.Fatalf("push tar: %v", err)
		}
		got, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":fromtar", RootFile: rootFile(t, repo)})
		if err != nil || got.Digest != res.Signed[0].Digest {
			t.Fatalf("verify = %+v, %v", got, err)
		}
	})
}

func TestFirstContactIsTrustOnFirstUseAndSaysSo(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		c := newPerson(t)
		got, err := app.Verify(context.Background(), c.deps, app.VerifyRequest{Tag: repo + ":v1"})
		if err != nil || !got.TOFU {
			t.Fatalf("first verify = %+v, %v", got, err)
		}
		if len(c.notices) != 1 || !strings.Contains(c.notices[0], "first use") {
			t.Fatalf("notices = %q", c.notices)
		}
		got, err = app.Verify(context.Background(), c.deps, app.VerifyRequest{Tag: repo + ":v1"})
		if err != nil || got.TOFU {
			t.Fatalf("second verify = %+v, %v", got, err)
		}
	})
}

func TestVerifyRefusesAMovedTag(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		other := push(t, pub, repo+":v2")
		rawTag(t, repo+":v1", mustHash(t, other.Signed[0].Digest))
		_, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
		wantFail(t, err, errkind.Verification, "tag moved")
	})
}

func TestVerifyRefusesATamperedTargetsFile(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		evil := push(t, pub, repo+":evil")
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			name := "2.targets.json"
			if _, ok := files["3.targets.json"]; ok {
				name = "3.targets.json"
			}
			good := strings.TrimPrefix(pushDigestOf(t, files[name], "v1"), "")
			data := strings.Replace(string(files[name]), good, strings.TrimPrefix(evil.Signed[0].Digest, "sha256:"), 1)
			return map[string][]byte{name: []byte(data)}, nil
		})
		_, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
		wantFail(t, err, errkind.Verification)
		if !strings.Contains(err.Error(), "tampered") && !strings.Contains(err.Error(), "mix-and-match") {
			t.Fatalf("error does not name the attack: %v", err)
		}
	})
}

func TestVerifyRefusesTargetsSignedByAnUntrustedKey(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		root := rootFile(t, repo)

		// An attacker with its own keys makes a repository of its own and
		// copies its trust data over the real one: the consumer's pinned
		// root does not know the attacker's keys.
		attacker := newPerson(t)
		attacker.generate("evil-root")
		evilRepo := uniqueRepo(t, host)
		if _, err := app.Init(ctx, attacker.deps, app.InitRequest{Repository: evilRepo, RootKeys: []string{"evil-root"}}); err != nil {
			t.Fatalf("attacker init: %v", err)
		}
		push(t, attacker, evilRepo+":v1")
		evil := snapshotFiles(t, evilRepo)
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			var rm []string
			for f := range files {
				if _, ok := evil[f]; !ok {
					rm = append(rm, f)
				}
			}
			return evil, rm
		})
		_, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root})
		wantFail(t, err, errkind.Verification, "untrusted signature")
	})
}

func TestVerifyRefusesARollbackOfTheTrustData(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		old := currentDigest(t, tufTag(t, repo))
		push(t, pub, repo+":v2")
		c := newPerson(t)
		root := rootFile(t, repo)
		if _, err := app.Verify(ctx, c.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root}); err != nil {
			t.Fatal(err)
		}
		rawTag(t, tufTag(t, repo), old)
		_, err := app.Verify(ctx, c.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root})
		wantFail(t, err, errkind.Verification, "rollback attack")
	})
}

func TestVerifyRefusesAnExpiredTimestamp(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		c := newPerson(t)
		c.clock = time.Now().Add(8 * 24 * time.Hour) // past the 7-day timestamp
		_, err := app.Verify(context.Background(), c.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
		wantFail(t, err, errkind.Verification, "freeze attack", "timestamp")
	})
}

func TestVerifyRefusesMixAndMatchOfTwoPublishes(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		first := snapshotFiles(t, repo)
		push(t, pub, repo+":v2")
		// Snapshot and timestamp of the second publish, targets of the first.
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			return map[string][]byte{"3.targets.json": first["2.targets.json"]}, nil
		})
		_, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
		wantFail(t, err, errkind.Verification)
		if !strings.Contains(err.Error(), "mix-and-match") && !strings.Contains(err.Error(), "tampered") {
			t.Fatalf("error does not name the attack: %v", err)
		}
	})
}

func TestTufJSAcceptsWhatSignetPublishesAndRejectsTampering(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		signed := push(t, pub, repo+":v1")
		push(t, pub, repo+":v2")
		rootJSON, err := os.ReadFile(rootFile(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(repo, host+"/")
		res, err := tufjs.Verify(ctx, host, path, "_tuf", rootJSON, "v1", tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || "sha256:"+res.SHA256 != signed.Signed[0].Digest || res.Length != signed.Signed[0].Size {
			t.Fatalf("tuf-js = %+v, signed %+v", res, signed.Signed[0])
		}
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			data := strings.Replace(string(files["3.targets.json"]), strings.TrimPrefix(signed.Signed[0].Digest, "sha256:"), strings.Repeat("0", 64), 1)
			return map[string][]byte{"3.targets.json": []byte(data)}, nil
		})
		res, err = tufjs.Verify(ctx, host, path, "_tuf", rootJSON, "v1", tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if res.OK {
			t.Fatalf("tuf-js accepted tampered targets: %+v", res)
		}
	})
}

func snapshotFiles(t *testing.T, repo string) map[string][]byte {
	t.Helper()
	var out map[string][]byte
	republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
		out = files
		return map[string][]byte{"timestamp.json": files["timestamp.json"]}, nil
	})
	return out
}

// pushDigestOf returns the sha256 hex that targets data records for name.
func pushDigestOf(t *testing.T, data []byte, name string) string {
	t.Helper()
	m, err := metadata.Targets().FromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := m.Signed.Targets[name]
	if !ok {
		t.Fatalf("targets has no %s", name)
	}
	return f.Hashes["sha256"].String()
}
