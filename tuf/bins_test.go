package tuf_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/signet-dev/signet/tuf/tuftest"
	"github.com/signet-dev/signet/tuf/verify"
)

// binTarget is a distinct target for tag i.
func binTarget(i int) tuf.Target {
	return tuf.Target{Name: fmt.Sprintf("t%05d", i), Length: 100 + int64(i),
		SHA256: fmt.Sprintf("%064x", i+1), MediaType: "application/vnd.oci.image.manifest.v1+json"}
}

func addMany(t *testing.T, f *fixture, from, to int) {
	t.Helper()
	var tgs []tuf.Target
	for i := from; i < to; i++ {
		tgs = append(tgs, binTarget(i))
	}
	if _, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", tgs)
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatalf("adding %d..%d: %v", from, to, err)
	}
}

// published returns the files the last publish put or replaced.
func published(f *fixture) []string {
	h := f.store.History()
	before, now := h[len(h)-1], f.store.Files()
	var out []string
	for name, data := range now {
		if old, ok := before[name]; !ok || string(old) != string(data) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func binFiles(files map[string][]byte) []string {
	var out []string
	for name := range files {
		if strings.Contains(name, "._bin-") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestCrossingTheBinThresholdKeepsEveryTagVerifying(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold)
	if got := binFiles(f.store.Files()); len(got) != 0 {
		t.Fatalf("bins before the threshold: %v", got)
	}
	addMany(t, f, tuf.BinThreshold, tuf.BinThreshold+40)
	if got := binFiles(f.store.Files()); len(got) == 0 {
		t.Fatal("no bins after crossing the threshold")
	}
	for _, i := range []int{0, 1, tuf.BinThreshold - 1, tuf.BinThreshold, tuf.BinThreshold + 39} {
		got, err := verifyTag(t, f, binTarget(i).Name)
		if err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		if got.SHA256 != binTarget(i).SHA256 || got.Role != "targets" {
			t.Fatalf("tag %d: %+v", i, got)
		}
	}
	_, err := verifyTag(t, f, "never-signed")
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned tag: %v", err)
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.ListTargets(context.Background())
	if err != nil || len(list) != tuf.BinThreshold+40 {
		t.Fatalf("ListTargets: %d, %v", len(list), err)
	}
}

func TestAPushToABinnedRepositoryResignsOneBinSnapshotAndTimestamp(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+1)
	f.keys.used = nil
	addMany(t, f, 5000, 5001)
	got := published(f)
	if len(got) != 3 || !strings.Contains(got[0], "._bin-") || !strings.HasSuffix(got[1], ".snapshot.json") || got[2] != "timestamp.json" {
		t.Fatalf("a push published %v, want one bin, snapshot and timestamp", got)
	}
	targetsID, _ := f.targets.ID()
	signedByTargetsKey := 0
	for _, u := range f.keys.used {
		if strings.HasSuffix(u, targetsID) {
			signedByTargetsKey++
		}
	}
	if signedByTargetsKey != 1 {
		t.Fatalf("the targets key signed %d times in one push (%v), want 1", signedByTargetsKey, f.keys.used)
	}
}

func TestInitWithBinsPutsTheFirstTagInABin(t *testing.T) {
	t.Parallel()
	f := &fixture{store: newStore(), keys: newKeyring()}
	f.root, f.targets, f.snapshot, f.tstamp = f.keys.add(t), f.keys.add(t), f.keys.add(t), f.keys.add(t)
	if _, err := tuf.Init(context.Background(), f.store, tuf.InitConfig{
		RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
		SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp}, Bins: 16,
	}, f.keys); err != nil {
		t.Fatal(err)
	}
	addTarget(t, f, target("v1", 1))
	if got := binFiles(f.store.Files()); len(got) != 1 {
		t.Fatalf("bins = %v", got)
	}
	if got, err := verifyTag(t, f, "v1"); err != nil || got.Role != "targets" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	for _, n := range []int{0, 3, 1 << 17} {
		cfg := tuf.InitConfig{RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
			SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp}, Bins: n}
		if n == 0 {
			continue
		}
		if _, err := tuf.Init(context.Background(), newStore(), cfg, f.keys); errkind.Of(err) != errkind.Input {
			t.Errorf("bins %d: %v", n, err)
		}
	}
}

func TestABinSignedByAKeyItsDelegationDoesNotListFailsVerification(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+10)
	files := f.store.Files()
	bin := binFiles(files)[0]
	m, err := metadata.Targets().FromBytes(files[bin])
	if err != nil {
		t.Fatal(err)
	}
	// The attacker holds the online keys but not the targets key: it
	// rewrites a bin, signs it with a key of its own and re-signs
	// snapshot and timestamp so that their hashes match.
	var victim string
	for name := range m.Signed.Targets {
		victim = name
		m.Signed.Targets[name].Hashes["sha256"] = make([]byte, 32)
		break
	}
	intruder := newKeyring()
	ik := intruder.add(t)
	m.ClearSignatures()
	if _, err := m.Sign(intruder.signers[delegKeyID(ik)]); err != nil {
		t.Fatal(err)
	}
	forged, _ := m.ToBytes(false)
	files[bin] = forged
	resignOnline(t, f, files, strings.SplitN(bin, ".", 2)[1], forged)
	f.store.Set(files)
	_, err = verifyTag(t, f, victim)
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "untrusted signature") {
		t.Fatalf("forged bin: %v", err)
	}
}

// resignOnline re-signs snapshot and timestamp over files after the
// metadata file role.json changed to data, with the online keys.
func resignOnline(t *testing.T, f *fixture, files map[string][]byte, roleFile string, data []byte) {
	t.Helper()
	var snapName string
	for name := range files {
		if strings.HasSuffix(name, ".snapshot.json") {
			snapName = name
		}
	}
	snap, err := metadata.Snapshot().FromBytes(files[snapName])
	if err != nil {
		t.Fatal(err)
	}
	entry := snap.Signed.Meta[roleFile]
	entry.Length = int64(len(data))
	entry.Hashes = metadata.Hashes{"sha256": sha(data)}
	snap.ClearSignatures()
	if _, err := snap.Sign(f.keys.signers[delegKeyID(f.snapshot)]); err != nil {
		t.Fatal(err)
	}
	snapData, _ := snap.ToBytes(false)
	files[snapName] = snapData
	ts, err := metadata.Timestamp().FromBytes(files["timestamp.json"])
	if err != nil {
		t.Fatal(err)
	}
	ts.Signed.Meta["snapshot.json"].Length = int64(len(snapData))
	ts.Signed.Meta["snapshot.json"].Hashes = metadata.Hashes{"sha256": sha(snapData)}
	ts.ClearSignatures()
	if _, err := ts.Sign(f.keys.signers[delegKeyID(f.tstamp)]); err != nil {
		t.Fatal(err)
	}
	files["timestamp.json"], _ = ts.ToBytes(false)
}

func TestRotatingTheTargetsKeyResignsEveryBin(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+20)
	newKey := f.keys.add(t)
	oldID := delegKeyID(f.targets)
	if _, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.Rotate(context.Background(), tuf.Rotation{Role: "targets", Add: []*metadata.Key{newKey}, Remove: []string{oldID}})
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	// The old key is gone: nothing it signed may count any more.
	delete(f.keys.signers, oldID)
	for _, i := range []int{0, tuf.BinThreshold + 5, tuf.BinThreshold + 19} {
		if _, err := verifyTag(t, f, binTarget(i).Name); err != nil {
			t.Fatalf("tag %d after rotation: %v", i, err)
		}
	}
	addMany(t, f, 9000, 9001)
	if _, err := verifyTag(t, f, binTarget(9000).Name); err != nil {
		t.Fatalf("tag signed after rotation: %v", err)
	}
}

func TestADelegatedTagVerifiesInABinnedRepositoryWhoseBinForItIsEmpty(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+1)
	ciKeys := newKeyring()
	ci := ciKeys.add(t)
	delegate(t, f, f.keys, "ci", []*metadata.Key{ci}, []string{"v*"}, 1)
	tg := target("v1.2.3", 7)
	kr := mergeKeyrings(f.keys, ciKeys)
	if _, role, err := signAs(f, hold(kr, ci, f.snapshot, f.tstamp), ci, tg); err != nil || role != "ci" {
		t.Fatalf("ci sign: %q %v", role, err)
	}
	got, err := verifyTag(t, f, "v1.2.3")
	if err != nil || got.Role != "ci" {
		t.Fatalf("verify: %+v %v", got, err)
	}
}

func newStore() *tuftest.Store { return &tuftest.Store{} }

func sha(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}

// readLog is a View that records every file read from it.
type readLog struct {
	tufmeta.View
	mu    sync.Mutex
	reads []string
}

func (v *readLog) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	v.mu.Lock()
	v.reads = append(v.reads, name)
	v.mu.Unlock()
	return v.View.ReadFile(ctx, name, maxSize)
}

func TestVerifyOfABinnedTagReadsEachFileItNeedsOnce(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+200)
	view, err := f.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logged := &readLog{View: view}
	tag := binTarget(tuf.BinThreshold + 7)
	got, err := verify.Target(context.Background(), logged, tag.Name, verify.WithTrustDir(t.TempDir()))
	if err != nil || got.SHA256 != tag.SHA256 {
		t.Fatalf("verify = %+v, %v", got, err)
	}
	// Trusted on first use: the first root, then the four top files
	// read ahead and in parallel, then the one bin the tag falls in.
	var bins []string
	seen := map[string]int{}
	for _, name := range logged.reads {
		seen[name]++
		if strings.Contains(name, "._bin-") {
			bins = append(bins, name)
		}
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times", name, n)
		}
	}
	if len(bins) != 1 || len(logged.reads) != 6 {
		t.Fatalf("reads = %v, want 1.root.json, timestamp, snapshot, targets, _bins and one bin", logged.reads)
	}
}

func TestSnapshotListsBinsByVersionOnly(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addMany(t, f, 0, tuf.BinThreshold+50)
	files := f.store.Files()
	var snap []byte
	for name, data := range files {
		if strings.HasSuffix(name, ".snapshot.json") {
			snap = data
		}
	}
	md, err := metadata.Snapshot().FromBytes(snap)
	if err != nil {
		t.Fatal(err)
	}
	bins := 0
	for name, meta := range md.Signed.Meta {
		switch {
		case strings.HasPrefix(name, "_bin-"):
			bins++
			if meta.Length != 0 || len(meta.Hashes) != 0 || meta.Version < 1 {
				t.Errorf("%s listed as %+v, want its version only", name, meta)
			}
		case meta.Length == 0 || len(meta.Hashes) == 0:
			t.Errorf("%s listed without length and hash: %+v", name, meta)
		}
	}
	if bins == 0 {
		t.Fatal("snapshot lists no bins")
	}
}
