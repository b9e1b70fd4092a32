package tuf_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/verify"
)

func keyID(t *testing.T, k *metadata.Key) string {
	t.Helper()
	id, err := k.ID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// rotate applies a rotation and publishes it with keys.
func rotate(t *testing.T, f *fixture, keys tuf.Keyring, rot tuf.Rotation) error {
	t.Helper()
	_, err := tuf.Update(context.Background(), f.store, keys, func(r *tuf.Repo) error {
		return r.Rotate(context.Background(), rot)
	}, tuf.TrustStoredRoot())
	return err
}

// pinnedVerify verifies tag for a client that pinned root version 1.
func pinnedVerify(t *testing.T, f *fixture, root1 []byte, tag string) (*verify.Result, error) {
	t.Helper()
	view, err := f.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return verify.Target(context.Background(), view, tag, verify.WithTrustDir(filepath.Join(t.TempDir(), "trust")), verify.WithRoot(root1))
}

// without returns a keyring holding the keys of k except those given.
func without(t *testing.T, k *testKeyring, drop ...*metadata.Key) *testKeyring {
	out := newKeyring()
	for id, s := range k.signers {
		out.signers[id] = s
	}
	for _, d := range drop {
		delete(out.signers, keyID(t, d))
	}
	return out
}

func TestRotateTargetsKeyMakesANewRootAndResignsTargetsWithTheNewKey(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	root1 := f.store.Files()["1.root.json"]
	newKey := f.keys.add(t)
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "targets", Add: []*metadata.Key{newKey}, Remove: []string{keyID(t, f.targets)}}); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	files := f.store.Files()
	if _, ok := files["2.root.json"]; !ok {
		t.Fatalf("no root version 2: %v", sortedKeys(files))
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	ids, th := r.RoleKeyIDs("targets")
	if len(ids) != 1 || ids[0] != keyID(t, newKey) || th != 1 {
		t.Fatalf("targets keys = %v/%d", ids, th)
	}
	sigs := r.Targets().Signatures
	if len(sigs) != 1 || sigs[0].KeyID != keyID(t, newKey) {
		t.Fatalf("targets signed by %v, want the new key", sigs)
	}
	if _, err := pinnedVerify(t, f, root1, "v1"); err != nil {
		t.Fatalf("client pinned to root 1 after rotation: %v", err)
	}
}

func TestRotateRootNeedsAThresholdOfTheOldAndOfTheNewRootKeys(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	root1 := f.store.Files()["1.root.json"]
	a, b, c := f.keys.add(t), f.keys.add(t), f.keys.add(t)
	// 1-of-1 -> 2-of-3 without the old key: signed by old root + two new.
	err := rotate(t, f, f.keys, tuf.Rotation{Role: "root", Add: []*metadata.Key{a, b, c}, Remove: []string{keyID(t, f.root)}, Threshold: 2})
	if err != nil {
		t.Fatalf("rotate to 2 of 3: %v", err)
	}
	r2, err := metadata.Root().FromBytes(f.store.Files()["2.root.json"])
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Signatures) != 3 {
		t.Fatalf("root 2 has %d signatures, want the old key and two new", len(r2.Signatures))
	}
	addTarget(t, f, target("v1", 1))
	if _, err := pinnedVerify(t, f, root1, "v1"); err != nil {
		t.Fatalf("client pinned to root 1: %v", err)
	}

	// Back to 1-of-1 with only one of the three at hand: refused, naming
	// what is missing, and nothing is published.
	before := len(f.store.Files())
	only := without(t, f.keys, b, c)
	err = rotate(t, f, only, tuf.Rotation{Role: "root", Remove: []string{keyID(t, b), keyID(t, c)}, Threshold: 1})
	var mk *tuf.MissingKeysError
	if !errors.As(err, &mk) || !errors.Is(err, tuf.ErrMissingSignatures) || errkind.Of(err) != errkind.Key {
		t.Fatalf("rotate back with one key: %v", err)
	}
	if !strings.Contains(err.Error(), "1 of 2 keys of root version 2 at hand") {
		t.Fatalf("error does not say what is missing: %v", err)
	}
	if len(f.store.Files()) != before {
		t.Fatal("a failed rotation published something")
	}
	// With two of them it works, and the pinned client follows.
	if err := rotate(t, f, without(t, f.keys, c), tuf.Rotation{Role: "root", Remove: []string{keyID(t, b), keyID(t, c)}, Threshold: 1}); err != nil {
		t.Fatalf("rotate back to 1 of 1: %v", err)
	}
	addTarget(t, f, target("v2", 2))
	if _, err := pinnedVerify(t, f, root1, "v2"); err != nil {
		t.Fatalf("client pinned to root 1 after two rotations: %v", err)
	}
}

func TestRotateRefusesBadChanges(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	extra := f.keys.add(t)
	for _, tc := range []struct {
		name string
		rot  tuf.Rotation
		want string
	}{
		{"threshold above keys", tuf.Rotation{Role: "root", Threshold: 2}, "above the number of root keys"},
		{"remove the last key", tuf.Rotation{Role: "targets", Remove: []string{keyID(t, f.targets)}}, "last targets key"},
		{"remove a key the role lacks", tuf.Rotation{Role: "snapshot", Remove: []string{keyID(t, extra)}}, "not a snapshot key"},
		{"add a key twice", tuf.Rotation{Role: "timestamp", Add: []*metadata.Key{f.tstamp}}, "already a timestamp key"},
		{"negative threshold", tuf.Rotation{Role: "root", Threshold: -1}, "at least 1"},
		{"unknown role", tuf.Rotation{Role: "nosuch", Add: []*metadata.Key{extra}}, "no role nosuch"},
		{"nothing for snapshot", tuf.Rotation{Role: "snapshot"}, "nothing to rotate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rotate(t, f, f.keys, tc.rot)
			if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (kind %d), want input error saying %q", err, errkind.Of(err), tc.want)
			}
		})
	}
	if _, ok := f.store.Files()["2.root.json"]; ok {
		t.Fatal("a refused rotation published a root")
	}
}

func TestRotateSnapshotAndTimestampKeysSignsThemWithTheNewKeys(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	root1 := f.store.Files()["1.root.json"]
	snap, ts := f.keys.add(t), f.keys.add(t)
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "snapshot", Add: []*metadata.Key{snap}, Remove: []string{keyID(t, f.snapshot)}}); err != nil {
		t.Fatal(err)
	}
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "timestamp", Add: []*metadata.Key{ts}, Remove: []string{keyID(t, f.tstamp)}}); err != nil {
		t.Fatal(err)
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	if r.Root().Signed.Version != 3 || r.Timestamp().Signatures[0].KeyID != keyID(t, ts) || r.Snapshot().Signatures[0].KeyID != keyID(t, snap) {
		t.Fatalf("root %d, snapshot by %s, timestamp by %s", r.Root().Signed.Version, r.Snapshot().Signatures[0].KeyID, r.Timestamp().Signatures[0].KeyID)
	}
	if _, err := pinnedVerify(t, f, root1, "v1"); err != nil {
		t.Fatalf("pinned client after rotating the online keys: %v", err)
	}
}

func TestRotateWithNoChangeResignsRootAndTargets(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "root"}); err != nil {
		t.Fatal(err)
	}
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "targets"}); err != nil {
		t.Fatal(err)
	}
	files := f.store.Files()
	if _, ok := files["2.root.json"]; !ok {
		t.Fatalf("root not re-signed: %v", sortedKeys(files))
	}
	if _, ok := files["2.targets.json"]; !ok {
		t.Fatalf("targets not re-signed: %v", sortedKeys(files))
	}
	if _, ok := files["3.root.json"]; ok {
		t.Fatal("re-signing targets made a new root")
	}
}

func TestRotateADelegationKeyChangesTargetsAndResignsTheRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	root1 := f.store.Files()["1.root.json"]
	ci, ci2 := f.keys.add(t), f.keys.add(t)
	_, err := tuf.Update(ctx, f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddDelegation("ci", []*metadata.Key{ci}, []string{"v*"}, 1, false)
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatalf("delegate: %v", err)
	}
	_, err = tuf.Update(ctx, f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(ctx, "ci", []tuf.Target{target("v1", 1)})
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatalf("sign into ci: %v", err)
	}
	if err := rotate(t, f, f.keys, tuf.Rotation{Role: "ci", Add: []*metadata.Key{ci2}, Remove: []string{keyID(t, ci)}}); err != nil {
		t.Fatalf("rotate ci: %v", err)
	}
	if _, ok := f.store.Files()["2.root.json"]; ok {
		t.Fatal("a delegation rotation made a new root")
	}
	r, err := tuf.Open(ctx, f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	ds, err := r.Delegations(ctx)
	if err != nil || len(ds) != 1 || len(ds[0].KeyIDs) != 1 || ds[0].KeyIDs[0] != keyID(t, ci2) || ds[0].Signatures != 1 || ds[0].Targets != 1 {
		t.Fatalf("delegations after rotation = %+v, %v", ds, err)
	}
	got, err := pinnedVerify(t, f, root1, "v1")
	if err != nil || got.Role != "ci" {
		t.Fatalf("verify v1 after rotating ci = %+v, %v", got, err)
	}
	// The old ci key alone can no longer sign into the role.
	_, err = tuf.Update(ctx, f.store, only(t, f.keys, ci, f.snapshot, f.tstamp), func(r *tuf.Repo) error {
		return r.AddTargets(ctx, "ci", []tuf.Target{target("v2", 2)})
	}, tuf.TrustStoredRoot())
	if err == nil {
		t.Fatal("the rotated-out ci key still signs")
	}
}
