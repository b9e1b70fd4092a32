package app_test

import (
	"context"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
	"github.com/signet-dev/signet/registry/registrytest"
)

const testPIN = "135790"

// withCard gives p's commands the virtual YubiKey with serial, holding a
// targets key (touch always) recorded in p's keystore as "targets".
func withCard(t *testing.T, p *person, cards *pivsimtest.Env, serial uint32) {
	t.Helper()
	onCards(t, p, cards, map[string]cardSlot{"targets": {serial, piv.Slot(0x82)}})
}

func TestOwnersOnAYubiKeyDelegateWithOneTouchAndCISignsWithoutTheCard(t *testing.T) {
	t.Parallel()
	cards := pivsimtest.Need(t)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		owner := newPerson(t)
		withCard(t, owner, cards, cards.Serial)
		owner.generate("root")
		if _, err := app.Init(ctx, owner.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root"}, TargetsKey: "targets"}); err != nil {
			t.Fatalf("init with targets on the card: %v", err)
		}
		owner.generate("ci")

		if err := cards.Client.ResetCounters(ctx, cards.Serial); err != nil {
			t.Fatal(err)
		}
		if _, err := app.DelegateAdd(ctx, owner.deps, app.DelegateAddRequest{Repository: repo, Name: "ci-release", KeyRefs: []string{"ci"}, Paths: []string{"v*"}}); err != nil {
			t.Fatalf("delegate add: %v", err)
		}
		n, err := cards.Client.Counters(ctx, cards.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if n.Touches != 1 {
			t.Fatalf("delegate add took %d touches, want 1", n.Touches)
		}

		ci := ciRunner(t, exportBundle(t, owner, append([]string{"ci"}, onlineKeys(repo)...)...))
		signed, err := app.Push(ctx, ci.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":v1.2.3", Key: "ci"})
		if err != nil {
			t.Fatalf("CI push: %v", err)
		}
		if n, err := cards.Client.Counters(ctx, cards.Serial); err != nil || n.Touches != 1 {
			t.Fatalf("CI's push touched the owners' card: %+v, %v", n, err)
		}
		got, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1.2.3", RootFile: rootFile(t, repo)})
		if err != nil || got.Role != "ci-release" || got.Digest != signed.Signed[0].Digest {
			t.Fatalf("verify = %+v, %v", got, err)
		}
	})
}
