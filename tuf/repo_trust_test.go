package tuf_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tuftest"
)

// trusted returns the fixture's root version v as the store holds it: what
// a machine that ran init (or pinned it) trusts.
func (f *fixture) trusted(t testing.TB, v int) []byte {
	t.Helper()
	data, ok := f.store.Files()[strconv.Itoa(v)+".root.json"]
	if !ok {
		t.Fatalf("no root version %d", v)
	}
	return data
}

// forgeRoot replaces the store's 1.root.json with a root signed only by an
// attacker key that lists the owners' targets, snapshot and timestamp keys
// plus the attacker's, and a targets file signed by the attacker with an
// extra tag: issue 13's first attack.
func forgeRoot(t *testing.T, f *fixture) {
	t.Helper()
	attacker := newKeyring()
	evil := attacker.add(t)
	root := metadata.Root(time.Now().Add(24 * time.Hour))
	for role, k := range map[string]*metadata.Key{metadata.ROOT: evil, metadata.TARGETS: f.targets, metadata.SNAPSHOT: f.snapshot, metadata.TIMESTAMP: f.tstamp} {
		if err := root.Signed.AddKey(k, role); err != nil {
			t.Fatal(err)
		}
		if role != metadata.ROOT {
			if err := root.Signed.AddKey(evil, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, _ := attacker.Signer(context.Background(), keyID(t, evil), "root")
	if _, err := root.Sign(s); err != nil {
		t.Fatal(err)
	}
	data, err := root.ToBytes(false)
	if err != nil {
		t.Fatal(err)
	}
	files := f.store.Files()
	files["1.root.json"] = data
	f.store.Set(files)
}

func TestOpenWithoutATrustedRootRefuses(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	_, err := tuf.Open(context.Background(), f.store)
	if !errors.Is(err, tuf.ErrNoTrustedRoot) || errkind.Of(err) != errkind.Verification {
		t.Fatalf("err = %v, want ErrNoTrustedRoot (exit 1)", err)
	}
}

func TestOpenRefusesAStoreWhoseRootIsNotTheTrustedOne(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	real := f.trusted(t, 1)
	forgeRoot(t, f)
	before := f.store.Files()
	f.keys.used = nil
	_, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{target("v2", 2)})
	}, tuf.WithTrustedRoot(real))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "forged trust data: the registry's root version 1 is not the root this machine trusts") {
		t.Fatalf("err = %v, want forged trust data (exit 1)", err)
	}
	if len(f.keys.used) != 0 {
		t.Fatalf("keys signed %v on top of a forged root", f.keys.used)
	}
	if !sameFiles(before, f.store.Files()) {
		t.Fatal("something was published on top of a forged root")
	}
}

func TestOpenRefusesMoreThanMaxRootStepsNewRootsBeforeReadingThem(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	files := f.store.Files()
	files["9999.root.json"] = []byte("{}") // never read: refused by its name
	f.store.Set(files)
	_, err := tuf.Open(context.Background(), f.store, tuf.WithTrustedRoot(f.trusted(t, 1)))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "endless data attack") || !strings.Contains(err.Error(), "more than 256") {
		t.Fatalf("err = %v, want endless data attack", err)
	}
}

func TestOpenRefusesARegistryThatWithholdsTheTrustedRootVersion(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	if _, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.Rotate(context.Background(), tuf.Rotation{Role: metadata.ROOT})
	}, tuf.WithTrustedRoot(f.trusted(t, 1))); err != nil {
		t.Fatal(err)
	}
	v2 := f.trusted(t, 2)
	files := f.store.Files()
	delete(files, "2.root.json")
	f.store.Set(files)
	_, err := tuf.Open(context.Background(), f.store, tuf.WithTrustedRoot(v2))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "has no root version 2") {
		t.Fatalf("err = %v, want a refusal naming root version 2", err)
	}
}

func TestOpenOfAnEmptyStoreWithATrustedRootSaysTheTrustDataIsWithheld(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	real := f.trusted(t, 1)
	f.store.Set(map[string][]byte{})
	_, err := tuf.Open(context.Background(), f.store, tuf.WithTrustedRoot(real))
	var w *tuf.WithheldError
	if !errors.As(err, &w) || w.RootVersion != 1 || errkind.Of(err) != errkind.Verification {
		t.Fatalf("err = %v, want WithheldError for root version 1 (exit 1)", err)
	}
}

func TestOpenRefusesATimestampOlderThanTheOneTrustedLast(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	old := f.store.Files()
	if _, err := tuf.Update(context.Background(), f.store, f.keys, nil, tuf.WithTrustedRoot(f.trusted(t, 1))); err != nil {
		t.Fatal(err)
	}
	newer := f.store.Files()
	f.store.Set(old) // the registry serves the older, validly signed data
	_, err := tuf.Open(context.Background(), f.store, tuf.WithTrustedRoot(f.trusted(t, 1)),
		tuf.WithTrustedMetadata(newer["timestamp.json"], nil))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "rollback attack: the registry's timestamp has version 1, older than version 2") {
		t.Fatalf("err = %v, want a rollback attack", err)
	}
}

func TestPublishRefusesATimestampVersionThatWouldOverflow(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	setTimestampVersion(t, f, math.MaxInt64)
	_, err := tuf.Update(context.Background(), f.store, f.keys, nil, tuf.WithTrustedRoot(f.trusted(t, 1)))
	if errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "timestamp version was fast-forwarded to 9223372036854775807: rotate the timestamp key, see docs/rotation.md") {
		t.Fatalf("err = %v, want the fast-forward refusal", err)
	}
}

func TestRotatingTheTimestampKeyRestartsItsVersions(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	setTimestampVersion(t, f, math.MaxInt64)
	fresh := f.keys.add(t)
	r, err := tuf.Update(context.Background(), f.store, f.keys, func(r *tuf.Repo) error {
		return r.Rotate(context.Background(), tuf.Rotation{Role: metadata.TIMESTAMP, Add: []*metadata.Key{fresh}, Remove: []string{keyID(t, f.tstamp)}})
	}, tuf.WithTrustedRoot(f.trusted(t, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Timestamp().Signed.Version; v != 1 {
		t.Fatalf("timestamp version %d after rotating its key, want 1", v)
	}
	if v := r.Snapshot().Signed.Version; v < 2 {
		t.Fatalf("snapshot version %d, want it to go on (its key was not rotated)", v)
	}
	// The next publish goes on from 1.
	r, err = tuf.Update(context.Background(), f.store, f.keys, nil, tuf.WithTrustedRoot(f.trusted(t, 1)))
	if err != nil || r.Timestamp().Signed.Version != 2 {
		t.Fatalf("next publish: %v, timestamp version %d, want 2", err, r.Timestamp().Signed.Version)
	}
}

// setTimestampVersion re-signs the store's timestamp at version v, as a
// thief of the timestamp key would.
func setTimestampVersion(t *testing.T, f *fixture, v int64) {
	t.Helper()
	files := f.store.Files()
	ts, err := metadata.Timestamp().FromBytes(files["timestamp.json"])
	if err != nil {
		t.Fatal(err)
	}
	ts.Signed.Version = v
	ts.ClearSignatures()
	s, _ := f.keys.Signer(context.Background(), keyID(t, f.tstamp), "timestamp")
	if _, err := ts.Sign(s); err != nil {
		t.Fatal(err)
	}
	if files["timestamp.json"], err = ts.ToBytes(false); err != nil {
		t.Fatal(err)
	}
	f.store.Set(files)
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}

// FuzzTrustedOpen feeds the trusted-path loader hostile files in place of
// the store's newest root, timestamp, snapshot or targets: Open never
// panics, fails with exit 1 or 2 (or the store's own kind), and when it
// succeeds the root it ends on was reached from the trusted one.
func FuzzTrustedOpen(f *testing.F) {
	fx := newRepo(f)
	trusted := fx.trusted(f, 1)
	base := fx.store.Files()
	names := []string{"2.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json"}
	for i, n := range names {
		f.Add(uint8(i), base[n])
	}
	f.Add(uint8(0), base["1.root.json"])
	f.Add(uint8(1), []byte(`{"signed":{"_type":"timestamp","version":9223372036854775807,"meta":{"snapshot.json":{"version":-1}}},"signatures":[]}`))
	f.Add(uint8(2), []byte(`{"signed":{"_type":"snapshot","meta":{}},"signatures":[{"keyid":"","sig":""}]}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		files := map[string][]byte{}
		for k, v := range base {
			files[k] = v
		}
		files[names[int(which)%len(names)]] = data
		store := &tuftest.Store{}
		store.Set(files)
		r, err := tuf.Open(context.Background(), store, tuf.WithTrustedRoot(trusted))
		if err != nil {
			if k := errkind.Of(err); k != errkind.Input && k != errkind.Verification {
				t.Fatalf("error of kind %d: %v", k, err)
			}
			return
		}
		if v := r.Root().Signed.Version; v < 1 || v > 2 {
			t.Fatalf("opened at root version %d", v)
		}
		if r.Root().Signed.Version == 2 && r.Root().VerifyDelegate(metadata.ROOT, r.Root()) != nil {
			t.Fatal("opened on a root that is not signed by its own keys")
		}
	})
}
