package app_test

import (
	"context"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

func TestRootOnYubiKeysRotatesFromOneOfOneToTwoOfThreeAndBack(t *testing.T) {
	t.Parallel()
	script := testenv.Need(t, tufjs.EnvVar)
	cards := pivsimtest.Need(t)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := newPerson(t)
		// Three hardware root keys on the two cards: card 1 slots 9c and
		// 83 (two keys, counted as two), card 2 slot 9c.
		onCards(t, pub, cards, map[string]cardSlot{
			"root-1":  {cards.Serial, piv.Slot(0x9c)},
			"root-1b": {cards.Serial, piv.Slot(0x83)},
			"root-2":  {cards.Serial2, piv.Slot(0x9c)},
		})
		if _, err := app.Init(ctx, pub.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root-1"}}); err != nil {
			t.Fatalf("init with root on the card: %v", err)
		}
		check := pinnedCheck(t, pub, host, repo, script)
		touches := func() int {
			t.Helper()
			total := 0
			for _, s := range []uint32{cards.Serial, cards.Serial2} {
				n, err := cards.Client.Counters(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				total += n.Touches
			}
			return total
		}

		before := touches()
		res := rotate(t, pub, app.RotateRequest{Repository: repo, Role: "root", AddKeys: []string{"root-1b", "root-2"}, Threshold: 2})
		if res.RootVersion != 2 || res.Threshold != 2 || len(res.Keys) != 3 {
			t.Fatalf("2 of 3: %+v", res)
		}
		// root-1 signs once for both thresholds, one more key for the new one.
		if n := touches() - before; n != 2 {
			t.Fatalf("rotating to 2 of 3 took %d touches, want 2", n)
		}
		check("v2", 2)

		before = touches()
		res = rotate(t, pub, app.RotateRequest{Repository: repo, Role: "root", RemoveKeys: []string{"root-1b", "root-2"}, Threshold: 1})
		if res.RootVersion != 3 || res.Threshold != 1 || len(res.Keys) != 1 || res.Keys[0].Name != "root-1" {
			t.Fatalf("back to 1 of 1: %+v", res)
		}
		if n := touches() - before; n != 2 {
			t.Fatalf("rotating back took %d touches, want 2", n)
		}
		check("v3", 3)
	})
}

func TestALeakedTargetsKeyIsRotatedWithTheRootOnAYubiKey(t *testing.T) {
	t.Parallel()
	cards := pivsimtest.Need(t)
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := newPerson(t)
		onCards(t, pub, cards, map[string]cardSlot{"root": {cards.Serial, piv.Slot(0x9c)}})
		in, err := app.Init(ctx, pub.deps, app.InitRequest{Repository: repo, RootKeys: []string{"root"}})
		if err != nil {
			t.Fatal(err)
		}
		signed := push(t, pub, repo+":v1")
		root1 := rootFile(t, repo)
		var targetsName, snapName, tsName string
		for _, k := range in.Keys {
			switch k.Role {
			case "targets":
				targetsName = k.Name
			case "snapshot":
				snapName = k.Name
			case "timestamp":
				tsName = k.Name
			}
		}
		leaked := softSigner(t, pub, targetsName)

		pub.generate("targets-2")
		if err := cards.Client.ResetCounters(ctx, cards.Serial); err != nil {
			t.Fatal(err)
		}
		rotate(t, pub, app.RotateRequest{Repository: repo, Role: "targets", AddKeys: []string{"targets-2"}, RemoveKeys: []string{targetsName}})
		if n, err := cards.Client.Counters(ctx, cards.Serial); err != nil || n.Touches != 1 {
			t.Fatalf("the rotation took %+v touches (%v), want 1", n, err)
		}
		if got, err := pinnedVerify(t, repo+":v1", root1); err != nil || got.Digest != signed.Signed[0].Digest {
			t.Fatalf("v1 after rotation = %+v, %v", got, err)
		}
		evil := pushUnsigned(t, pub, repo+":evil")
		forge(t, repo, "evil", evil, leaked, softSigner(t, pub, snapName), softSigner(t, pub, tsName))
		_, err = pinnedVerify(t, repo+":evil", root1)
		wantFail(t, err, errkind.Verification, "untrusted signature")
	})
}
