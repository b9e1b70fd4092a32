package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// tagMany points tags name-0..name-(n-1) of repo at the image of from.
func tagMany(t *testing.T, from string, repo string, prefix string, lo, hi int) []string {
	t.Helper()
	src, err := name.NewTag(from, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	// One pusher authenticates once for every tag.
	pusher, err := remote.NewPusher()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for i := lo; i < hi; i++ {
		tag := fmt.Sprintf("%s:%s%04d", repo, prefix, i)
		dst, err := name.NewTag(tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := pusher.Push(context.Background(), dst, desc); err != nil {
			t.Fatal(err)
		}
		tags = append(tags, tag)
	}
	return tags
}

func TestARepositoryCrossingTheBinThresholdKeepsEveryTagVerifyingForSignetAndTufJS(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":base")
		first := tagMany(t, repo+":base", repo, "r", 0, tuf.BinThreshold)
		if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: first}); err != nil {
			t.Fatalf("signing %d tags: %v", len(first), err)
		}
		later := tagMany(t, repo+":base", repo, "n", 0, 20)
		for _, tag := range later[:10] {
			if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{tag}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: later[10:]}); err != nil {
			t.Fatal(err)
		}
		rootJSON, err := os.ReadFile(rootFile(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		consumer := newPerson(t)
		path := strings.TrimPrefix(repo, host+"/")
		for _, tag := range []string{first[0], first[len(first)-1], later[0], later[19], repo + ":base"} {
			got, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: tag, RootFile: rootFile(t, repo)})
			if err != nil {
				t.Fatalf("verify %s: %v", tag, err)
			}
			if got.Role != "targets" {
				t.Fatalf("%s signed by %q", tag, got.Role)
			}
			res, err := tufjs.Verify(ctx, host, path, "_tuf", rootJSON, tag[strings.LastIndex(tag, ":")+1:], tufjs.WithScript(script))
			if err != nil || !res.OK || "sha256:"+res.SHA256 != got.Digest {
				t.Fatalf("tuf-js %s: %+v %v", tag, res, err)
			}
		}
		ins, err := app.Inspect(ctx, pub.deps, repo)
		if err != nil || len(ins.Targets) != tuf.BinThreshold+21 {
			t.Fatalf("inspect: %d targets, %v", len(ins.Targets), err)
		}
	})
}

func TestACICrossingTheBinThresholdSignsIntoItsOwnBinsForSignetAndTufJS(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := initRepo(t, repo)
		owner.generate("ci")
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci",
			KeyRefs: []string{"ci"}, Paths: []string{"v*"}, Terminating: true}); err != nil {
			t.Fatal(err)
		}
		push(t, owner, repo+":base")
		// CI signs from an empty home with its bundle, one publish past
		// the threshold, then one tag.
		ci := ciRunner(t, exportBundle(t, owner, append([]string{"ci"}, onlineKeys(repo)...)...))
		many := tagMany(t, repo+":base", repo, "v", 0, tuf.BinThreshold+5)
		if _, err := app.Sign(ctx, ci.deps, app.SignRequest{Tags: many, Key: "ci"}); err != nil {
			t.Fatalf("CI signing %d tags: %v", len(many), err)
		}
		one := tagMany(t, repo+":base", repo, "v", 5000, 5001)[0]
		if _, err := app.Sign(ctx, ci.deps, app.SignRequest{Tags: []string{one}, Key: "ci"}); err != nil {
			t.Fatal(err)
		}
		list, err := app.DelegateList(ctx, owner.deps, repo)
		if err != nil || len(list.Delegations) != 1 || !list.Delegations[0].Bins || list.Delegations[0].Targets != tuf.BinThreshold+6 {
			t.Fatalf("delegate list: %+v, %v", list, err)
		}

		rootJSON, err := os.ReadFile(rootFile(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		consumer := newPerson(t)
		path := strings.TrimPrefix(repo, host+"/")
		for _, tag := range []string{many[0], many[len(many)-1], one} {
			got, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: tag, RootFile: rootFile(t, repo)})
			if err != nil || got.Role != "ci" {
				t.Fatalf("verify %s: %+v, %v", tag, got, err)
			}
			res, err := tufjs.Verify(ctx, host, path, "_tuf", rootJSON, tag[strings.LastIndex(tag, ":")+1:], tufjs.WithScript(script))
			if err != nil || !res.OK || "sha256:"+res.SHA256 != got.Digest {
				t.Fatalf("tuf-js %s: %+v %v", tag, res, err)
			}
			// Signed after the conversion: found in a bin of ci.
			if tag == one && !slices.ContainsFunc(res.Fetched, func(f string) bool { return strings.Contains(f, "._ci_bin-") }) {
				t.Fatalf("tuf-js found %s without reading a bin of ci: %v", tag, res.Fetched)
			}
		}
		res, err := tufjs.Verify(ctx, host, path, "_tuf", rootJSON, "v9.9.9", tufjs.WithScript(script))
		if err != nil || res.OK {
			t.Fatalf("tuf-js found an unsigned tag: %+v %v", res, err)
		}
	})
}
