package app_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
	"github.com/signet-dev/signet/signer"
)

const testPIN = "135790"

// withCard gives p's commands the virtual YubiKey with serial, holding a
// targets key (touch always) recorded in p's keystore as "targets".
func withCard(t *testing.T, p *person, cards *pivsimtest.Env, serial uint32) {
	t.Helper()
	ctx := context.Background()
	ks, err := p.deps.Keystore()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := piv.YubicoRoots()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(cards.AttestationCA)
	if err != nil {
		t.Fatal(err)
	}
	if err := roots.AddPEM(ca); err != nil {
		t.Fatal(err)
	}
	pin := piv.WithPIN(func(context.Context, uint32) (piv.PIN, error) { return piv.PIN{Value: testPIN}, nil })
	yk, err := piv.Open(ctx, serial, pin)
	if err != nil {
		t.Fatal(err)
	}
	res, err := yk.Setup(ctx, piv.SetupConfig{
		Slot: piv.Slot(0x82), Force: true, Roots: roots, RequireAttestation: true, TouchPolicy: piv.TouchAlways,
		NewPIN: func() (string, error) { return testPIN, nil }, NewPUK: func() (string, error) { return "24680246", nil },
	})
	yk.Close()
	if err != nil {
		t.Fatalf("setting up the card: %v", err)
	}
	if _, err := ks.PutHardware(keystore.HardwareKey{Name: "targets", Public: res.Public, Serial: serial, Slot: res.Slot.String(), Attestation: res.Attestation}); err != nil {
		t.Fatal(err)
	}
	hw := signer.NewYubiKeys(ks, pin)
	t.Cleanup(func() { _ = hw.Close() })
	pass := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		return []byte(passphrase), nil
	}
	p.deps.Resolver = sync.OnceValues(func() (*signer.Resolver, error) {
		return signer.NewResolver(ks, signer.WithPassphrase(pass), signer.WithHardware(hw), signer.WithEnv(func(string) string { return "" }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy)))
	})
}

func TestOwnersOnAYubiKeyDelegateWithOneTouchAndCISignsWithoutTheCard(t *testing.T) {
	cards := pivsimtest.Need(t)
	eachRegistry(t, func(t *testing.T, host string) {
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
