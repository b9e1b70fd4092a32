package tuf_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/verify"
)

// keysOf is a keyring holding only some keys of another keyring, as one
// person (or CI) holds only their own.
type keysOf struct {
	from *testKeyring
	ids  map[string]bool
}

func hold(from *testKeyring, keys ...*metadata.Key) *keysOf {
	k := &keysOf{from: from, ids: map[string]bool{}}
	for _, key := range keys {
		id, _ := key.ID()
		k.ids[id] = true
	}
	return k
}

func (k *keysOf) Signer(ctx context.Context, keyID, role string) (signature.Signer, error) {
	if !k.ids[keyID] {
		return nil, tuf.ErrKeyNotFound
	}
	return k.from.Signer(ctx, keyID, role)
}

func delegKeyID(k *metadata.Key) string { id, _ := k.ID(); return id }

// delegate adds a delegation, published with the keys the owners hold.
func delegate(t *testing.T, f *fixture, owners tuf.Keyring, name string, keys []*metadata.Key, paths []string, threshold int) *tuf.Repo {
	t.Helper()
	r, err := tuf.Update(context.Background(), f.store, owners, func(r *tuf.Repo) error {
		return r.AddDelegation(name, keys, paths, threshold, false)
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatalf("delegate %s: %v", name, err)
	}
	return r
}

// signAs signs targets into the role key holds, with only the keys of kr.
func signAs(f *fixture, kr tuf.Keyring, key *metadata.Key, tgs ...tuf.Target) (*tuf.Repo, string, error) {
	ctx := context.Background()
	var role string
	names := make([]string, len(tgs))
	for i, tg := range tgs {
		names[i] = tg.Name
	}
	r, err := tuf.Update(ctx, f.store, kr, func(r *tuf.Repo) error {
		var err error
		if role, err = r.RoleFor(ctx, delegKeyID(key), names); err != nil {
			return err
		}
		return r.AddTargets(ctx, role, tgs)
	}, tuf.TrustStoredRoot())
	return r, role, err
}

func verifyTag(t *testing.T, f *fixture, name string) (*verify.Result, error) {
	t.Helper()
	view, err := f.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return verify.Target(context.Background(), view, name, verify.WithTrustDir(t.TempDir()))
}

func TestDelegatedKeySignsTagsInItsPathsAndClientsResolveThemToTheRole(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	ci := newKeyring()
	ciKey := ci.add(t)
	owners := hold(f.keys, f.targets, f.snapshot, f.tstamp)
	r := delegate(t, f, owners, "ci-release", []*metadata.Key{ciKey}, []string{"v*"}, 1)
	if p := r.Pending(); len(p) != 1 || p[0].Role != "ci-release" || p[0].Signatures != 0 {
		t.Fatalf("pending after adding a delegation whose key the owners lack = %+v", p)
	}
	if _, ok := f.store.Files()["1.ci-release.json"]; !ok {
		t.Fatalf("the new role's first version is not published: %v", sortedKeys(f.store.Files()))
	}

	// CI holds its key and the online keys, not the targets key.
	ciRing := hold(mergeKeyrings(f.keys, ci), ciKey, f.snapshot, f.tstamp)
	r, role, err := signAs(f, ciRing, ciKey, target("v1.2.3", 1))
	if err != nil || role != "ci-release" {
		t.Fatalf("CI sign: role %q, %v", role, err)
	}
	if p := r.Pending(); len(p) != 0 {
		t.Fatalf("pending after a complete signature = %+v", p)
	}
	got, err := verifyTag(t, f, "v1.2.3")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Role != "ci-release" || got.SHA256 != target("v1.2.3", 1).SHA256 {
		t.Fatalf("verified %+v", got)
	}

	// The same key may not sign a tag outside its paths.
	before := sortedKeys(f.store.Files())
	_, _, err = signAs(f, ciRing, ciKey, target("latest", 2))
	if !errors.Is(err, tuf.ErrNotAllowed) || errkind.Of(err) != errkind.Verification {
		t.Fatalf("CI signing latest: %v (kind %d)", err, errkind.Of(err))
	}
	if after := sortedKeys(f.store.Files()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("a refused sign changed the files: %v -> %v", before, after)
	}

	// Owners still sign any tag with the targets key.
	addTarget(t, f, target("latest", 3))
	if got, err := verifyTag(t, f, "latest"); err != nil || got.Role != "targets" {
		t.Fatalf("verify latest = %+v, %v", got, err)
	}
}

// mergeKeyrings returns a keyring holding the keys of both.
func mergeKeyrings(a, b *testKeyring) *testKeyring {
	m := newKeyring()
	for id, s := range a.signers {
		m.signers[id] = s
	}
	for id, s := range b.signers {
		m.signers[id] = s
	}
	return m
}

func TestAddDelegationRefusesBadNamesGlobsThresholdsAndDuplicates(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	k1, k2 := f.keys.add(t), f.keys.add(t)
	delegate(t, f, f.keys, "ci", []*metadata.Key{k1}, []string{"v*"}, 1)
	cases := []struct {
		name      string
		keys      []*metadata.Key
		paths     []string
		threshold int
		want      error
	}{
		{"CI", []*metadata.Key{k1}, []string{"v*"}, 1, nil},
		{"ci_x", []*metadata.Key{k1}, []string{"v*"}, 1, nil},
		{"targets", []*metadata.Key{k1}, []string{"v*"}, 1, nil},
		{"snapshot", []*metadata.Key{k1}, []string{"v*"}, 1, nil},
		{"", []*metadata.Key{k1}, []string{"v*"}, 1, nil},
		{"ci", []*metadata.Key{k2}, []string{"v*"}, 1, tuf.ErrDelegationExists},
		{"rel", []*metadata.Key{k1}, []string{"[v"}, 1, nil},
		{"rel", []*metadata.Key{k1}, []string{"a/b"}, 1, nil},
		{"rel", []*metadata.Key{k1}, nil, 1, nil},
		{"rel", nil, []string{"v*"}, 1, nil},
		{"rel", []*metadata.Key{k1, k1}, []string{"v*"}, 1, nil},
		{"rel", []*metadata.Key{k1, k2}, []string{"v*"}, 3, nil},
		{"rel", []*metadata.Key{k1, k2}, []string{"v*"}, 0, nil},
	}
	for _, c := range cases {
		_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
			return r.AddDelegation(c.name, c.keys, c.paths, c.threshold, false)
		}, tuf.TrustStoredRoot())
		if errkind.Of(err) != errkind.Input || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("AddDelegation(%q, %d keys, %q, %d) = %v (kind %d), want an input error", c.name, len(c.keys), c.paths, c.threshold, err, errkind.Of(err))
		}
	}
	_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error { return r.RemoveDelegation("nope") }, tuf.TrustStoredRoot())
	if !errors.Is(err, tuf.ErrNoDelegation) || errkind.Of(err) != errkind.Input {
		t.Fatalf("removing a delegation that does not exist: %v", err)
	}
}

func TestThresholdTwoNeedsTheSecondHolderToCosignTheSameVersion(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	a, b := f.keys.add(t), f.keys.add(t)
	delegate(t, f, hold(f.keys, f.targets, f.snapshot, f.tstamp), "release", []*metadata.Key{a, b}, []string{"v*"}, 2)
	online := []*metadata.Key{f.snapshot, f.tstamp}

	r, role, err := signAs(f, hold(f.keys, append(online, a)...), a, target("v1", 1))
	if err != nil || role != "release" {
		t.Fatalf("first holder: %q %v", role, err)
	}
	p := r.Pending()
	if len(p) != 1 || p[0].Signatures != 1 || p[0].Threshold != 2 || strings.Join(p[0].Targets, ",") != "v1" {
		t.Fatalf("pending after one of two = %+v", p)
	}
	version := p[0].Version
	_, err = verifyTag(t, f, "v1")
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("verify with one of two signatures: %v", err)
	}

	// The first holder signing again changes nothing but does not lose the
	// signature either.
	if r, _, err = signAs(f, hold(f.keys, append(online, a)...), a, target("v1", 1)); err != nil || len(r.Pending()) != 1 {
		t.Fatalf("first holder again: %v, pending %+v", err, r.Pending())
	}

	r, _, err = signAs(f, hold(f.keys, append(online, b)...), b, target("v1", 1))
	if err != nil {
		t.Fatalf("second holder: %v", err)
	}
	if p := r.Pending(); len(p) != 0 {
		t.Fatalf("pending after two of two = %+v", p)
	}
	ds, err := r.Delegations(context.Background())
	if err != nil || len(ds) != 1 || ds[0].Signatures != 2 || ds[0].Version != version {
		t.Fatalf("delegations = %+v, %v (want 2 signatures on version %d)", ds, err, version)
	}
	got, err := verifyTag(t, f, "v1")
	if err != nil || got.Role != "release" {
		t.Fatalf("verify with two of two: %+v, %v", got, err)
	}

	// New content from one holder starts over: one signature again.
	r, _, err = signAs(f, hold(f.keys, append(online, b)...), b, target("v2", 2))
	if err != nil || len(r.Pending()) != 1 || r.Pending()[0].Version != version+1 {
		t.Fatalf("new tag by one holder: %v, pending %+v", err, r.Pending())
	}
}

func TestRemovedDelegationStopsItsTagsAndReAddingWithANewKeyRestoresThem(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	old := f.keys.add(t)
	delegate(t, f, f.keys, "ci", []*metadata.Key{old}, []string{"v*"}, 1)
	if _, _, err := signAs(f, f.keys, old, target("v1", 1)); err != nil {
		t.Fatal(err)
	}
	trust := t.TempDir() // one consumer keeps its trusted metadata throughout
	verify := func() (*verify.Result, error) {
		view, err := f.store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return verify.Target(context.Background(), view, "v1", verify.WithTrustDir(trust))
	}
	if _, err := verify(); err != nil {
		t.Fatal(err)
	}

	if _, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error { return r.RemoveDelegation("ci") }, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(); errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("verify after removing the delegation: %v", err)
	}
	if _, _, err := signAs(f, f.keys, old, target("v1", 1)); !errors.Is(err, tuf.ErrNotAllowed) {
		t.Fatalf("the removed key signing again: %v", err)
	}

	fresh := f.keys.add(t)
	r := delegate(t, f, f.keys, "ci", []*metadata.Key{fresh}, []string{"v*"}, 1)
	ds, err := r.Delegations(context.Background())
	if err != nil || len(ds) != 1 || ds[0].Version <= 2 || ds[0].Targets != 0 {
		t.Fatalf("re-added delegation = %+v, %v (its version must continue after the old role's)", ds, err)
	}
	if _, _, err := signAs(f, f.keys, fresh, target("v1", 1)); err != nil {
		t.Fatal(err)
	}
	if got, err := verify(); err != nil || got.Role != "ci" {
		t.Fatalf("verify after re-adding: %+v, %v", got, err)
	}
}

func TestADelegatedRoleRewrittenInTheStoreIsRefusedBeforeSigningOnTopOfIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	k := f.keys.add(t)
	delegate(t, f, f.keys, "ci", []*metadata.Key{k}, []string{"v*"}, 1)
	if _, _, err := signAs(f, f.keys, k, target("v1", 1)); err != nil {
		t.Fatal(err)
	}
	// Someone with write access to the registry but no keys swaps the
	// role's file for one that signs another digest.
	view, err := f.store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := "2.ci.json"
	data, err := view.ReadFile(ctx, name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(data), target("v1", 1).SHA256, target("v1", 9).SHA256, 1)
	if err := view.Publish(ctx, map[string][]byte{name: []byte(forged)}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = signAs(f, f.keys, k, target("v2", 2))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), name) {
		t.Fatalf("signing on top of a rewritten role: %v (kind %d)", err, errkind.Of(err))
	}
}
