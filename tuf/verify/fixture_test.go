package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// fixKey is a test signing key and its TUF public key.
type fixKey struct {
	signer signature.Signer
	key    *metadata.Key
	id     string
}

// newFixKey makes an ECDSA P-256 key (as on a YubiKey) or an Ed25519 key.
func newFixKey(t *testing.T, p256 bool) fixKey {
	t.Helper()
	var (
		signer signature.Signer
		pub    crypto.PublicKey
		err    error
	)
	if p256 {
		priv, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			t.Fatal(gerr)
		}
		signer, err = signature.LoadSigner(priv, crypto.SHA256)
		pub = &priv.PublicKey
	} else {
		pubKey, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			t.Fatal(gerr)
		}
		signer, err = signature.LoadSigner(priv, crypto.Hash(0))
		pub = pubKey
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := key.ID()
	if err != nil {
		t.Fatal(err)
	}
	return fixKey{signer: signer, key: key, id: id}
}

// fixture builds TUF repositories with go-tuf's metadata API, laid
// out as signet publishes them: every N.root.json, then the current
// N.targets.json, N.<delegation>.json, N.snapshot.json and timestamp.json.
type fixture struct {
	t   *testing.T
	now time.Time
	// hashes lists length and SHA-256 of files in snapshot and timestamp.
	hashes bool
	// expires overrides the expiry of a role at the next publish.
	expires map[string]time.Time

	root      *metadata.Metadata[metadata.RootType]
	rootKeys  []fixKey
	keys      map[string]fixKey // signing key of every other role
	targets   *metadata.Metadata[metadata.TargetsType]
	delegated map[string]*metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	dirty     map[string]bool
	files     map[string][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	fx := &fixture{
		t: t, now: now, hashes: true, expires: map[string]time.Time{},
		root:      metadata.Root(now.Add(365 * 24 * time.Hour)),
		rootKeys:  []fixKey{newFixKey(t, true)},
		keys:      map[string]fixKey{},
		targets:   metadata.Targets(),
		delegated: map[string]*metadata.Metadata[metadata.TargetsType]{},
		snapshot:  metadata.Snapshot(),
		timestamp: metadata.Timestamp(),
		dirty:     map[string]bool{metadata.TARGETS: true},
		files:     map[string][]byte{},
	}
	fx.targets.Signed.Version, fx.snapshot.Signed.Version, fx.timestamp.Signed.Version = 0, 0, 0
	for _, role := range []string{metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		fx.keys[role] = newFixKey(t, false)
		if err := fx.root.Signed.AddKey(fx.keys[role].key, role); err != nil {
			t.Fatal(err)
		}
	}
	if err := fx.root.Signed.AddKey(fx.rootKeys[0].key, metadata.ROOT); err != nil {
		t.Fatal(err)
	}
	fx.files["1.root.json"] = fixSign(t, fx.root, fx.rootKeys...)
	return fx
}

// fixSign replaces the signatures of md with those of keys and serialises it.
func fixSign[T metadata.Roles](t *testing.T, md *metadata.Metadata[T], keys ...fixKey) []byte {
	t.Helper()
	md.ClearSignatures()
	for _, k := range keys {
		if _, err := md.Sign(k.signer); err != nil {
			t.Fatal(err)
		}
	}
	data, err := md.ToBytes(false)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rootJSON returns the published root of version v.
func (fx *fixture) rootJSON(v int64) []byte {
	data, ok := fx.files[strconv.FormatInt(v, 10)+".root.json"]
	if !ok {
		fx.t.Fatalf("no root version %d", v)
	}
	return data
}

// addTarget signs tag into role ("targets" or a delegation) with manifest's
// size and digest, as signet signs an image.
func (fx *fixture) addTarget(role, tag string, manifest []byte) {
	fx.t.Helper()
	md := fx.targets
	if role != metadata.TARGETS {
		md = fx.delegated[role]
	}
	sum := sha256.Sum256(manifest)
	custom := json.RawMessage(`{"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	md.Signed.Targets[tag] = &metadata.TargetFiles{
		Length: int64(len(manifest)),
		Hashes: metadata.Hashes{"sha256": sum[:]},
		Custom: &custom,
		Path:   tag,
	}
	fx.dirty[role] = true
}

// delegate adds a delegated role with its own key, after the existing ones.
func (fx *fixture) delegate(name string, paths []string, terminating bool) {
	fx.t.Helper()
	k := newFixKey(fx.t, false)
	fx.keys[name] = k
	if fx.targets.Signed.Delegations == nil {
		fx.targets.Signed.Delegations = &metadata.Delegations{Keys: map[string]*metadata.Key{}}
	}
	d := fx.targets.Signed.Delegations
	d.Keys[k.id] = k.key
	d.Roles = append(d.Roles, metadata.DelegatedRole{
		Name: name, KeyIDs: []string{k.id}, Threshold: 1, Terminating: terminating, Paths: paths,
	})
	md := metadata.Targets()
	md.Signed.Version = 0
	fx.delegated[name] = md
	fx.dirty[metadata.TARGETS], fx.dirty[name] = true, true
}

// rotateRoot publishes the next root version with next as its root keys,
// signed by signers.
func (fx *fixture) rotateRoot(next []fixKey, signers ...fixKey) {
	fx.t.Helper()
	r := &fx.root.Signed
	for _, k := range fx.rootKeys {
		if err := r.RevokeKey(k.id, metadata.ROOT); err != nil {
			fx.t.Fatal(err)
		}
	}
	for _, k := range next {
		if err := r.AddKey(k.key, metadata.ROOT); err != nil {
			fx.t.Fatal(err)
		}
	}
	r.Version++
	fx.rootKeys = next
	fx.files[strconv.FormatInt(r.Version, 10)+".root.json"] = fixSign(fx.t, fx.root, signers...)
}

// rotateRootKey replaces the root key, signed by the old and the new key.
func (fx *fixture) rotateRootKey() {
	fx.t.Helper()
	next := newFixKey(fx.t, true)
	fx.rotateRoot([]fixKey{next}, append([]fixKey{next}, fx.rootKeys...)...)
}

func (fx *fixture) expiry(role string, d time.Duration) time.Time {
	if at, ok := fx.expires[role]; ok {
		return at
	}
	return fx.now.Add(d)
}

func (fx *fixture) meta(version int64, data []byte) *metadata.MetaFiles {
	m := &metadata.MetaFiles{Version: version}
	if fx.hashes {
		sum := sha256.Sum256(data)
		m.Length, m.Hashes = int64(len(data)), metadata.Hashes{"sha256": sum[:]}
	}
	return m
}

// publish signs what changed, a new snapshot and a new timestamp, and
// returns the view a reader would see now.
func (fx *fixture) publish() *memView {
	fx.t.Helper()
	for name := range fx.files {
		if !strings.HasSuffix(name, ".root.json") {
			delete(fx.files, name)
		}
	}
	year := 365 * 24 * time.Hour
	fx.snapshot.Signed.Meta = map[string]*metadata.MetaFiles{}
	roles := map[string]*metadata.Metadata[metadata.TargetsType]{metadata.TARGETS: fx.targets}
	for name, md := range fx.delegated {
		roles[name] = md
	}
	for name, md := range roles {
		if fx.dirty[name] {
			md.Signed.Version++
		}
		md.Signed.Expires = fx.expiry(name, year)
		data := fixSign(fx.t, md, fx.keys[name])
		fx.files[strconv.FormatInt(md.Signed.Version, 10)+"."+name+".json"] = data
		fx.snapshot.Signed.Meta[name+".json"] = fx.meta(md.Signed.Version, data)
	}
	fx.dirty = map[string]bool{}
	fx.snapshot.Signed.Version++
	fx.snapshot.Signed.Expires = fx.expiry(metadata.SNAPSHOT, 30*24*time.Hour)
	snap := fixSign(fx.t, fx.snapshot, fx.keys[metadata.SNAPSHOT])
	fx.files[strconv.FormatInt(fx.snapshot.Signed.Version, 10)+".snapshot.json"] = snap
	fx.timestamp.Signed.Version++
	fx.timestamp.Signed.Expires = fx.expiry(metadata.TIMESTAMP, 7*24*time.Hour)
	fx.timestamp.Signed.Meta = map[string]*metadata.MetaFiles{"snapshot.json": fx.meta(fx.snapshot.Signed.Version, snap)}
	fx.files["timestamp.json"] = fixSign(fx.t, fx.timestamp, fx.keys[metadata.TIMESTAMP])
	return newMemView(fx.files)
}
