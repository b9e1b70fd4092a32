package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// exportBundle writes the named keys of p's keystore into one encrypted
// bundle, as `signet key export --private` does for a CI secret; with the
// online keys of a repository (`--online R`), it carries R's root as p
// trusts it.
func exportBundle(t *testing.T, p *person, names ...string) string {
	t.Helper()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	roots := map[string][]byte{}
	for _, n := range names {
		if r, ok := strings.CutSuffix(n, "/snapshot"); ok {
			repo, err := registry.ParseRepository(r)
			if err != nil {
				t.Fatal(err)
			}
			if roots[r], err = ks.PinnedRoot(repo.RegistryStr(), repo.RepositoryStr()); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := ks.ExportBundleWithRoots(context.Background(), names, roots)
	if err != nil {
		t.Fatalf("exporting %v: %v", names, err)
	}
	return string(b)
}

// ciRunner is a CI job: an empty signet home, and only SIGNET_KEY (the
// bundle) and the passphrase in its environment.
func ciRunner(t *testing.T, bundle string) *person {
	t.Helper()
	p := newPerson(t)
	env := map[string]string{signer.EnvKey: bundle}
	pass := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		return []byte(passphrase), nil
	}
	p.deps.Resolver = sync.OnceValues(func() (*signer.Resolver, error) {
		ks, err := p.deps.Keystore()
		if err != nil {
			return nil, err
		}
		return signer.NewResolver(ks, signer.WithPassphrase(pass), signer.WithEnv(func(k string) string { return env[k] }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy)))
	})
	return p
}

func onlineKeys(repo string) []string { return []string{repo + "/snapshot", repo + "/timestamp"} }

func tagExists(t *testing.T, tag string) bool {
	t.Helper()
	tg, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(tg)
	return err == nil
}

func (p *person) noticesSay(word string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.notices, func(n string) bool { return strings.Contains(n, word) })
}

func TestCIKeyFromABundleSignsTheTagsDelegatedToItAndNothingElse(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := initRepo(t, repo)
		owner.generate("ci")
		added, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci-release", KeyRefs: []string{"ci"}, Paths: []string{"v*"}})
		if err != nil {
			t.Fatalf("delegate add: %v", err)
		}
		dl := added.Delegation
		if dl.Name != "ci-release" || dl.Threshold != 1 || dl.Signatures != 1 || len(dl.Keys) != 1 || dl.Keys[0].Name != "ci" || !slices.Equal(dl.Paths, []string{"v*"}) {
			t.Fatalf("delegation = %+v", dl)
		}

		// CI: an empty home, SIGNET_KEY holding ci and the online keys.
		ci := ciRunner(t, exportBundle(t, owner, append([]string{"ci"}, onlineKeys(repo)...)...))
		signed, err := app.Push(ctx, ci.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v1.2.3", Key: "ci"})
		if err != nil {
			t.Fatalf("CI push: %v", err)
		}
		if signed.Signed[0].Role != "ci-release" || len(signed.Pending) != 0 {
			t.Fatalf("CI push result %+v", signed)
		}
		if keys, _ := os.ReadDir(filepath.Join(ci.home, "keys")); len(keys) != 0 {
			t.Fatalf("CI wrote keys into its home: %v", keys)
		}

		consumer := newPerson(t)
		got, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1.2.3", RootFile: rootFile(t, repo)})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if got.Role != "ci-release" || got.Digest != signed.Signed[0].Digest {
			t.Fatalf("verify = %+v", got)
		}
		ins, err := app.Inspect(ctx, consumer.deps, repo)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins.Targets) != 1 || ins.Targets[0].Name != "v1.2.3" || ins.Targets[0].Role != "ci-release" {
			t.Fatalf("inspect targets %+v", ins.Targets)
		}
		if !slices.ContainsFunc(ins.Roles, func(r app.RoleSummary) bool { return r.Name == "ci-release" && slices.Equal(r.Paths, []string{"v*"}) }) {
			t.Fatalf("inspect roles lack ci-release: %+v", ins.Roles)
		}

		// The CI key may not sign latest: refused before the image is
		// pushed, and the trust data does not move.
		tufBefore := currentDigest(t, tufTag(t, repo))
		_, err = app.Push(ctx, ci.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":latest", Key: "ci"})
		wantFail(t, err, errkind.Verification, "may not sign", "latest")
		if tagExists(t, repo+":latest") {
			t.Fatal("a refused push moved the tag")
		}
		if after := currentDigest(t, tufTag(t, repo)); after != tufBefore {
			t.Fatalf("a refused push moved %s: %s -> %s", tufTag(t, repo), tufBefore, after)
		}
		push(t, owner, repo+":stable")
		tufBefore = currentDigest(t, tufTag(t, repo))
		_, err = app.Sign(ctx, ci.deps, app.SignRequest{Tags: []string{repo + ":stable"}, Key: "ci"})
		wantFail(t, err, errkind.Verification, "may not sign")
		if after := currentDigest(t, tufTag(t, repo)); after != tufBefore {
			t.Fatalf("a refused sign moved %s: %s -> %s", tufTag(t, repo), tufBefore, after)
		}
	})
}

func TestRemovingADelegationUnsignsItsTagsAndReAddingWithANewKeyRestoresThem(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := initRepo(t, repo)
		owner.generate("ci")
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci", KeyRefs: []string{"ci"}, Paths: []string{"v*", "release-*"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Push(ctx, owner.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v1", Key: "ci"}); err != nil {
			t.Fatal(err)
		}
		push(t, owner, repo+":v2") // signed by the targets key itself
		consumer := newPerson(t)
		root := rootFile(t, repo)
		verify := func(tag string) (*app.VerifyResult, error) {
			return app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":" + tag, RootFile: root})
		}
		if got, err := verify("v1"); err != nil || got.Role != "ci" {
			t.Fatalf("verify v1 = %+v, %v", got, err)
		}

		removed, err := app.DelegateRemove(ctx, owner.deps, app.DelegateRemoveRequest{Repository: repo, Name: "ci"})
		if err != nil {
			t.Fatalf("delegate remove: %v", err)
		}
		if !slices.Equal(removed.Unsigned, []string{"v1"}) {
			t.Fatalf("remove says %v lost their signature, want [v1]", removed.Unsigned)
		}
		_, err = verify("v1")
		wantFail(t, err, errkind.Verification, "not signed")
		if got, err := verify("v2"); err != nil || got.Role != "targets" {
			t.Fatalf("verify v2 after the removal = %+v, %v", got, err)
		}
		_, err = app.Sign(ctx, owner.deps, app.SignRequest{Tags: []string{repo + ":v1"}, Key: "ci"})
		wantFail(t, err, errkind.Verification, "not a targets key or a delegated key")
		list, err := app.DelegateList(ctx, owner.deps, repo)
		if err != nil || len(list.Delegations) != 0 {
			t.Fatalf("list after remove = %+v, %v", list, err)
		}

		owner.generate("ci2")
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci", KeyRefs: []string{"ci2"}, Paths: []string{"v*"}}); err != nil {
			t.Fatalf("re-adding: %v", err)
		}
		if _, err := app.Sign(ctx, owner.deps, app.SignRequest{Tags: []string{repo + ":v1"}, Key: "ci2"}); err != nil {
			t.Fatalf("re-signing: %v", err)
		}
		if got, err := verify("v1"); err != nil || got.Role != "ci" {
			t.Fatalf("verify v1 after re-adding = %+v, %v", got, err)
		}
	})
}

func TestThresholdTwoDelegationVerifiesOnlyOnceTheSecondHolderSigns(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := initRepo(t, repo)
		owner.generate("alice")
		owner.generate("bob")
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "release", KeyRefs: []string{"alice", "bob"}, Paths: []string{"v*"}, Threshold: 2}); err != nil {
			t.Fatal(err)
		}
		alice := ciRunner(t, exportBundle(t, owner, append([]string{"alice"}, onlineKeys(repo)...)...))
		bob := ciRunner(t, exportBundle(t, owner, append([]string{"bob"}, onlineKeys(repo)...)...))
		consumer := newPerson(t)
		root := rootFile(t, repo)

		first, err := app.Push(ctx, alice.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v1", Key: "alice"})
		if err != nil {
			t.Fatalf("alice: %v", err)
		}
		if len(first.Pending) != 1 || first.Pending[0].Signatures != 1 || first.Pending[0].Threshold != 2 {
			t.Fatalf("alice's result pending = %+v", first.Pending)
		}
		if !alice.noticesSay("release needs 2 signatures, has 1: ask another holder of its keys to run signet sign " + repo + ":v1") {
			t.Fatalf("alice was not told that the role is pending: %q", alice.notices)
		}
		_, err = app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: root})
		wantFail(t, err, errkind.Verification, "1 of 2")

		second, err := app.Sign(ctx, bob.deps, app.SignRequest{Tags: []string{repo + ":v1"}, Key: "bob"})
		if err != nil {
			t.Fatalf("bob: %v", err)
		}
		if len(second.Pending) != 0 || bob.noticesSay("needs 2 signatures") {
			t.Fatalf("bob's signature left the role pending: %+v %q", second.Pending, bob.notices)
		}
		got, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":v1"})
		if err != nil || got.Role != "release" || got.Digest != first.Signed[0].Digest {
			t.Fatalf("verify after both signed = %+v, %v", got, err)
		}
		list, err := app.DelegateList(ctx, consumer.deps, repo)
		if err != nil || len(list.Delegations) != 1 || list.Delegations[0].Signatures != 2 || list.Delegations[0].Targets != 1 {
			t.Fatalf("list = %+v, %v", list, err)
		}
	})
}

func TestDelegateRefusesBadInputAsUsageErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	owner := initRepo(t, repo)
	owner.generate("ci")
	for _, req := range []app.DelegateAddRequest{
		{Repository: repo, Name: "ci", Paths: []string{"v*"}},
		{Repository: repo, Name: "ci", KeyRefs: []string{"ci"}, Paths: []string{"[v"}},
		{Repository: repo, Name: "Bad_Name", KeyRefs: []string{"ci"}},
		{Repository: repo, Name: "targets", KeyRefs: []string{"ci"}},
		{Repository: repo, Name: "ci", KeyRefs: []string{"ci"}, Threshold: 2},
	} {
		_, err := app.DelegateAdd(ctx, owner.deps, req)
		wantFail(t, err, errkind.Input)
	}
	_, err := app.DelegateRemove(ctx, owner.deps, app.DelegateRemoveRequest{Repository: repo, Name: "nope"})
	wantFail(t, err, errkind.Input, "no delegation named nope")
}

func TestTufJSResolvesADelegatedTag(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := initRepo(t, repo)
		owner.generate("ci")
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci-release", KeyRefs: []string{"ci"}, Paths: []string{"v*"}}); err != nil {
			t.Fatal(err)
		}
		signed, err := app.Push(ctx, owner.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v1.2.3", Key: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		rootJSON, err := os.ReadFile(rootFile(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(repo, host+"/")
		res, err := tufjs.Verify(ctx, host, path, "_tuf", rootJSON, "v1.2.3", tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || "sha256:"+res.SHA256 != signed.Signed[0].Digest || !slices.ContainsFunc(res.Fetched, func(f string) bool { return strings.HasSuffix(f, ".ci-release.json") }) {
			t.Fatalf("tuf-js = %+v, signed %+v", res, signed.Signed[0])
		}
		res, err = tufjs.Verify(ctx, host, path, "_tuf", rootJSON, "v9", tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if res.OK {
			t.Fatalf("tuf-js found an unsigned tag: %+v", res)
		}
	})
}
