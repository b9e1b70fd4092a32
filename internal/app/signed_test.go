package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf"
)

// SignedTag finds a tag that signs a digest for a digest-only reference
// (what the admission webhook admits as REPO@sha256:…). A signed name that
// no image reference can carry, listed with the same digest by a holder
// of a targets key, is passed over: it neither fails the lookup nor counts.
func TestSignedTagPassesOverSignedNamesThatAreNoTag(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		root := rootFile(t, repo)
		v1 := push(t, pub, repo+":v1").Signed[0]
		hex := strings.TrimPrefix(v1.Digest, "sha256:")
		// "a b" sorts before "v1": the lookup meets it first.
		if err := app.AddTargetUnchecked(ctx, pub.deps, repo, tuf.Target{Name: "a b", Length: v1.Size, SHA256: hex, MediaType: v1.MediaType}); err != nil {
			t.Fatal(err)
		}
		consumer := newPerson(t)
		if tag, err := app.SignedTag(ctx, consumer.deps, repo, v1.Digest, root); err != nil || tag != "v1" {
			t.Fatalf("SignedTag(%s) = %q, %v; want v1", v1.Digest, tag, err)
		}
		other := "sha256:" + strings.Repeat("0", 64)
		if err := app.AddTargetUnchecked(ctx, pub.deps, repo, tuf.Target{Name: "b@c", Length: 1, SHA256: strings.Repeat("0", 64), MediaType: v1.MediaType}); err != nil {
			t.Fatal(err)
		}
		if tag, err := app.SignedTag(ctx, consumer.deps, repo, other, root); err != nil || tag != "" {
			t.Fatalf("SignedTag of a digest only a non-tag name lists = %q, %v; want none", tag, err)
		}
	})
}
