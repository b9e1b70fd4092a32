package tufjs

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
)

const (
	tufMediaType       = "application/vnd.tuf.metadata+json"
	emptyMediaType     = "application/vnd.oci.empty.v1+json"
	filenameAnnotation = "tuf.io/filename"
	imageMediaType     = `{"mediaType":"application/vnd.oci.image.manifest.v1+json"}`
)

// needScript skips (or fails under make test) without the tuf-js script.
func needScript(t *testing.T) {
	t.Helper()
	testenv.Need(t, EnvVar)
}

func TestTufJSAcceptsValidRepositoryAndReportsTheTarget(t *testing.T) {
	t.Parallel()
	needScript(t)
	content := []byte("the manifest bytes of team/app:v1")
	r := newTestRepo(t)
	r.issueTargets(map[string][]byte{"v1": content})
	addr := registrytest.InProcess(t)
	publish(t, addr, "team/app", "_tuf", r.files)

	res := verify(t, addr, "team/app", "_tuf", r.files["1.root.json"], "v1")
	if !res.OK {
		t.Fatalf("tuf-js rejected a valid repository: %s", res.Error)
	}
	sum := sha256.Sum256(content)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Length != int64(len(content)) {
		t.Errorf("got sha256 %s length %d, want %x length %d", res.SHA256, res.Length, sum, len(content))
	}
	var custom, want any
	if err := json.Unmarshal(res.Custom, &custom); err != nil {
		t.Fatalf("custom %q: %v", res.Custom, err)
	}
	_ = json.Unmarshal([]byte(imageMediaType), &want)
	if fmt.Sprint(custom) != fmt.Sprint(want) {
		t.Errorf("custom = %s, want %s", res.Custom, imageMediaType)
	}
	for _, f := range []string{"timestamp.json", "1.snapshot.json", "1.targets.json"} {
		if !slices.Contains(res.Fetched, f) {
			t.Errorf("tuf-js did not fetch %s (fetched %v)", f, res.Fetched)
		}
	}
}

func TestTufJSRejectsTargetsFileChangedAfterSigning(t *testing.T) {
	t.Parallel()
	needScript(t)
	r := newTestRepo(t)
	r.issueTargets(map[string][]byte{"v1": []byte("good")})
	// Point v1 at other bytes without re-signing: the signature no longer
	// matches, although the manifest is a well-formed, current one.
	evil := sha256.Sum256([]byte("evil"))
	good := sha256.Sum256([]byte("good"))
	tampered := bytes.Replace(r.files["1.targets.json"], []byte(hex.EncodeToString(good[:])), []byte(hex.EncodeToString(evil[:])), 1)
	if bytes.Equal(tampered, r.files["1.targets.json"]) {
		t.Fatal("test setup: the target hash was not found in 1.targets.json")
	}
	r.files["1.targets.json"] = tampered
	addr := registrytest.InProcess(t)
	publish(t, addr, "team/app", "_tuf", r.files)

	res := verify(t, addr, "team/app", "_tuf", r.files["1.root.json"], "v1")
	if res.OK {
		t.Fatalf("tuf-js accepted tampered targets metadata: sha256 %s", res.SHA256)
	}
	t.Logf("tuf-js: %s", res.Error)
	if !strings.Contains(res.Error, "targets was signed by 0/1") {
		t.Errorf("error %q is not a bad targets signature", res.Error)
	}
}

func TestTufJSReportsTargetNotInTheRepository(t *testing.T) {
	t.Parallel()
	needScript(t)
	r := newTestRepo(t)
	r.issueTargets(map[string][]byte{"v1": []byte("v1 bytes")})
	addr := registrytest.InProcess(t)
	publish(t, addr, "team/app", "_tuf", r.files)

	res := verify(t, addr, "team/app", "_tuf", r.files["1.root.json"], "v2")
	if res.OK {
		t.Fatalf("tuf-js found a target that was never signed: %+v", res)
	}
	t.Logf("tuf-js: %s", res.Error)
	if !strings.Contains(res.Error, "not found") {
		t.Errorf("error %q does not say the target was not found", res.Error)
	}
}

func TestTufJSWalksRootChainToRotatedTargetsKey(t *testing.T) {
	t.Parallel()
	needScript(t)
	content := []byte("v1 after rotation")
	r := newTestRepo(t)
	r.issueTargets(map[string][]byte{"v1": []byte("v1 before rotation")})
	trusted := r.files["1.root.json"]
	oldTargets := r.signers[metadata.TARGETS]
	r.rotateTargetsKey()
	r.issueTargets(map[string][]byte{"v1": content})
	addr := registrytest.InProcess(t)
	publish(t, addr, "team/app", "_tuf", r.files)

	res := verify(t, addr, "team/app", "_tuf", trusted, "v1")
	if !res.OK {
		t.Fatalf("tuf-js rejected a repository with a rotated targets key: %s", res.Error)
	}
	sum := sha256.Sum256(content)
	if res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %s, want %x", res.SHA256, sum)
	}
	if !slices.Contains(res.Fetched, "2.root.json") {
		t.Errorf("tuf-js did not fetch 2.root.json (fetched %v)", res.Fetched)
	}

	// The same files with targets signed by the revoked key are rejected,
	// so the success above depended on trusting 2.root.json.
	r.signers[metadata.TARGETS] = oldTargets
	r.issueTargets(map[string][]byte{"v1": content})
	publish(t, addr, "team/app", "_tuf", r.files)
	res = verify(t, addr, "team/app", "_tuf", trusted, "v1")
	if res.OK {
		t.Fatal("tuf-js accepted targets signed by a key that 2.root.json revoked")
	}
	t.Logf("tuf-js: %s", res.Error)
}

func TestTufJSRejectsManifestThatIsNotTheTUFArtifact(t *testing.T) {
	t.Parallel()
	needScript(t)
	r := newTestRepo(t)
	r.issueTargets(map[string][]byte{"v1": []byte("v1 bytes")})
	addr := registrytest.InProcess(t)
	publish(t, addr, "team/app", "_tuf", r.files, func(m *v1.Manifest) { m.ArtifactType = "application/vnd.example+json" })

	res := verify(t, addr, "team/app", "_tuf", r.files["1.root.json"], "v1")
	if res.OK || !strings.Contains(res.Error, "artifactType") {
		t.Fatalf("manifest with another artifactType: got %+v, want a failed verdict naming artifactType", res)
	}
}

func TestVerifyReturnsErrorWhenScriptCrashes(t *testing.T) {
	t.Parallel()
	needScript(t)
	script := filepath.Join(t.TempDir(), "crash.mjs")
	if err := os.WriteFile(script, []byte("process.stderr.write('boom\\n'); process.exit(3);\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), "127.0.0.1:1", "team/app", "_tuf", []byte("{}"), "v1", WithScript(script))
	if err == nil {
		t.Fatalf("Verify = %+v, want an error for a crashed script", res)
	}
	if !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %q does not carry the script's stderr", err)
	}
}

func TestTufJSFailsWhenMetadataTagIsMissing(t *testing.T) {
	t.Parallel()
	needScript(t)
	addr := registrytest.InProcess(t)
	res := verify(t, addr, "team/none", "_tuf", []byte("{}"), "v1")
	if res.OK || !strings.Contains(res.Error, "404") {
		t.Fatalf("missing metadata manifest: got %+v, want a failed verdict naming http status 404", res)
	}
}

func TestFindFailsWithoutEnvironment(t *testing.T) {
	t.Setenv(EnvVar, "")
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("Find() error = %v, want one naming %s", err, EnvVar)
	}
}

func verify(t *testing.T, addr, repo, tag string, root []byte, target string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Verify(ctx, addr, repo, tag, root, target)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// testRepo is a small TUF repository with one key per top-level role,
// consistent snapshots on, holding only the current file of each role and
// every root version, as docs/design.md §2 stores it.
type testRepo struct {
	t       *testing.T
	signers map[string]signature.Signer
	root    *metadata.Metadata[metadata.RootType]
	version int64 // of targets and snapshot
	files   map[string][]byte
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	r := &testRepo{t: t, signers: map[string]signature.Signer{}, files: map[string][]byte{}}
	r.root = metadata.Root(expiry())
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		signer, key := newKey(t)
		r.signers[role] = signer
		if err := r.root.Signed.AddKey(key, role); err != nil {
			t.Fatal(err)
		}
	}
	r.signRoot()
	return r
}

func (r *testRepo) signRoot() {
	r.root.ClearSignatures()
	r.files[fmt.Sprintf("%d.root.json", r.root.Signed.Version)] = sign(r.t, r.root, r.signers[metadata.ROOT])
}

// rotateTargetsKey publishes the next root version, which replaces the
// targets key with a new one.
func (r *testRepo) rotateTargetsKey() {
	old := r.root.Signed.Roles[metadata.TARGETS].KeyIDs[0]
	if err := r.root.Signed.RevokeKey(old, metadata.TARGETS); err != nil {
		r.t.Fatal(err)
	}
	signer, key := newKey(r.t)
	if err := r.root.Signed.AddKey(key, metadata.TARGETS); err != nil {
		r.t.Fatal(err)
	}
	r.signers[metadata.TARGETS] = signer
	r.root.Signed.Version++
	r.signRoot()
}

// issueTargets replaces targets, snapshot and timestamp with new versions
// listing targets (name -> the bytes the target describes).
func (r *testRepo) issueTargets(targets map[string][]byte) {
	t := r.t
	if r.version > 0 {
		delete(r.files, fmt.Sprintf("%d.targets.json", r.version))
		delete(r.files, fmt.Sprintf("%d.snapshot.json", r.version))
	}
	r.version++
	tg := metadata.Targets(expiry())
	tg.Signed.Version = r.version
	for name, data := range targets {
		tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
		if err != nil {
			t.Fatal(err)
		}
		custom := json.RawMessage(imageMediaType)
		tf.Custom = &custom
		tg.Signed.Targets[name] = tf
	}
	r.files[fmt.Sprintf("%d.targets.json", r.version)] = sign(t, tg, r.signers[metadata.TARGETS])

	sn := metadata.Snapshot(expiry())
	sn.Signed.Version = r.version
	sn.Signed.Meta["targets.json"] = metadata.MetaFile(r.version)
	snBytes := sign(t, sn, r.signers[metadata.SNAPSHOT])
	r.files[fmt.Sprintf("%d.snapshot.json", r.version)] = snBytes

	ts := metadata.Timestamp(expiry())
	ts.Signed.Version = r.version
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.version)
	r.files["timestamp.json"] = sign(t, ts, r.signers[metadata.TIMESTAMP])
}

func expiry() time.Time { return time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second) }

func newKey(t *testing.T) (signature.Signer, *metadata.Key) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.LoadED25519Signer(priv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return signer, key
}

func sign[T metadata.Roles](t *testing.T, md *metadata.Metadata[T], signer signature.Signer) []byte {
	t.Helper()
	if _, err := md.Sign(signer); err != nil {
		t.Fatal(err)
	}
	b, err := md.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publish stores files as the TUF metadata artifact of docs/design.md §2 at
// addr/repo:tag: blobs first, then the manifest on the tag.
// edits change the manifest before it is put, to publish malformed ones.
func publish(t *testing.T, addr, repo, tag string, files map[string][]byte, edits ...func(*v1.Manifest)) {
	t.Helper()
	ref, err := name.NewTag(addr+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(context.Background())}
	upload := func(data []byte, mt types.MediaType) v1.Descriptor {
		layer := static.NewLayer(data, mt)
		if err := remote.WriteLayer(ref.Context(), layer, opts...); err != nil {
			t.Fatalf("uploading blob: %v", err)
		}
		d, err := layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: d}
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  tufMediaType,
		Config:        upload([]byte("{}"), emptyMediaType),
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d := upload(files[n], tufMediaType)
		d.Annotations = map[string]string{filenameAnnotation: n}
		manifest.Layers = append(manifest.Layers, d)
	}
	for _, edit := range edits {
		edit(&manifest)
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(ref, rawManifest(raw), opts...); err != nil {
		t.Fatalf("putting manifest: %v", err)
	}
}

type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
