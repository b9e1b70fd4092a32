package app_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// forgery is issue 13's hostile registry: it replaces the trust data of a
// repository with its own 1.root.json, self-signed by an attacker key,
// that lists the owners' real targets, snapshot and timestamp keys plus
// the attacker's (and the attacker's alone for root), and targets,
// snapshot and timestamp signed by the attacker with an extra tag "evil".
type forgery struct {
	real map[string][]byte // the files the registry held before
	evil string            // digest of the attacker's image
}

func forgeRegistry(t *testing.T, repo string) *forgery {
	t.Helper()
	evilDigest, evilSize := rawImage(t, repo+":evil") // the attacker's image, tagged
	f := &forgery{real: snapshotFiles(t, repo), evil: evilDigest.String()}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	key, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}

	realRoot := latestRoot(t, f.real)
	root := metadata.Root(time.Now().Add(365 * 24 * time.Hour))
	for _, role := range []string{metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		for _, kid := range realRoot.Signed.Roles[role].KeyIDs {
			if err := root.Signed.AddKey(realRoot.Signed.Keys[kid], role); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := root.Signed.AddKey(key, role); err != nil {
			t.Fatal(err)
		}
	}
	put := map[string][]byte{"1.root.json": sign(t, root, s)}

	tsReal, err := metadata.Timestamp().FromBytes(f.real["timestamp.json"])
	if err != nil {
		t.Fatal(err)
	}
	snapName := versionedName(tsReal.Signed.Meta["snapshot.json"].Version, "snapshot")
	snapReal, err := metadata.Snapshot().FromBytes(f.real[snapName])
	if err != nil {
		t.Fatal(err)
	}
	tv := snapReal.Signed.Meta["targets.json"].Version
	targets, err := metadata.Targets().FromBytes(f.real[versionedName(tv, "targets")])
	if err != nil {
		t.Fatal(err)
	}
	targets.Signed.Version = tv + 1
	hashBytes, err := hex.DecodeString(evilDigest.Hex)
	if err != nil {
		t.Fatal(err)
	}
	targets.Signed.Targets["evil"] = &metadata.TargetFiles{Length: evilSize, Hashes: metadata.Hashes{"sha256": hashBytes}}
	targetsData := sign(t, targets, s)
	put[versionedName(tv+1, "targets")] = targetsData

	snap := snapReal
	snap.Signed.Version++
	snap.Signed.Meta["targets.json"] = metaOf(tv+1, targetsData)
	snapData := sign(t, snap, s)
	put[versionedName(snap.Signed.Version, "snapshot")] = snapData

	ts := tsReal
	ts.Signed.Version++
	ts.Signed.Meta["snapshot.json"] = metaOf(snap.Signed.Version, snapData)
	put["timestamp.json"] = sign(t, ts, s)

	var remove []string
	for name := range f.real {
		if strings.HasSuffix(name, ".root.json") && name != "1.root.json" {
			remove = append(remove, name)
		}
	}
	republish(t, repo, func(map[string][]byte) (map[string][]byte, []string) { return put, remove })
	return f
}

func sign[T metadata.Roles](t *testing.T, m *metadata.Metadata[T], s signature.Signer) []byte {
	t.Helper()
	m.ClearSignatures()
	if _, err := m.Sign(s); err != nil {
		t.Fatal(err)
	}
	data, err := m.ToBytes(false)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func metaOf(v int64, data []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(data)
	return &metadata.MetaFiles{Version: v, Length: int64(len(data)), Hashes: metadata.Hashes{"sha256": sum[:]}}
}

func versionedName(v int64, role string) string {
	return strconv.FormatInt(v, 10) + "." + role + ".json"
}

// rawImage pushes a new random image to tag with plain registry calls,
// signing nothing, and returns its digest and size.
func rawImage(t *testing.T, tag string) (v1.Hash, int64) {
	t.Helper()
	img := registrytest.RandomImage(t, 256, 1)
	tg, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tg, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	size, err := img.Size()
	if err != nil {
		t.Fatal(err)
	}
	return d, size
}

func latestRoot(t *testing.T, files map[string][]byte) *metadata.Metadata[metadata.RootType] {
	t.Helper()
	var best *metadata.Metadata[metadata.RootType]
	for name, data := range files {
		if !strings.HasSuffix(name, ".root.json") {
			continue
		}
		r, err := metadata.Root().FromBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		if best == nil || r.Signed.Version > best.Signed.Version {
			best = r
		}
	}
	return best
}

// TestOwnersRefuseToSignOnTopOfAForgedRoot is issue 13's first two attacks
// on the publishing side: every publishing command of the owner exits 1
// naming the forgery, and publishes nothing.
func TestOwnersRefuseToSignOnTopOfAForgedRoot(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		pub.generate("ci")
		stage := filepath.Join(t.TempDir(), "ceremony.json")
		if _, err := app.Rotate(ctx, pub.deps, app.RotateRequest{Repository: repo, Role: "root", Stage: stage}); err != nil {
			t.Fatalf("stage: %v", err)
		}
		real := rootFile(t, repo)
		forgeRegistry(t, repo)
		rawImage(t, repo+":v2-image")
		before := currentDigest(t, tufTag(t, repo))

		attempts := map[string]func() error{
			"sign": func() error {
				_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":v2-image"}})
				return err
			},
			"push": func() error {
				_, err := app.Push(ctx, pub.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v3"})
				return err
			},
			"revoke": func() error {
				_, err := app.Revoke(ctx, pub.deps, app.RevokeRequest{Tag: repo + ":v1"})
				return err
			},
			"refresh": func() error {
				_, err := app.Refresh(ctx, pub.deps, repo)
				return err
			},
			"rotate": func() error {
				_, err := app.Rotate(ctx, pub.deps, app.RotateRequest{Repository: repo, Role: "timestamp", AddKeys: []string{"ci"}})
				return err
			},
			"delegate add": func() error {
				_, err := app.DelegateAdd(ctx, pub.deps, app.DelegateAddRequest{Repository: repo, Name: "ci", KeyRefs: []string{"ci"}})
				return err
			},
			"ceremony publish": func() error {
				_, err := app.CeremonyPublish(ctx, pub.deps, stage)
				return err
			},
		}
		for name, run := range attempts {
			err := run()
			if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "forged trust data") {
				t.Errorf("%s on a forged root: %v, want exit 1 naming the forged trust data", name, err)
			}
			if now := currentDigest(t, tufTag(t, repo)); now != before {
				t.Fatalf("%s published on top of a forged root: _tuf moved from %s to %s", name, before, now)
			}
		}

		// A consumer with the real root never verifies the attacker's tag.
		_, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":evil", RootFile: real})
		wantFail(t, err, errkind.Verification)
	})
}

// TestAPublisherWithNoTrustedRootRefusesToSign: no trust on first use
// before a key signs.
func TestAPublisherWithNoTrustedRootRefusesToSign(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		stranger := newPerson(t)
		stranger.generate("k")
		_, err := app.Sign(ctx, stranger.deps, app.SignRequest{Tags: []string{repo + ":v1"}, Key: "k"})
		wantFail(t, err, errkind.Verification, "no root of", "pin the root first")
	})
}

// TestRootFileBeatsARootTrustedOnFirstUse is issue 13's third attack: a
// home that trusted a forged root on first use is corrected by --root.
func TestRootFileBeatsARootTrustedOnFirstUse(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		real := rootFile(t, repo)
		f := forgeRegistry(t, repo)

		victim := newPerson(t)
		if _, err := app.Verify(ctx, victim.deps, app.VerifyRequest{Tag: repo + ":evil"}); err != nil {
			t.Fatalf("the forged chain should verify on first use (that is what TOFU means): %v", err)
		}
		_, err := app.Verify(ctx, victim.deps, app.VerifyRequest{Tag: repo + ":evil", RootFile: real})
		wantFail(t, err, errkind.Verification)
		if !hasNotice(victim, "does not descend from --root") {
			t.Fatalf("no notice that the stored root was discarded: %q", victim.notices)
		}

		// The registry is put right: the victim verifies again from --root.
		republish(t, repo, func(now map[string][]byte) (map[string][]byte, []string) {
			var rm []string
			for name := range now {
				if _, ok := f.real[name]; !ok {
					rm = append(rm, name)
				}
			}
			return f.real, rm
		})
		if _, err := app.Verify(ctx, victim.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: real}); err != nil {
			t.Fatalf("verify after the registry was put right: %v", err)
		}
		if _, err := app.Verify(ctx, victim.deps, app.VerifyRequest{Tag: repo + ":evil"}); err == nil {
			t.Fatal("the home still verifies the attacker's tag")
		}
	})
}

// TestTufJSRefusesTheAttackersTagFromTheRealRoot: an independent client
// agrees that the forged chain does not verify from the real root.
func TestTufJSRefusesTheAttackersTagFromTheRealRoot(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	ctx := context.Background()
	repo := uniqueRepo(t, host)
	pub := initRepo(t, repo)
	push(t, pub, repo+":v1")
	rootJSON, err := os.ReadFile(rootFile(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	forgeRegistry(t, repo)
	res, err := tufjs.Verify(ctx, host, strings.TrimPrefix(repo, host+"/"), "_tuf", rootJSON, "evil", tufjs.WithScript(script))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK {
		t.Fatalf("tuf-js accepted the attacker's tag from the real root: %+v", res)
	}
}

func hasNotice(p *person, words string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.notices {
		if strings.Contains(n, words) {
			return true
		}
	}
	return false
}

// TestARepositoryWithTwoThousandRootsIsRefusedQuicklyByEveryCommand is
// issue 13's seventh attack: a registry lists 2,000 root versions. Every
// command refuses by the file names, before reading a single new root.
func TestARepositoryWithTwoThousandRootsIsRefusedQuicklyByEveryCommand(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	ctx := context.Background()
	repo := uniqueRepo(t, host)
	pub := initRepo(t, repo)
	push(t, pub, repo+":v1")
	real := rootFile(t, repo)
	republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
		put := map[string][]byte{}
		for v := 2; v <= 2000; v++ { // one blob: the registry stores it once
			put[strconv.Itoa(v)+".root.json"] = files["1.root.json"]
		}
		return put, nil
	})
	before := currentDigest(t, tufTag(t, repo))
	consumer := newPerson(t)
	commands := map[string]func() error{
		"verify": func() error {
			_, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: real})
			return err
		},
		"sign": func() error {
			_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":v1"}})
			return err
		},
		"status": func() error {
			_, err := app.Status(ctx, pub.deps, repo)
			return err
		},
		"inspect (nothing pinned)": func() error {
			_, err := app.Inspect(ctx, newPerson(t).deps, repo)
			return err
		},
		"refresh": func() error {
			_, err := app.Refresh(ctx, pub.deps, repo)
			return err
		},
	}
	for name, run := range commands {
		start := time.Now()
		err := run()
		t.Logf("%s refused 2,000 roots in %v", name, time.Since(start).Round(time.Millisecond))
		wantFail(t, err, errkind.Verification, "endless data attack", "more than 256")
	}
	if now := currentDigest(t, tufTag(t, repo)); now != before {
		t.Fatal("a command published on top of 2,000 roots")
	}
}

// TestAFastForwardedTimestampIsRefusedThenRecoveredByRotatingItsKey is
// issue 13's sixth attack: a thief of the timestamp key publishes the
// largest version. status flags it, refresh refuses to overflow, rotating
// the key restarts the versions and pinned consumers verify again.
func TestAFastForwardedTimestampIsRefusedThenRecoveredByRotatingItsKey(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		root := rootFile(t, repo)
		consumer := newPerson(t)
		if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root}); err != nil {
			t.Fatal(err)
		}

		// The thief signs timestamp version 2^63-1 with the stolen key.
		ks, err := pub.deps.Keystore()
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ks.PrivateKey(ctx, repo+"/timestamp")
		if err != nil {
			t.Fatal(err)
		}
		s, err := signature.LoadSigner(priv, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		republish(t, repo, func(files map[string][]byte) (map[string][]byte, []string) {
			ts, err := metadata.Timestamp().FromBytes(files["timestamp.json"])
			if err != nil {
				t.Fatal(err)
			}
			ts.Signed.Version = math.MaxInt64
			return map[string][]byte{"timestamp.json": sign(t, ts, s)}, nil
		})
		if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root}); err != nil {
			t.Fatalf("the fast-forwarded timestamp is validly signed: %v", err)
		}

		st, err := app.Status(ctx, pub.deps, repo)
		if err != nil || st.FastForwarded != 1 {
			t.Fatalf("status = %+v, %v: want the timestamp flagged", st, err)
		}
		before := currentDigest(t, tufTag(t, repo))
		_, err = app.Refresh(ctx, pub.deps, repo)
		wantFail(t, err, errkind.Verification, "timestamp version was fast-forwarded to 9223372036854775807: rotate the timestamp key, see docs/rotation.md")
		if currentDigest(t, tufTag(t, repo)) != before {
			t.Fatal("refresh published an overflowed version")
		}

		pub.generate("ts-2")
		pub.generate("snap-2")
		if _, err := app.Rotate(ctx, pub.deps, app.RotateRequest{Repository: repo, Role: "snapshot,timestamp", AddKeys: []string{"snap-2", "ts-2"}}); err != nil {
			t.Fatalf("rotating the online keys: %v", err)
		}
		st, err = app.Status(ctx, pub.deps, repo)
		if err != nil || st.FastForwarded != 0 {
			t.Fatalf("status after the rotation = %+v, %v", st, err)
		}
		for _, r := range st.Roles {
			if (r.Role == "timestamp" || r.Role == "snapshot") && (r.Version < 1 || r.Version > 2) {
				t.Fatalf("%s version %d after the rotation, want it restarted", r.Role, r.Version)
			}
		}
		if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root}); err != nil {
			t.Fatalf("pinned consumer after the rotation: %v", err)
		}
		push(t, pub, repo+":v2")
		if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v2", RootFile: root}); err != nil {
			t.Fatalf("pinned consumer, next push: %v", err)
		}
	})
}

// TestACeremonySignerRefusesAProposalOnARootItDoesNotTrust: a key signs
// no proposal staged on a root other than the one its machine trusts.
func TestACeremonySignerRefusesAProposalOnARootItDoesNotTrust(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	ctx := context.Background()
	repo := uniqueRepo(t, host)
	pub := initRepo(t, repo)
	stage := filepath.Join(t.TempDir(), "ceremony.json")
	if _, err := app.Rotate(ctx, pub.deps, app.RotateRequest{Repository: repo, Role: "root", Stage: stage}); err != nil {
		t.Fatal(err)
	}
	other := uniqueRepo(t, host)
	initRepo(t, other)
	signer := newPerson(t)
	signer.generate("root")
	pin(t, signer, repo, rootFile(t, other)) // this machine trusts another root of R
	_, err := app.CeremonySign(ctx, signer.deps, app.CeremonySignRequest{File: stage, Key: "root"})
	wantFail(t, err, errkind.Verification, "forged trust data", "is not the root this machine trusts")
}
