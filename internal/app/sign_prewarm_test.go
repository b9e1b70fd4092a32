package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/signer"
)

// derivations counts the scrypt derivations of one command: of the
// keystore master key, and of SIGNET_KEY bundles.
type derivations struct {
	keystore, bundle atomic.Int32
}

// reopen gives p a fresh keystore (locked, as at the start of a command)
// over the same home, whose passphrase is pass. With atHand false the
// passphrase is not in the environment: a background unlock
// (PassphraseRequest.NoPrompt) is refused as cmd/signet refuses it on a
// terminal, and only the foreground gets the passphrase. env is what
// SIGNET_KEY and env: references see.
func reopen(t *testing.T, p *person, pass string, atHand bool, env map[string]string) *derivations {
	t.Helper()
	n := &derivations{}
	pf := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		if req.NoPrompt && !atHand {
			return nil, fmt.Errorf("would prompt: %w", keystore.ErrPromptNeeded)
		}
		return []byte(pass), nil
	}
	ks := sync.OnceValues(func() (*keystore.Store, error) {
		s, err := keystore.Open(p.home, keystore.WithPassphrase(pf), keystore.WithKDFStrength(encrypted.Legacy),
			keystore.WithDeriveHook(func() { n.keystore.Add(1) }))
		if err == nil {
			t.Cleanup(func() { _ = s.Close() })
		}
		return s, err
	})
	p.deps.Keystore = ks
	p.deps.Resolver = sync.OnceValues(func() (*signer.Resolver, error) {
		s, err := ks()
		if err != nil {
			return nil, err
		}
		return signer.NewResolver(s, signer.WithPassphrase(pf), signer.WithEnv(func(k string) string { return env[k] }),
			signer.WithBundleOptions(keystore.WithKDFStrength(encrypted.Legacy), keystore.WithDeriveHook(func() { n.bundle.Add(1) })))
	})
	return n
}

func metadataDigest(t *testing.T, p *person, repo string) string {
	t.Helper()
	r, err := registry.ParseRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.deps.Registry.Metadata(context.Background(), registry.MetadataRef(r))
	if err != nil {
		t.Fatal(err)
	}
	return m.Digest().String()
}

func TestSignAndPushWithSoftwareKeysDeriveOnceWithTheUnlockInBackground(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo) // root, targets, snapshot and timestamp: software keys
		ctx := context.Background()

		n := reopen(t, pub, passphrase, true, nil)
		if _, err := app.Push(ctx, pub.deps, app.PushRequest{Source: ociLayout(t), Tag: repo + ":pushed"}); err != nil {
			t.Fatalf("push: %v", err)
		}
		if got := n.keystore.Load(); got != 1 {
			t.Fatalf("push derived the master key %d times, want 1", got)
		}

		pushUnsigned(t, pub, repo+":signed")
		n = reopen(t, pub, passphrase, true, nil)
		if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":signed"}}); err != nil {
			t.Fatalf("sign: %v", err)
		}
		if got := n.keystore.Load(); got != 1 {
			t.Fatalf("sign derived the master key %d times, want 1", got)
		}
		// Without the passphrase at hand the foreground unlocks: one too.
		pushUnsigned(t, pub, repo+":prompted")
		n = reopen(t, pub, passphrase, false, nil)
		if _, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":prompted"}}); err != nil {
			t.Fatalf("sign with the passphrase from a prompt: %v", err)
		}
		if got := n.keystore.Load(); got != 1 {
			t.Fatalf("sign with the passphrase from a prompt derived %d times, want 1", got)
		}
		consumer := newPerson(t)
		for _, tag := range []string{"pushed", "signed", "prompted"} {
			if _, err := app.Verify(ctx, consumer.deps, app.VerifyRequest{Tag: repo + ":" + tag, RootFile: rootFile(t, repo)}); err != nil {
				t.Fatalf("verify %s: %v", tag, err)
			}
		}
	})
}

func TestSignWithAWrongPassphraseFailsAsWithoutTheBackgroundUnlock(t *testing.T) {
	t.Parallel()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	pushUnsigned(t, pub, repo+":new")
	before := metadataDigest(t, pub, repo)
	ctx := context.Background()

	errs := map[bool]error{}
	for _, atHand := range []bool{true, false} {
		reopen(t, pub, "wrong horse", atHand, nil)
		_, err := app.Sign(ctx, pub.deps, app.SignRequest{Tags: []string{repo + ":new"}})
		wantFail(t, err, errkind.Key, "wrong passphrase")
		if !errors.Is(err, keystore.ErrWrongPassphrase) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "wrong horse") {
			t.Fatalf("passphrase at hand %v: error %q, want one line wrapping ErrWrongPassphrase without the passphrase", atHand, err)
		}
		errs[atHand] = err
	}
	if errs[true].Error() != errs[false].Error() {
		t.Fatalf("the background unlock changed the error:\n with: %v\n without: %v", errs[true], errs[false])
	}
	if after := metadataDigest(t, pub, repo); after != before {
		t.Fatalf("a sign with a wrong passphrase published: %s -> %s", before, after)
	}
}

func TestSignWithoutSoftwareKeysInTheKeystoreDerivesNoMasterKey(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"hardware", "public"} {
		t.Run(kind, func(t *testing.T) {
			repo := uniqueRepo(t, registrytest.InProcess(t))
			pub := initRepo(t, repo)
			bundle := exportBundle(t, pub, repo+"/targets", repo+"/snapshot", repo+"/timestamp")
			pushUnsigned(t, pub, repo+":ci")

			// A CI home that had a software key once (so a master key
			// exists) and now holds only keys it cannot unseal.
			ci := newPerson(t)
			ci.generate("scratch")
			ks, err := ci.deps.Keystore()
			if err != nil {
				t.Fatal(err)
			}
			if err := ks.Delete("scratch"); err != nil {
				t.Fatal(err)
			}
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if kind == "hardware" {
				_, err = ks.PutHardware(keystore.HardwareKey{Name: "yk", Public: &k.PublicKey, Serial: 12345678, Slot: "9c"})
			} else {
				pemData, perr := keystore.PublicKeyPEM(&k.PublicKey)
				if perr != nil {
					t.Fatal(perr)
				}
				_, err = ks.Import(context.Background(), "theirs", pemData, nil)
			}
			if err != nil {
				t.Fatal(err)
			}

			n := reopen(t, ci, passphrase, true, map[string]string{signer.EnvKey: bundle})
			if _, err := app.Sign(context.Background(), ci.deps, app.SignRequest{Tags: []string{repo + ":ci"}}); err != nil {
				t.Fatalf("sign from SIGNET_KEY: %v", err)
			}
			if got := n.keystore.Load(); got != 0 {
				t.Fatalf("derived the keystore master key %d times, want 0: no key of the keystore is a software key", got)
			}
			if got := n.bundle.Load(); got != 1 {
				t.Fatalf("derived the bundle key %d times, want 1", got)
			}
		})
	}
}
