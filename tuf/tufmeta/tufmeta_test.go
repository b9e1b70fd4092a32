package tufmeta

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func TestBinOwnerNamesTheRoleWhoseSuccinctDelegationNamesTheBin(t *testing.T) {
	for bin, want := range map[string]string{
		"_bin-00": BinsRole, "_bin-ff": BinsRole, "_ci_bin-3a": "ci", "_a_bin_bin-01": "a_bin",
		DelegationBinPrefix("release-1") + "-7f": "release-1",
	} {
		if got, ok := BinOwner(bin); !ok || got != want {
			t.Errorf("BinOwner(%q) = %q, %v; want %q", bin, got, ok, want)
		}
	}
	for _, role := range []string{"targets", "ci", "_bins", "__bin-00", "_bin", "bin-00"} {
		if got, ok := BinOwner(role); ok {
			t.Errorf("BinOwner(%q) = %q, true; want not a bin", role, got)
		}
	}
}

func TestLatestRootVersionIgnoresFilesThatAreNotVersionedRoots(t *testing.T) {
	files := []string{RootFile(1), RootFile(12), "3.root.json.bak", "x.root.json", Versioned(40, "targets"), "timestamp.json"}
	if got := LatestRootVersion(files); got != 12 {
		t.Fatalf("LatestRootVersion = %d, want 12", got)
	}
	if got := LatestRootVersion(nil); got != 0 {
		t.Fatalf("LatestRootVersion(nil) = %d, want 0", got)
	}
}

func TestCountSignaturesTellsValidFromBadAndIgnoresOtherKeys(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
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
	md := metadata.Targets(time.Now().Add(time.Hour))
	if _, err := md.Sign(signer); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*metadata.Key{id: key}
	if valid, bad := CountSignatures(keys, []string{id, "unknown"}, md, md.Signatures); valid != 1 || bad != 0 {
		t.Fatalf("signed: valid %d bad %d, want 1 0", valid, bad)
	}
	md.Signed.Version++ // the signature no longer matches the content
	if valid, bad := CountSignatures(keys, []string{id}, md, md.Signatures); valid != 0 || bad != 1 {
		t.Fatalf("changed after signing: valid %d bad %d, want 0 1", valid, bad)
	}
}

func TestSameSignedComparesTheSignedPartOnly(t *testing.T) {
	a := metadata.Root(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	b := metadata.Root(a.Signed.Expires)
	b.Signatures = append(b.Signatures, metadata.Signature{KeyID: "k", Signature: []byte{1}})
	if same, err := SameSigned(a, b); err != nil || !same {
		t.Fatalf("SameSigned = %v, %v; want true (signatures differ only)", same, err)
	}
	b.Signed.Version = 2
	if same, err := SameSigned(a, b); err != nil || same {
		t.Fatalf("SameSigned = %v, %v; want false (versions differ)", same, err)
	}
}
