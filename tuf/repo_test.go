package tuf_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/signet-dev/signet/tuf/tuftest"
)

// testKeyring holds software keys by TUF key ID and records what it signed.
type testKeyring struct {
	signers map[string]signature.Signer
	used    []string // "role:keyid" in order
}

func newKeyring() *testKeyring { return &testKeyring{signers: map[string]signature.Signer{}} }

func (k *testKeyring) add(t testing.TB) *metadata.Key {
	t.Helper()
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
	id, _ := key.ID()
	k.signers[id] = s
	return key
}

func (k *testKeyring) Signer(ctx context.Context, keyID, role string) (signature.Signer, error) {
	s, ok := k.signers[keyID]
	if !ok {
		return nil, tuf.ErrKeyNotFound
	}
	k.used = append(k.used, role+":"+keyID)
	return s, nil
}

type fixture struct {
	store                           *tuftest.Store
	keys                            *testKeyring
	root, targets, snapshot, tstamp *metadata.Key
}

func newRepo(t testing.TB, opts ...tuf.RepoOption) *fixture {
	t.Helper()
	f := &fixture{store: &tuftest.Store{}, keys: newKeyring()}
	f.root, f.targets, f.snapshot, f.tstamp = f.keys.add(t), f.keys.add(t), f.keys.add(t), f.keys.add(t)
	_, err := tuf.Init(context.Background(), f.store, tuf.InitConfig{
		RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
		SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp},
	}, f.keys, opts...)
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	return f
}

func target(name string, b byte) tuf.Target {
	return tuf.Target{Name: name, Length: 500 + int64(b), SHA256: strings.Repeat(string("0123456789abcdef"[b%16]), 64), MediaType: "application/vnd.oci.image.manifest.v1+json"}
}

func addTarget(t *testing.T, f *fixture, tg tuf.Target) {
	t.Helper()
	_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{tg})
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatalf("add %s: %v", tg.Name, err)
	}
}

func TestInitPublishesVersionOneOfEveryRole(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	got := strings.Join(sortedKeys(f.store.Files()), " ")
	want := "1.root.json 1.snapshot.json 1.targets.json timestamp.json"
	if got != want {
		t.Fatalf("files = %q, want %q", got, want)
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	ids, th := r.RoleKeyIDs("root")
	rootID, _ := f.root.ID()
	if len(ids) != 1 || ids[0] != rootID || th != 1 {
		t.Fatalf("root role = %v/%d", ids, th)
	}
}

func TestInitRefusesAnExistingRepository(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	_, err := tuf.Init(context.Background(), f.store, tuf.InitConfig{
		RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
		SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp},
	}, f.keys)
	if !errors.Is(err, tuf.ErrExists) || errkind.Of(err) != errkind.Input {
		t.Fatalf("second init: %v (kind %d)", err, errkind.Of(err))
	}
}

func TestAddTargetReplacesOldVersionsAndKeepsEveryRoot(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	addTarget(t, f, target("v2", 2))
	got := strings.Join(sortedKeys(f.store.Files()), " ")
	want := "1.root.json 3.snapshot.json 3.targets.json timestamp.json"
	if got != want {
		t.Fatalf("files = %q, want %q", got, want)
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.ListTargets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0] != withRole(target("v1", 1)) || list[1] != withRole(target("v2", 2)) {
		t.Fatalf("targets = %+v", list)
	}
}

func withRole(t tuf.Target) tuf.Target { t.Role = "targets"; return t }

func TestSnapshotAndTimestampCarryHashesOfWhatTheyName(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	files := f.store.Files()
	if err := r.Snapshot().Signed.Meta["targets.json"].VerifyLengthHashes(files["2.targets.json"]); err != nil {
		t.Fatalf("snapshot's targets entry: %v", err)
	}
	if err := r.Timestamp().Signed.Meta["snapshot.json"].VerifyLengthHashes(files["2.snapshot.json"]); err != nil {
		t.Fatalf("timestamp's snapshot entry: %v", err)
	}
}

func TestExpiriesComeFromInitAndAreWholeSeconds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 500, time.UTC)
	f := &fixture{store: &tuftest.Store{}, keys: newKeyring()}
	f.root, f.targets, f.snapshot, f.tstamp = f.keys.add(t), f.keys.add(t), f.keys.add(t), f.keys.add(t)
	var exp tuf.Expiries
	if err := exp.Set("timestamp=90s"); err != nil {
		t.Fatal(err)
	}
	if err := exp.Set("snapshot=2d"); err != nil {
		t.Fatal(err)
	}
	clock := tuf.WithClock(func() time.Time { return now })
	_, err := tuf.Init(context.Background(), f.store, tuf.InitConfig{
		RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
		SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp}, Expiries: exp,
	}, f.keys, clock)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	r, err := tuf.Update(context.Background(), f.store, f.keys, nil, clock, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	base := now.Truncate(time.Second)
	if got, want := r.Timestamp().Signed.Expires, base.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("timestamp expires %v, want %v", got, want)
	}
	if got, want := r.Snapshot().Signed.Expires, base.Add(48*time.Hour); !got.Equal(want) {
		t.Errorf("snapshot expires %v, want %v", got, want)
	}
	if got, want := r.Root().Signed.Expires, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Add(tuf.DefaultRootExpiry); !got.Equal(want) {
		t.Errorf("root expires %v, want %v", got, want)
	}
}

func TestInitExpiriesShapeTheFirstPublishAlready(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f := &fixture{store: &tuftest.Store{}, keys: newKeyring()}
	f.root, f.targets, f.snapshot, f.tstamp = f.keys.add(t), f.keys.add(t), f.keys.add(t), f.keys.add(t)
	var exp tuf.Expiries
	for _, spec := range []string{"timestamp=1h", "snapshot=3d", "targets=10d"} {
		if err := exp.Set(spec); err != nil {
			t.Fatal(err)
		}
	}
	r, err := tuf.Init(context.Background(), f.store, tuf.InitConfig{
		RootKeys: []*metadata.Key{f.root}, TargetsKeys: []*metadata.Key{f.targets},
		SnapshotKeys: []*metadata.Key{f.snapshot}, TimestampKeys: []*metadata.Key{f.tstamp}, Expiries: exp,
	}, f.keys, tuf.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for role, want := range map[string]time.Time{
		"timestamp": now.Add(time.Hour), "snapshot": now.Add(72 * time.Hour), "targets": now.Add(240 * time.Hour),
	} {
		var got time.Time
		switch role {
		case "timestamp":
			got = r.Timestamp().Signed.Expires
		case "snapshot":
			got = r.Snapshot().Signed.Expires
		case "targets":
			got = r.Targets().Signed.Expires
		}
		if !got.Equal(want) {
			t.Errorf("%s of the first publish expires %v, want %v", role, got, want)
		}
	}
}

func TestExpirySpecsRejectNonsense(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"timestamp", "bogus=1d", "timestamp=0s", "timestamp=-5m", "root=xd", "targets=500ms"} {
		var e tuf.Expiries
		if err := e.Set(spec); err == nil {
			t.Errorf("Set(%q) accepted", spec)
		}
	}
}

// conflictOnce is a store whose first publish loses a race: another
// publisher adds a target just before it.
type conflictOnce struct {
	*tuftest.Store
	f       *fixture
	tripped bool
}

func (c *conflictOnce) Load(ctx context.Context) (tufmeta.View, error) {
	v, err := c.Store.Load(ctx)
	if err == nil && !c.tripped {
		c.tripped = true
		tg := target("other", 9)
		if _, err := tuf.Update(ctx, c.Store, c.f.keys, func(r *tuf.Repo) error {
			return r.AddTargets(ctx, "targets", []tuf.Target{tg})
		}, tuf.TrustStoredRoot()); err != nil {
			return nil, err
		}
	}
	return v, err
}

func TestUpdateRetriesAfterAConcurrentPublishAndLosesNothing(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	store := &conflictOnce{Store: f.store, f: f}
	if _, err := tuf.Update(context.Background(), store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{target("mine", 3)})
	}, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	list, _ := r.ListTargets(context.Background())
	if len(list) != 2 || list[0].Name != "mine" || list[1].Name != "other" {
		t.Fatalf("targets after race = %+v", list)
	}
}

func TestPublishWithoutTheTargetsKeyFailsAsAKeyProblem(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	id, _ := f.targets.ID()
	delete(f.keys.signers, id)
	_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{target("v1", 1)})
	}, tuf.TrustStoredRoot())
	if errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "0 of 1 required keys") {
		t.Fatalf("err = %v (kind %d)", err, errkind.Of(err))
	}
	if got := len(f.store.History()); got != 1 {
		t.Fatalf("a failed sign published something: %d publishes", got)
	}
}

func TestOpenRefusesTargetsSignedByAnUntrustedKey(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	files := f.store.Files()
	forged := metadata.Targets(time.Now().Add(time.Hour))
	intruder := newKeyring()
	k := intruder.add(t)
	id, _ := k.ID()
	if _, err := forged.Sign(intruder.signers[id]); err != nil {
		t.Fatal(err)
	}
	data, _ := forged.ToBytes(false)
	files["1.targets.json"] = data
	f.store.Set(files)
	_, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "untrusted signature") {
		t.Fatalf("open forged: %v", err)
	}
}

func TestOpenOnAnEmptyStoreSaysThereIsNoTrustData(t *testing.T) {
	t.Parallel()
	_, err := tuf.Open(context.Background(), &tuftest.Store{}, tuf.TrustStoredRoot())
	if !errors.Is(err, tufmeta.ErrNoRepository) {
		t.Fatalf("err = %v", err)
	}
}

func TestRoleForRefusesAKeyThatHoldsNoRole(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	stranger := newKeyring().add(t)
	id, _ := stranger.ID()
	_, err = r.RoleFor(context.Background(), id, []string{"v1"})
	if !errors.Is(err, tuf.ErrNotAllowed) || errkind.Of(err) != errkind.Verification {
		t.Fatalf("err = %v", err)
	}
	tid, _ := f.targets.ID()
	if role, err := r.RoleFor(context.Background(), tid, []string{"v1"}); err != nil || role != "targets" {
		t.Fatalf("targets key: %q %v", role, err)
	}
}

func TestRemoveTargetsReportsWhatWasNotSigned(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	var missing []string
	_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		var err error
		missing, err = r.RemoveTargets(context.Background(), "targets", []string{"v1", "nope"})
		return err
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "nope" {
		t.Fatalf("missing = %v", missing)
	}
	r, _ := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if list, _ := r.ListTargets(context.Background()); len(list) != 0 {
		t.Fatalf("still listed: %+v", list)
	}
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
