package tuf_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tuftest"
)

// only returns a keyring with just the given keys of k.
func only(t *testing.T, k *testKeyring, keep ...*metadata.Key) *testKeyring {
	out := newKeyring()
	for _, key := range keep {
		out.signers[keyID(t, key)] = k.signers[keyID(t, key)]
	}
	return out
}

// stage opens the repository, applies rot and stages it with keys.
func stage(t *testing.T, f *fixture, keys tuf.Keyring, rot tuf.Rotation) *tuf.Ceremony {
	t.Helper()
	r, err := tuf.Open(context.Background(), f.store, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rotate(context.Background(), rot); err != nil {
		t.Fatal(err)
	}
	c, err := r.Stage(context.Background(), keys, "example.com/team/app")
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	return c
}

// roundTrip writes the ceremony out and reads it back, as each signer does.
func roundTrip(t *testing.T, c *tuf.Ceremony) *tuf.Ceremony {
	t.Helper()
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := tuf.ParseCeremony(data)
	if err != nil {
		t.Fatalf("parse staged file: %v", err)
	}
	return back
}

func signed(ths []tuf.Threshold) string {
	var parts []string
	for _, th := range ths {
		parts = append(parts, th.Label+"="+string(rune('0'+len(th.Signed)))+"/"+string(rune('0'+th.Threshold)))
	}
	return strings.Join(parts, " ")
}

func TestCeremonyCollectsRootSignaturesAndPublishesOnlyWhenComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	addTarget(t, f, target("v1", 1))
	root1 := f.store.Files()["1.root.json"]
	a, b, c := f.keys.add(t), f.keys.add(t), f.keys.add(t)
	// The publisher holds only the old root key (and the online keys).
	publisher := only(t, f.keys, f.root, f.snapshot, f.tstamp)
	cer := stage(t, f, publisher, tuf.Rotation{Role: "root", Add: []*metadata.Key{a, b, c}, Remove: []string{keyID(t, f.root)}, Threshold: 2})
	cer = roundTrip(t, cer)
	if got := signed(cer.Thresholds()); got != "root version 1=1/1 root version 2=0/2" {
		t.Fatalf("after staging: %s", got)
	}

	_, err := tuf.PublishCeremony(ctx, f.store, cer, publisher, tuf.TrustStoredRoot())
	var mk *tuf.MissingKeysError
	if !errors.As(err, &mk) || errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "0 of 2 keys of root version 2 signed") {
		t.Fatalf("publish at 0 of 2: %v", err)
	}

	for i, k := range []*metadata.Key{a, b} {
		got, err := cer.Sign(ctx, only(t, f.keys, k))
		if err != nil || len(got) != 1 || got[0] != "root" {
			t.Fatalf("sign %d: %v %v", i, got, err)
		}
		cer = roundTrip(t, cer)
		if i == 0 {
			if _, err := tuf.PublishCeremony(ctx, f.store, cer, publisher, tuf.TrustStoredRoot()); errkind.Of(err) != errkind.Verification || !strings.Contains(err.Error(), "1 of 2") {
				t.Fatalf("publish at 1 of 2: %v", err)
			}
		}
	}
	if !cer.Complete() {
		t.Fatalf("not complete at 2 of 2: %s", signed(cer.Thresholds()))
	}
	if _, err := tuf.PublishCeremony(ctx, f.store, cer, publisher, tuf.TrustStoredRoot()); err != nil {
		t.Fatalf("publish at 2 of 2: %v", err)
	}
	if _, err := pinnedVerify(t, f, root1, "v1"); err != nil {
		t.Fatalf("client pinned to root 1 after the ceremony: %v", err)
	}
	// The same ceremony cannot be published twice.
	if _, err := tuf.PublishCeremony(ctx, f.store, cer, publisher, tuf.TrustStoredRoot()); !errors.Is(err, tuf.ErrBaseMoved) || errkind.Of(err) != errkind.Input {
		t.Fatalf("second publish: %v", err)
	}
}

func TestCeremonyFileEditedAfterSigningIsRefused(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	a := f.keys.add(t)
	cer := stage(t, f, f.keys, tuf.Rotation{Role: "root", Add: []*metadata.Key{a}})
	data, err := cer.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	// Raise the threshold of the proposed root, as a tamperer would.
	root := file["proposed"].(map[string]any)["root"].(map[string]any)
	root["signed"].(map[string]any)["roles"].(map[string]any)["root"].(map[string]any)["threshold"] = 2
	edited, _ := json.Marshal(file)
	_, err = tuf.ParseCeremony(edited)
	if !errors.Is(err, tuf.ErrChangedAfterSigning) || errkind.Of(err) != errkind.Verification {
		t.Fatalf("edited file: %v", err)
	}
	if !strings.Contains(err.Error(), "the staged metadata was changed after it was signed") {
		t.Fatalf("error text: %v", err)
	}
}

func TestCeremonyForATargetsKeyIsRefusedWhenTargetsMovedOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	newKey := f.keys.add(t)
	cer := stage(t, f, f.keys, tuf.Rotation{Role: "targets", Add: []*metadata.Key{newKey}, Remove: []string{keyID(t, f.targets)}})
	if got := strings.Join(cer.Proposed(), ","); got != "root,targets" {
		t.Fatalf("proposed %s", got)
	}
	if !cer.Complete() {
		t.Fatalf("all keys at hand, yet %s", signed(cer.Thresholds()))
	}
	addTarget(t, f, target("v1", 1)) // a push signed with the old key meanwhile
	_, err := tuf.PublishCeremony(ctx, f.store, roundTrip(t, cer), f.keys, tuf.TrustStoredRoot())
	if !errors.Is(err, tuf.ErrBaseMoved) || !strings.Contains(err.Error(), "targets is at version 2") {
		t.Fatalf("publish after a push: %v", err)
	}
}

func TestCeremonySurvivesARefreshOfSnapshotAndTimestamp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	cer := stage(t, f, f.keys, tuf.Rotation{Role: "root"})
	if _, err := tuf.Update(ctx, f.store, f.keys, nil, tuf.TrustStoredRoot()); err != nil { // refresh
		t.Fatal(err)
	}
	if _, err := tuf.PublishCeremony(ctx, f.store, roundTrip(t, cer), f.keys, tuf.TrustStoredRoot()); err != nil {
		t.Fatalf("publish after a refresh: %v", err)
	}
}

func TestCeremonySignRefusesNothingAndSignsOnlyListedKeys(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	a := f.keys.add(t)
	stranger := f.keys.add(t)
	cer := stage(t, f, only(t, f.keys, f.snapshot), tuf.Rotation{Role: "root", Add: []*metadata.Key{a}})
	if cer.Lists(keyID(t, stranger)) || !cer.Lists(keyID(t, a)) {
		t.Fatal("Lists is wrong")
	}
	got, err := cer.Sign(context.Background(), only(t, f.keys, stranger))
	if err != nil || len(got) != 0 {
		t.Fatalf("a key the ceremony does not need signed %v (%v)", got, err)
	}
}

func TestParseCeremonyRefusesMalformedFiles(t *testing.T) {
	t.Parallel()
	f := newRepo(t)
	good, err := stage(t, f, f.keys, tuf.Rotation{Role: "root"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"empty":         "",
		"not json":      "hello",
		"array":         "[]",
		"unknown field": strings.Replace(string(good), `"type"`, `"extra": 1, "type"`, 1),
		"wrong type":    strings.Replace(string(good), `"signet-ceremony"`, `"other"`, 1),
		"trailing data": string(good) + "{}",
		"no proposal":   editCeremony(t, good, func(f map[string]any) { f["proposed"] = map[string]any{} }),
		"no base root":  editCeremony(t, good, func(f map[string]any) { delete(f, "baseRoot") }),
		"base version":  editCeremony(t, good, func(f map[string]any) { f["base"].(map[string]any)["rootVersion"] = 7 }),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tuf.ParseCeremony([]byte(data)); errkind.Of(err) != errkind.Input || err == nil {
				t.Fatalf("err = %v (kind %d), want an input error", err, errkind.Of(err))
			}
		})
	}
}

// editCeremony changes a staged file's JSON.
func editCeremony(t *testing.T, data []byte, edit func(map[string]any)) string {
	t.Helper()
	var file map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	edit(file)
	out, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func FuzzCeremonyFile(f *testing.F) {
	store, keys := seedRepo(f)
	for _, rot := range []tuf.Rotation{{Role: "root"}, {Role: "targets"}} {
		r, err := tuf.Open(context.Background(), store, tuf.TrustStoredRoot())
		if err != nil {
			f.Fatal(err)
		}
		if err := r.Rotate(context.Background(), rot); err != nil {
			f.Fatal(err)
		}
		c, err := r.Stage(context.Background(), keys, "example.com/app")
		if err != nil {
			f.Fatal(err)
		}
		data, err := c.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"type":"signet-ceremony","version":1,"repository":"r","base":{"rootVersion":1,"roles":{}},"baseRoot":{},"proposed":{"root":null}}`))
	f.Add([]byte(`{"type":"signet-ceremony","version":1,"repository":"r","base":{"rootVersion":1},"baseRoot":{"signed":{"_type":"root","roles":{}},"signatures":[]},"proposed":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := tuf.ParseCeremony(data)
		if err != nil {
			if k := errkind.Of(err); k != errkind.Input && k != errkind.Verification {
				t.Fatalf("error of kind %d: %v", k, err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal of a parsed ceremony: %v", err)
		}
		if _, err := tuf.ParseCeremony(out); err != nil {
			t.Fatalf("a parsed ceremony does not parse again: %v", err)
		}
		_ = c.Thresholds()
	})
}

// seedRepo is newRepo for a fuzz target: a repository in memory and the
// keyring holding all its keys.
func seedRepo(tb testing.TB) (*tuftest.Store, *testKeyring) {
	keys := newKeyring()
	var pub [4]*metadata.Key
	for i := range pub {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		s, err := signature.LoadSigner(priv, crypto.SHA256)
		if err != nil {
			tb.Fatal(err)
		}
		if pub[i], err = metadata.KeyFromPublicKey(priv.Public()); err != nil {
			tb.Fatal(err)
		}
		id, _ := pub[i].ID()
		keys.signers[id] = s
	}
	store := &tuftest.Store{}
	_, err := tuf.Init(context.Background(), store, tuf.InitConfig{
		RootKeys: pub[:1], TargetsKeys: pub[1:2], SnapshotKeys: pub[2:3], TimestampKeys: pub[3:],
	}, keys)
	if err != nil {
		tb.Fatal(err)
	}
	return store, keys
}

func TestCeremonyForADelegationCarriesTargetsAndIsSignedByTheNewKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRepo(t)
	root1 := f.store.Files()["1.root.json"]
	ci, ci2 := f.keys.add(t), f.keys.add(t)
	_, err := tuf.Update(ctx, f.store, f.keys, func(r *tuf.Repo) error {
		if err := r.AddDelegation("ci", []*metadata.Key{ci}, []string{"v*"}, 1, false); err != nil {
			return err
		}
		return nil
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tuf.Update(ctx, f.store, f.keys, func(r *tuf.Repo) error { return r.AddTargets(ctx, "ci", []tuf.Target{target("v1", 1)}) }, tuf.TrustStoredRoot()); err != nil {
		t.Fatal(err)
	}
	owner := without(t, f.keys, ci2)
	cer := roundTrip(t, stage(t, f, owner, tuf.Rotation{Role: "ci", Add: []*metadata.Key{ci2}, Remove: []string{keyID(t, ci)}}))
	if got := strings.Join(cer.Proposed(), ","); got != "ci,targets" {
		t.Fatalf("proposed %s", got)
	}
	if got := signed(cer.Thresholds()); got != "ci=0/1 targets=1/1" {
		t.Fatalf("thresholds %s", got)
	}
	if _, err := cer.Sign(ctx, only(t, f.keys, ci2)); err != nil {
		t.Fatal(err)
	}
	if _, err := tuf.PublishCeremony(ctx, f.store, roundTrip(t, cer), owner, tuf.TrustStoredRoot()); err != nil {
		t.Fatalf("publish: %v", err)
	}
	got, err := pinnedVerify(t, f, root1, "v1")
	if err != nil || got.Role != "ci" {
		t.Fatalf("verify = %+v, %v", got, err)
	}
}
