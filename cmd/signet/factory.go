package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/signethome"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
)

// factory gives commands their dependencies. It lives for one invocation of
// signet, so each lazy constructor builds its value at most once per
// command; nothing is built before a command asks for it (`signet version`
// opens no keystore). Global holds the parsed global flags; the constructors
// read it when called, after flag parsing.
type factory struct {
	IOStreams *iostreams
	Env       func(string) string // the process environment (os.Getenv)
	Global    globalOptions

	// Logger is the debug log on stderr with -v, a discarding logger
	// otherwise. Never log a secret.
	Logger func() *slog.Logger
	// Prompter asks for secrets and confirmations (environment first).
	Prompter func() Prompter
	// Home is the signet home: --home, $SIGNET_HOME or ~/.signet.
	Home func() (string, error)
	// Keystore opens the signet home, with passphrases from Prompter. The
	// store is shared by everything in the command (the Resolver too) and
	// closed by runWith when the command ends: commands do not close it.
	Keystore func() (*keystore.Store, error)
	// Resolver turns key references into signers over the keystore,
	// SIGNET_KEY and hardware keys; passphrases come from Prompter.
	Resolver func() (*signer.Resolver, error)
	// Hardware gives signers for YubiKey references (the piv package);
	// each card is opened once per command and released by close.
	Hardware func() (signer.Hardware, error)
	// Registry returns the registry client, plain HTTP with --insecure
	// (and always for localhost and 127.0.0.1).
	Registry func() (*registry.Client, error)
	// DockerArgs are the docker global options signet was run as the
	// docker plugin with (docker.go); the docker it runs gets them too.
	DockerArgs []string

	// seams are the test binary's lower costs; zero in a signet binary.
	seams testSeams

	// store is the keystore Keystore opened, for close.
	store *keystore.Store
	// closeHardware releases the YubiKeys the command opened.
	closeHardware func()
	// testAttestationCA names a PEM file of extra YubiKey attestation
	// roots. Only the tests set it (withTestAttestationCA); the release
	// binary never does, so it trusts Yubico's roots alone.
	testAttestationCA string
	// attestationNotice announces the test roots once per command,
	// however often the roots are read.
	attestationNotice sync.Once
	// cancelTimeout releases the --timeout context; timedOut returns its
	// cause once it expired (timeout.go).
	cancelTimeout func()
	timedOut      func() error
}

// testSeams lower costs that only tests may lower (docs/security.md,
// "Test seams"). Only main_test.go sets them, for the signet command that
// the test binary runs for scripts and process tests; a signet binary has
// no way to set them (no flag, no environment variable), so it always
// writes key files at the full scrypt cost and waits the default settle.
type testSeams struct {
	// keystore is added to the keystore's options: a cheaper scrypt
	// (keystore.WithKDFStrength) for the files the command writes. The
	// cost is recorded in each file, so any signet reads them.
	keystore []keystore.Option
	// registry is added to the registry client's options: no settle
	// floor (registry.WithSettleDelay) for scripts with one publisher.
	registry []registry.Option
}

// factoryOption sets what only tests change in a factory.
type factoryOption func(*factory)

// withTestAttestationCA makes the YubiKey commands also trust the
// attestation roots in the PEM file (the virtual YubiKey's CA); "" adds
// none. The test binary passes it (main_test.go, the test seam described
// in docs/security.md); the release binary never does.
func withTestAttestationCA(file string) factoryOption {
	return func(f *factory) { f.testAttestationCA = file }
}

// withTestSeams lowers the costs of testSeams (main_test.go only).
func withTestSeams(s testSeams) factoryOption {
	return func(f *factory) { f.seams = s }
}

func newFactory(ios *iostreams, env func(string) string, opts ...factoryOption) *factory {
	f := &factory{IOStreams: ios, Env: env}
	for _, o := range opts {
		o(f)
	}
	f.Logger = sync.OnceValue(func() *slog.Logger {
		if !f.Global.Verbose {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f.Prompter = sync.OnceValue(func() Prompter {
		return &prompter{env: env, term: ios.Terminal, errOut: ios.ErrOut, noInput: f.Global.NoInput}
	})
	passphrase := sync.OnceValue(func() keystore.PassphraseFunc { return newPassphraseFunc(f.Prompter()) })
	f.Home = sync.OnceValues(func() (string, error) { return resolveHome(f.Global.Home, env) })
	f.Keystore = sync.OnceValues(func() (*keystore.Store, error) {
		home, err := f.Home()
		if err != nil {
			return nil, err
		}
		f.Logger().Debug("opening keystore", "home", home)
		st, err := keystore.Open(home, append([]keystore.Option{keystore.WithPassphrase(passphrase())}, f.seams.keystore...)...)
		f.store = st
		return st, err
	})
	f.Resolver = sync.OnceValues(func() (*signer.Resolver, error) {
		ks, err := f.Keystore()
		if err != nil {
			return nil, err
		}
		opts := []signer.Option{signer.WithEnv(env), signer.WithPassphrase(passphrase())}
		if f.Hardware != nil {
			hw, err := f.Hardware()
			if err != nil {
				return nil, err
			}
			if hw != nil {
				opts = append(opts, signer.WithHardware(hw))
			}
		}
		return signer.NewResolver(ks, opts...)
	})
	f.Registry = sync.OnceValues(func() (*registry.Client, error) {
		f.Logger().Debug("registry client", "insecure", f.Global.Insecure)
		opts := []registry.Option{registry.WithInsecure(f.Global.Insecure), registry.WithUserAgent(userAgent())}
		if home, err := f.Home(); err == nil {
			// Trust manifests by digest: an unchanged one is not sent again.
			opts = append(opts, registry.WithManifestCache(signethome.ManifestCache(home)))
		}
		return registry.New(append(opts, f.seams.registry...)...)
	})
	f.Hardware, f.closeHardware = newHardware(f)
	return f
}

// userAgent is the User-Agent of signet's registry requests.
func userAgent() string {
	return "signet/" + buildVersion(version, debug.ReadBuildInfo).Version
}

// homeOrEmpty is the home for log lines; "" when it cannot be worked out.
func (f *factory) homeOrEmpty() string {
	h, _ := f.Home()
	return h
}

// resolveHome returns the signet home: the --home flag, else SIGNET_HOME,
// else ~/.signet.
func resolveHome(flag string, env func(string) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if h := env(signethome.Env); h != "" {
		return h, nil
	}
	dir := env("HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserHomeDir(); err != nil {
			return "", errkind.Mark(errkind.Input, errors.New("no home directory: set SIGNET_HOME or pass --home"))
		}
	}
	return filepath.Join(dir, signethome.DefaultName), nil
}

// newPassphraseFunc answers the keystore's passphrase requests through p,
// choosing by the request's Purpose (never by its wording):
//
//	PurposeUnlockKeystore   SIGNET_PASSPHRASE, or a prompt
//	PurposeNewKeystore      SIGNET_NEW_PASSPHRASE; SIGNET_PASSPHRASE too when
//	                        the keystore was not unlocked with it first
//	                        (a new keystore); or a prompt asked twice
//	PurposeExportBundle     SIGNET_EXPORT_PASSPHRASE, or a prompt asked twice
//	anything else           SIGNET_PASSPHRASE, or a prompt: "unlock key
//	                        bundle" (SIGNET_KEY, env:VAR or file:PATH
//	                        holding a bundle), "decrypt file:PATH"
//	                        (an encrypted PEM named by a key reference)
//
// so `key passwd` never takes the old passphrase for the new one. `key
// import` asks for the passphrase of its file itself (SIGNET_IMPORT_PASSPHRASE).
// A request with NoPrompt (keystore.Store.Prewarm, from a background
// goroutine) is answered from the environment only, else with
// keystore.ErrPromptNeeded.
func newPassphraseFunc(p Prompter) keystore.PassphraseFunc {
	var mu sync.Mutex
	unlocked := false
	return func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prompt := "Passphrase to " + req.Reason
		switch {
		case req.NoPrompt && req.Confirm:
			return nil, errkind.Mark(errkind.Key, fmt.Errorf("a new passphrase is always asked for: %w", keystore.ErrPromptNeeded))
		case req.Purpose == keystore.PurposeNewKeystore:
			if !unlocked {
				return p.NewPassphrase(false)
			}
			return p.NewPassphrase(true)
		case req.Purpose == keystore.PurposeExportBundle:
			return p.Secret(secretSpec{Env: envExportPassphrase, What: "export passphrase", Prompt: prompt, Confirm: true})
		case req.Confirm:
			return p.Secret(secretSpec{Env: envPassphrase, What: "passphrase", Prompt: prompt, Confirm: true})
		}
		if req.Purpose == keystore.PurposeUnlockKeystore {
			unlocked = true
		}
		return p.Secret(secretSpec{Env: envPassphrase, What: "passphrase", Prompt: prompt, NoPrompt: req.NoPrompt})
	}
}

// close releases what the command opened: the keystore's master key is
// cleared from memory.
func (f *factory) close() {
	if f.cancelTimeout != nil {
		f.cancelTimeout()
	}
	if f.closeHardware != nil {
		f.closeHardware()
	}
	if f.store != nil {
		_ = f.store.Close()
	}
}
