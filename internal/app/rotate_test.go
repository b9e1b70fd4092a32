package app_test

import (
	"context"
	"crypto"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// softSigner returns the signer of a software key in p's keystore, as
// someone who copied the key file and its passphrase would have it.
func softSigner(t *testing.T, p *person, keyName string) signature.Signer {
	t.Helper()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ks.PrivateKey(context.Background(), keyName)
	if err != nil {
		t.Fatalf("key %s: %v", keyName, err)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pushUnsigned uploads a new image to tag without signing it.
func pushUnsigned(t *testing.T, p *person, tag string) v1.Descriptor {
	t.Helper()
	tg, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := p.deps.Registry.PushImage(context.Background(), ociLayout(t), tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// forge publishes, straight to the registry, targets metadata that adds
// tag -> desc signed by targetsKey, with a fresh snapshot and timestamp
// signed by the online keys: what an attacker holding those keys can do.
func forge(t *testing.T, repo, tag string, desc v1.Descriptor, targetsKey, snapshotKey, timestampKey signature.Signer) {
	t.Helper()
	republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
		ts, err := metadata.Timestamp().FromBytes(files["timestamp.json"])
		if err != nil {
			t.Fatal(err)
		}
		snap, err := metadata.Snapshot().FromBytes(files[fmt.Sprintf("%d.snapshot.json", ts.Signed.Meta["snapshot.json"].Version)])
		if err != nil {
			t.Fatal(err)
		}
		tg, err := metadata.Targets().FromBytes(files[fmt.Sprintf("%d.targets.json", snap.Signed.Meta["targets.json"].Version)])
		if err != nil {
			t.Fatal(err)
		}
		f := metadata.TargetFile()
		f.Path, f.Length = tag, desc.Size
		if f.Hashes["sha256"], err = hex.DecodeString(desc.Digest.Hex); err != nil {
			t.Fatal(err)
		}
		tg.Signed.Targets[tag] = f
		tg.Signed.Version++
		tg.ClearSignatures()
		mustSign(t, tg, targetsKey)
		tgData, _ := tg.ToBytes(false)
		snap.Signed.Version++
		snap.Signed.Meta["targets.json"] = metadata.MetaFile(tg.Signed.Version)
		snap.ClearSignatures()
		mustSign(t, snap, snapshotKey)
		snapData, _ := snap.ToBytes(false)
		ts.Signed.Version++
		ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(snap.Signed.Version)
		ts.ClearSignatures()
		mustSign(t, ts, timestampKey)
		tsData, _ := ts.ToBytes(false)
		return map[string][]byte{
			fmt.Sprintf("%d.targets.json", tg.Signed.Version):    tgData,
			fmt.Sprintf("%d.snapshot.json", snap.Signed.Version): snapData,
			"timestamp.json": tsData,
		}, nil
	})
}

func mustSign[T metadata.Roles](t *testing.T, m *metadata.Metadata[T], s signature.Signer) {
	t.Helper()
	if _, err := m.Sign(s); err != nil {
		t.Fatal(err)
	}
}

func pinnedVerify(t *testing.T, tag, root string) (*app.VerifyResult, error) {
	t.Helper()
	return app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: tag, RootFile: root})
}

// pinnedCheck returns a check that pushes repo:tag with pub, then verifies
// it with a fresh client pinned to repo's root version 1 (which must end
// at root version wantRoot) and with tuf-js (script), from the same root.
func pinnedCheck(t *testing.T, pub *person, host, repo, script string) func(tag string, wantRoot int64) {
	t.Helper()
	root1 := rootFile(t, repo)
	rootJSON, err := os.ReadFile(root1)
	if err != nil {
		t.Fatal(err)
	}
	return func(tag string, wantRoot int64) {
		t.Helper()
		signed := push(t, pub, repo+":"+tag)
		got, err := pinnedVerify(t, repo+":"+tag, root1)
		if err != nil || got.Digest != signed.Signed[0].Digest || got.RootVersion != wantRoot {
			t.Fatalf("pinned client on %s = %+v, %v", tag, got, err)
		}
		js, err := tufjs.Verify(context.Background(), host, strings.TrimPrefix(repo, host+"/"), "_tuf", rootJSON, tag, tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if !js.OK || "sha256:"+js.SHA256 != signed.Signed[0].Digest {
			t.Fatalf("tuf-js on %s = %+v", tag, js)
		}
	}
}

func rotate(t *testing.T, p *person, req app.RotateRequest) *app.RotateResult {
	t.Helper()
	res, err := app.Rotate(context.Background(), p.deps, req)
	if err != nil {
		t.Fatalf("rotate %s: %v", req.Role, err)
	}
	return res
}

func TestALeakedTargetsKeyIsRotatedOutAndCannotSignAnyMore(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		signedV1 := push(t, pub, repo+":v1")
		root1 := rootFile(t, repo)
		r, _ := registry.ParseRepository(repo)
		// The targets key leaks; the attacker also holds the online keys.
		leaked := softSigner(t, pub, r.Name()+"/targets")
		snapKey := softSigner(t, pub, r.Name()+"/snapshot")
		tsKey := softSigner(t, pub, r.Name()+"/timestamp")

		// Control: before the rotation the leaked key can sign a tag.
		before := pushUnsigned(t, pub, repo+":before")
		forge(t, repo, "before", before, leaked, snapKey, tsKey)
		if _, err := pinnedVerify(t, repo+":before", root1); err != nil {
			t.Fatalf("the forgery helper is broken: a tag signed with the still valid key fails: %v", err)
		}
		if _, err := app.Revoke(ctx, pub.deps, app.RevokeRequest{Tag: repo + ":before"}); err != nil {
			t.Fatal(err)
		}

		// Rotate the targets key with the root key.
		pub.generate("targets-2")
		res := rotate(t, pub, app.RotateRequest{Repository: repo, Role: "targets", AddKeys: []string{"targets-2"}, RemoveKeys: []string{r.Name() + "/targets"}})
		if res.RootVersion != 2 || len(res.Keys) != 1 || res.Keys[0].Name != "targets-2" {
			t.Fatalf("rotate result %+v", res)
		}
		ins, err := app.Inspect(ctx, pub.deps, repo)
		if err != nil {
			t.Fatal(err)
		}
		if ins.Roles[0].Name != "root" || ins.Roles[0].Version != 2 || ins.Roles[1].Keys[0].Name != "targets-2" {
			t.Fatalf("inspect roles %+v", ins.Roles)
		}

		// Tags re-signed with the new key verify for a client of root 1.
		signedV2 := push(t, pub, repo+":v2")
		for tag, want := range map[string]string{"v1": signedV1.Signed[0].Digest, "v2": signedV2.Signed[0].Digest} {
			got, err := pinnedVerify(t, repo+":"+tag, root1)
			if err != nil || got.Digest != want || got.RootVersion != 2 {
				t.Fatalf("verify %s after rotation = %+v, %v", tag, got, err)
			}
		}

		// A tag signed afterwards with the leaked key fails.
		evil := pushUnsigned(t, pub, repo+":evil")
		forge(t, repo, "evil", evil, leaked, snapKey, tsKey)
		_, err = pinnedVerify(t, repo+":evil", root1)
		wantFail(t, err, errkind.Verification, "untrusted signature", "targets")
	})
}

func TestRootRotatesFromOneOfOneToTwoOfThreeAndBack(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		check := pinnedCheck(t, pub, host, repo, script)
		for _, k := range []string{"root-a", "root-b", "root-c"} {
			pub.generate(k)
		}
		res := rotate(t, pub, app.RotateRequest{Repository: repo, Role: "root",
			AddKeys: []string{"root-a", "root-b", "root-c"}, RemoveKeys: []string{"root"}, Threshold: 2})
		if res.RootVersion != 2 || res.Threshold != 2 || len(res.Keys) != 3 {
			t.Fatalf("2 of 3: %+v", res)
		}
		check("v2", 2)
		res = rotate(t, pub, app.RotateRequest{Repository: repo, Role: "root",
			AddKeys: []string{"root"}, RemoveKeys: []string{"root-a", "root-b", "root-c"}, Threshold: 1})
		if res.RootVersion != 3 || res.Threshold != 1 || len(res.Keys) != 1 || res.Keys[0].Name != "root" {
			t.Fatalf("back to 1 of 1: %+v", res)
		}
		check("v3", 3)
	})
}

func TestALostRootKeyIsReplacedWithTheBackupRootKey(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := newPerson(t)
		pub.generate("root")
		pub.generate("backup")
		in, err := app.Init(ctx, pub.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root", "backup"}})
		if err != nil {
			t.Fatal(err)
		}
		lostID := in.Keys[0].KeyID
		push(t, pub, repo+":v1")
		root1 := rootFile(t, repo)
		loseKey(t, pub, "root")

		pub.generate("new-root")
		res := rotate(t, pub, app.RotateRequest{Repository: repo, Role: "root", AddKeys: []string{"new-root"}, RemoveKeys: []string{lostID[:16]}})
		if res.RootVersion != 2 || len(res.Keys) != 2 {
			t.Fatalf("rotate = %+v", res)
		}
		for _, k := range res.Keys {
			if k.KeyID == lostID {
				t.Fatalf("the lost key is still a root key: %+v", res.Keys)
			}
		}
		if _, err := pinnedVerify(t, repo+":v1", root1); err != nil {
			t.Fatalf("pinned client after replacing the lost key: %v", err)
		}
	})
}

func TestALostOnlyRootKeyCannotBeRecoveredAndSignetSaysWhatToDo(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		loseKey(t, pub, "root")
		pub.generate("new-root")
		_, err := app.Rotate(context.Background(), pub.deps, app.RotateRequest{Repository: repo, Role: "root", AddKeys: []string{"new-root"}})
		r, _ := registry.ParseRepository(repo)
		wantFail(t, err, errkind.Key, "0 of 1 keys of root version 1 at hand", "--stage FILE", "cannot be recovered",
			"signet trust forget "+r.Name(), "signet trust pin "+r.Name()+" --root FILE")
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error is not one line: %q", err)
		}
		// Nothing was published.
		ins, err := app.Inspect(context.Background(), pub.deps, repo)
		if err != nil || ins.Roles[0].Version != 1 {
			t.Fatalf("inspect after a refused rotation: %+v, %v", ins, err)
		}
	})
}

func TestRotateRefusesBadRequestsAsInput(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		pub.generate("spare")
		for _, tc := range []struct {
			req  app.RotateRequest
			want string
		}{
			{app.RotateRequest{Role: "root", Threshold: 3}, "above the number of root keys"},
			{app.RotateRequest{Role: "root", RemoveKeys: []string{"root"}}, "last root key"},
			{app.RotateRequest{Role: "targets", RemoveKeys: []string{"spare"}}, "not a targets key"},
			{app.RotateRequest{Role: "nosuch", AddKeys: []string{"spare"}}, "no role nosuch"},
			{app.RotateRequest{Role: "root", RemoveKeys: []string{"no-such-key"}}, "--remove-key no-such-key"},
		} {
			tc.req.Repository = repo
			_, err := app.Rotate(context.Background(), pub.deps, tc.req)
			wantFail(t, err, errkind.Input, tc.want)
		}
	})
}

// loseKey deletes a key from p's keystore, as a lost YubiKey or disk.
func loseKey(t *testing.T, p *person, keyName string) {
	t.Helper()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Delete(keyName); err != nil {
		t.Fatal(err)
	}
}

// exportPublic writes p's public key keyName to DIR/NAME.pub, as `signet
// key export NAME` does, and returns the path.
func exportPublic(t *testing.T, p *person, keyName string) string {
	t.Helper()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	pem, err := ks.PublicPEM(keyName)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), keyName+".pub")
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
