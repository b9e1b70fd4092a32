package signer

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/keystore"
)

// Hardware gives signers for keys on YubiKeys. The piv support implements
// it; ref is a RefYubiKey reference, and purpose is a short description of
// the key for prompts (the reference, or `key "NAME"` for a keystore record).
type Hardware interface {
	Signer(ctx context.Context, ref Ref, purpose string) (*Key, error)
}

// EnvKey is the environment variable that holds a bundle of signing keys
// (the output of `signet key export --private`) for CI.
const EnvKey = "SIGNET_KEY"

const maxKeyData = 1 << 20

// Option configures a Resolver.
type Option func(*options) error

type options struct {
	getenv     func(string) string
	passphrase keystore.PassphraseFunc
	hardware   Hardware
	bundleOpts []keystore.Option
}

// WithEnv sets how environment variables (SIGNET_KEY, env:VAR) are read.
// The default is os.Getenv.
func WithEnv(getenv func(string) string) Option {
	return func(o *options) error {
		if getenv == nil {
			return errors.New("signer: nil getenv")
		}
		o.getenv = getenv
		return nil
	}
}

// WithPassphrase sets where passphrases for bundles and encrypted PEM files
// come from (the keystore has its own). Without it, an encrypted key fails
// with an errkind.Key error.
func WithPassphrase(f keystore.PassphraseFunc) Option {
	return func(o *options) error {
		o.passphrase = f
		return nil
	}
}

// WithHardware enables yubikey references and hardware keystore records.
// Without it they fail with an errkind.Key error.
func WithHardware(h Hardware) Option {
	return func(o *options) error {
		o.hardware = h
		return nil
	}
}

// WithBundleOptions passes options (such as keystore.WithDeriveHook) to
// keystore.OpenBundle when the Resolver opens a bundle.
func WithBundleOptions(opts ...keystore.Option) Option {
	return func(o *options) error {
		o.bundleOpts = append(o.bundleOpts, opts...)
		return nil
	}
}

// Resolver turns key references into Keys for one command. It opens the
// SIGNET_KEY bundle at most once, when first needed, and keeps the bundles
// it opened so that ByKeyID finds their keys. It is safe for concurrent use.
type Resolver struct {
	ks   *keystore.Store
	opts options

	mu      sync.Mutex
	bundles map[string]*keystore.Bundle // by source: "SIGNET_KEY", "env:VAR", "file:PATH"
	order   []string
}

// NewResolver returns a Resolver over ks, which may be nil (no keystore: CI
// with only SIGNET_KEY).
func NewResolver(ks *keystore.Store, opts ...Option) (*Resolver, error) {
	o := options{getenv: os.Getenv}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Resolver{ks: ks, opts: o, bundles: map[string]*keystore.Bundle{}}, nil
}

func keyErr(err error) error   { return errkind.Mark(errkind.Key, err) }
func inputErr(err error) error { return errkind.Mark(errkind.Input, err) }

// Resolve returns the signing key that ref names. A key with no private half
// here (a public-only keystore record, a public PEM) is an errkind.Key
// error wrapping keystore.ErrNoPrivateKey. For env:VAR and file:PATH
// holding a bundle, the key is the bundle's first (the first NAME given to
// `key export`); its other keys become available to ByKeyID.
func (r *Resolver) Resolve(ctx context.Context, ref string) (*Key, error) {
	k, err := r.resolve(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	if k.Signer == nil {
		return nil, keyErr(fmt.Errorf("no private key for %s: %w", k.Description, keystore.ErrNoPrivateKey))
	}
	return k, nil
}

// ResolvePublic returns the key that ref names, without its private half
// where that can be avoided: Signer is nil except for yubikey references,
// which need the card to read the public key. Public-only keystore records
// and public PEM files (file:NAME.pub) are accepted.
func (r *Resolver) ResolvePublic(ctx context.Context, ref string) (*Key, error) {
	return r.resolve(ctx, ref, false)
}

func (r *Resolver) resolve(ctx context.Context, s string, private bool) (*Key, error) {
	ref, err := ParseRef(s)
	if err != nil {
		return nil, err
	}
	switch ref.Kind {
	case RefYubiKey:
		return r.hardwareKey(ctx, ref, ref.String())
	case RefFile:
		data, err := readKeyFile(ref.Path, private)
		if err != nil {
			return nil, err
		}
		return r.fromData(ctx, s, data, private)
	case RefEnv:
		data := r.opts.getenv(ref.Var)
		if strings.TrimSpace(data) == "" {
			return nil, inputErr(fmt.Errorf("environment variable %s is empty or not set", ref.Var))
		}
		return r.fromData(ctx, s, []byte(data), private)
	}
	return r.fromStore(ctx, ref.Name, private)
}

// readKeyFile reads a key file named by a file: reference: a regular file
// of at most maxKeyData bytes. A file holding a private key or a bundle
// must not be accessible by group or others when a private key is wanted
// (as the keystore requires of its own files).
func readKeyFile(path string, private bool) ([]byte, error) {
	data, err := localfile.Read(path, maxKeyData)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, inputErr(fmt.Errorf("key file %s does not exist", path))
	}
	if err != nil {
		return nil, inputErr(fmt.Errorf("reading key file: %w", err))
	}
	if private && holdsSecret(data) {
		if err := localfile.CheckPrivate(path); err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
	}
	return data, nil
}

// holdsSecret reports whether data is a key bundle or holds a PEM block
// of a private key (encrypted or not).
func holdsSecret(data []byte) bool {
	if keystore.IsBundle(data) {
		return true
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return true
		}
	}
}

// fromData reads a PEM key or a bundle from a file or variable named src.
func (r *Resolver) fromData(ctx context.Context, src string, data []byte, private bool) (*Key, error) {
	if keystore.IsBundle(data) {
		b, err := r.bundle(ctx, src, data)
		if err != nil {
			return nil, err
		}
		bk := b.Keys[0]
		return bundleKey(bk, src, private)
	}
	parsed, err := keystore.ParsePEM(data, func() ([]byte, error) {
		return r.askPassphrase(ctx, keystore.PassphraseRequest{Purpose: keystore.PurposeDecryptFile, Reason: "decrypt " + src})
	})
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", src, err)
	}
	desc := "key in " + src
	if parsed.Private == nil || !private {
		return FromPublic("", desc, parsed.Public)
	}
	return softwareKey("", desc, parsed.Private)
}

func bundleKey(bk keystore.BundleKey, src string, private bool) (*Key, error) {
	desc := fmt.Sprintf("key %s from %s", bk.Name, src)
	if !private {
		return FromPublic(bk.Name, desc, bk.Public)
	}
	return softwareKey(bk.Name, desc, bk.Signer)
}

func (r *Resolver) askPassphrase(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
	if r.opts.passphrase == nil {
		return nil, errors.New("no passphrase available")
	}
	return r.opts.passphrase(ctx, req)
}

// bundle opens (once) the bundle from src.
func (r *Resolver) bundle(ctx context.Context, src string, data []byte) (*keystore.Bundle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.openBundleLocked(ctx, src, data, r.opts.passphrase)
}

// openBundleLocked opens (once) the bundle from src with the passphrase
// from pass; r.mu is held.
func (r *Resolver) openBundleLocked(ctx context.Context, src string, data []byte, pass keystore.PassphraseFunc) (*keystore.Bundle, error) {
	if b, ok := r.bundles[src]; ok {
		return b, nil
	}
	b, err := keystore.OpenBundle(ctx, data, pass, r.opts.bundleOpts...)
	if err != nil {
		return nil, fmt.Errorf("opening key bundle %s: %w", src, err)
	}
	r.bundles[src] = b
	r.order = append(r.order, src)
	return b, nil
}

// envBundle returns the SIGNET_KEY bundle, or nil when the variable is not
// set.
func (r *Resolver) envBundle(ctx context.Context) (*keystore.Bundle, error) {
	data := strings.TrimSpace(r.opts.getenv(EnvKey))
	if data == "" {
		return nil, nil
	}
	if !keystore.IsBundle([]byte(data)) {
		return nil, inputErr(fmt.Errorf("%s does not hold a signet key bundle (the output of signet key export --private)", EnvKey))
	}
	return r.bundle(ctx, EnvKey, []byte(data))
}

// BundleRoot returns the trusted root.json of repository (a repository
// name such as "registry.example.com/team/app") carried by the SIGNET_KEY
// bundle, or nil when there is no bundle or it carries none. Opening the
// bundle asks for its passphrase.
func (r *Resolver) BundleRoot(ctx context.Context, repository string) ([]byte, error) {
	b, err := r.envBundle(ctx)
	if err != nil || b == nil {
		return nil, err
	}
	return b.Roots[repository], nil
}
