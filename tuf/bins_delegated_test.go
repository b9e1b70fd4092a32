package tuf_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
)

// ciTarget is a distinct release tag v0.0.i.
func ciTarget(i int) tuf.Target {
	t := binTarget(i)
	t.Name = fmt.Sprintf("v0.0.%d", i)
	return t
}

// ciRepo is a repository whose "ci" delegation (paths v*, one key) is
// terminating or not, with the keyring CI holds: its key and the online
// keys.
func ciRepo(t *testing.T, terminating bool) (*fixture, tuf.Keyring, *metadata.Key) {
	t.Helper()
	f := newRepo(t)
	ci := newKeyring()
	ciKey := ci.add(t)
	owners := hold(f.keys, f.targets, f.snapshot, f.tstamp)
	if _, err := tuf.Update(context.Background(), f.store, owners, func(r *tuf.Repo) error {
		return r.AddDelegation("ci", []*metadata.Key{ciKey}, []string{"v*"}, 1, terminating)
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	return f, hold(mergeKeyrings(f.keys, ci), ciKey, f.snapshot, f.tstamp), ciKey
}

func ciSignRange(t *testing.T, f *fixture, kr tuf.Keyring, key *metadata.Key, from, to int) {
	t.Helper()
	var tgs []tuf.Target
	for i := from; i < to; i++ {
		tgs = append(tgs, ciTarget(i))
	}
	if _, role, err := signAs(f, kr, key, tgs...); err != nil || role != "ci" {
		t.Fatalf("CI signing %d..%d: role %q, %v", from, to, role, err)
	}
}

func ciBinFiles(files map[string][]byte) []string {
	var out []string
	for name := range files {
		if strings.Contains(name, "._ci_bin-") {
			out = append(out, name)
		}
	}
	return out
}

func TestATerminatingCIDelegationPastTheThresholdSignsIntoBinsOfItsOwn(t *testing.T) {
	t.Parallel()
	f, ciRing, ciKey := ciRepo(t, true)
	ciSignRange(t, f, ciRing, ciKey, 0, tuf.BinThreshold)
	if got := ciBinFiles(f.store.Files()); len(got) != 0 {
		t.Fatalf("bins below the threshold: %v", got)
	}
	ciSignRange(t, f, ciRing, ciKey, tuf.BinThreshold, tuf.BinThreshold+40)
	if got := ciBinFiles(f.store.Files()); len(got) == 0 {
		t.Fatal("no bins of the ci role after crossing the threshold")
	}

	// Every tag, before and after the conversion, resolves to ci.
	for _, i := range []int{0, tuf.BinThreshold - 1, tuf.BinThreshold, tuf.BinThreshold + 39} {
		got, err := verifyTag(t, f, ciTarget(i).Name)
		if err != nil || got.SHA256 != ciTarget(i).SHA256 || got.Role != "ci" {
			t.Fatalf("tag %s: %+v, %v", ciTarget(i).Name, got, err)
		}
	}
	if _, err := verifyTag(t, f, "v9.9.9"); errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "tag v9.9.9 is not signed") {
		t.Fatalf("a tag no one signed: %v", err)
	}

	// One more CI push re-signs one bin of ci, snapshot and timestamp, and
	// needs no key but CI's.
	ciSignRange(t, f, ciRing, ciKey, 9000, 9001)
	got := published(f)
	if len(got) != 3 || !strings.Contains(got[0], "._ci_bin-") || !strings.HasSuffix(got[1], ".snapshot.json") || got[2] != "timestamp.json" {
		t.Fatalf("a CI push to a binned ci role published %v", got)
	}

	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.ListTargets(context.Background())
	if err != nil || len(list) != tuf.BinThreshold+41 {
		t.Fatalf("ListTargets: %d, %v", len(list), err)
	}
	for _, tg := range list {
		if tg.Role != "ci" {
			t.Fatalf("%s listed as signed by %s", tg.Name, tg.Role)
		}
	}
}

func TestRevokingATagInACIBinMakesItUnsigned(t *testing.T) {
	t.Parallel()
	f, ciRing, ciKey := ciRepo(t, true)
	ciSignRange(t, f, ciRing, ciKey, 0, tuf.BinThreshold+10)
	gone := ciTarget(tuf.BinThreshold + 3).Name
	if _, err := tuf.Update(context.Background(), f.store, ciRing, func(r *tuf.Repo) error {
		missing, err := r.RemoveTargets(context.Background(), "ci", []string{gone, "v7.7.7"})
		if err == nil && (len(missing) != 1 || missing[0] != "v7.7.7") {
			err = fmt.Errorf("missing = %v", missing)
		}
		return err
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyTag(t, f, gone); errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "tag "+gone+" is not signed") {
		t.Fatalf("a revoked tag: %v", err)
	}
	if _, err := verifyTag(t, f, ciTarget(tuf.BinThreshold+4).Name); err != nil {
		t.Fatalf("a tag next to the revoked one: %v", err)
	}
}

func TestANonTerminatingDelegationKeepsOneFileSoTheOwnersTagsStayReachable(t *testing.T) {
	t.Parallel()
	f, ciRing, ciKey := ciRepo(t, false)
	ciSignRange(t, f, ciRing, ciKey, 0, tuf.BinThreshold+10)
	if got := ciBinFiles(f.store.Files()); len(got) != 0 {
		t.Fatalf("a non-terminating delegation got bins: %v", got)
	}
	// The owners' bins come after ci in the walk: a tag matching ci's
	// paths that the owners signed into them is still found.
	addMany(t, f, 0, tuf.BinThreshold+1)
	owned := ciTarget(77777)
	addTarget(t, f, owned)
	got, err := verifyTag(t, f, owned.Name)
	if err != nil || got.Role != "targets" {
		t.Fatalf("owners' tag matching ci's paths: %+v, %v", got, err)
	}
}

func TestReAddingADelegationThatHadBinsRepublishesThemForTheNewKey(t *testing.T) {
	t.Parallel()
	f, ciRing, ciKey := ciRepo(t, true)
	ciSignRange(t, f, ciRing, ciKey, 0, tuf.BinThreshold+10)
	before := len(ciBinFiles(f.store.Files()))

	owners := hold(f.keys, f.targets, f.snapshot, f.tstamp)
	ci2 := newKeyring()
	newKey := ci2.add(t)
	if _, err := tuf.Update(context.Background(), f.store, owners, func(r *tuf.Repo) error {
		if err := r.RemoveDelegation("ci"); err != nil {
			return err
		}
		return r.AddDelegation("ci", []*metadata.Key{newKey}, []string{"v*"}, 1, true)
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	ring2 := hold(mergeKeyrings(f.keys, ci2), newKey, f.snapshot, f.tstamp)
	ciSignRange(t, f, ring2, newKey, 1000, 1000+tuf.BinThreshold+1)
	if got := len(ciBinFiles(f.store.Files())); got < before {
		t.Fatalf("%d bins after re-adding, %d before", got, before)
	}
	for _, i := range []int{1000, 1000 + tuf.BinThreshold} {
		if got, err := verifyTag(t, f, ciTarget(i).Name); err != nil || got.Role != "ci" {
			t.Fatalf("tag of the new key %s: %+v, %v", ciTarget(i).Name, got, err)
		}
	}
	// The old key's tags are gone with its delegation: every old bin was
	// published again, empty and signed by the new key, so a client finds
	// them unsigned rather than a bin signed by a key it does not trust.
	for i := tuf.BinThreshold; i < tuf.BinThreshold+10; i++ {
		_, err := verifyTag(t, f, ciTarget(i).Name)
		if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "tag "+ciTarget(i).Name+" is not signed") {
			t.Fatalf("a tag of the removed key: %v", err)
		}
	}
}
