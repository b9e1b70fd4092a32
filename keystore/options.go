package keystore

import (
	"context"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PassphrasePurpose says which passphrase a request is for, so that a
// PassphraseFunc can choose where to take it from (cmd/signet picks an
// environment variable by it) without reading the prompt's wording.
type PassphrasePurpose int

// The purposes of a passphrase request.
const (
	// PurposeOther is any passphrase not listed below.
	PurposeOther PassphrasePurpose = iota
	// PurposeUnlockKeystore opens the keystore's master key.
	PurposeUnlockKeystore
	// PurposeNewKeystore chooses the keystore passphrase: a new keystore,
	// or `key passwd`.
	PurposeNewKeystore
	// PurposeExportBundle chooses the passphrase of an exported key bundle.
	PurposeExportBundle
	// PurposeUnlockBundle opens a key bundle (SIGNET_KEY, env:VAR, file:PATH).
	PurposeUnlockBundle
	// PurposeDecryptFile opens an encrypted PEM named by a key reference.
	PurposeDecryptFile
)

// PassphraseRequest tells a PassphraseFunc why a passphrase is wanted, so
// that a prompt can say so.
type PassphraseRequest struct {
	// Purpose is what the passphrase is for; choose by it, never by Reason.
	Purpose PassphrasePurpose
	// Reason is a short lower-case phrase for the prompt, such as
	// "unlock keystore", "new keystore passphrase" or "encrypt key bundle".
	Reason string
	// Confirm is true when the passphrase is being chosen (a new keystore,
	// a new passphrase, an export): an interactive prompt should ask twice.
	Confirm bool
	// NoPrompt is true when the passphrase is wanted only if it is at hand
	// without asking a person (from the environment): Store.Prewarm asks
	// this way from a background goroutine. A PassphraseFunc that would
	// have to prompt returns an error wrapping ErrPromptNeeded instead.
	NoPrompt bool
}

// ErrPromptNeeded is what a PassphraseFunc returns for a request with
// NoPrompt set when only a prompt could give the passphrase.
var ErrPromptNeeded = errors.New("the passphrase is only available from a prompt")

// PassphraseFunc supplies a passphrase. cmd/signet implements it with
// SIGNET_PASSPHRASE or a no-echo prompt. The caller clears the returned
// slice after use, so the function must return a fresh copy each time.
type PassphraseFunc func(ctx context.Context, req PassphraseRequest) ([]byte, error)

// Option configures Open and OpenBundle.
type Option func(*options) error

type options struct {
	passphrase PassphraseFunc
	strength   encrypted.KDFParameterStrength
	onDerive   func()
}

// WithPassphrase sets where passphrases come from. Without it, every
// operation that needs a passphrase fails with an errkind.Key error.
func WithPassphrase(f PassphraseFunc) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("keystore: nil passphrase function")
		}
		o.passphrase = f
		return nil
	}
}

// WithKDFStrength sets the scrypt parameters used when something is
// encrypted under a passphrase (the master key, an export bundle). The
// default is encrypted.Standard (N=2^16, r=8, p=1); tests use
// encrypted.Legacy (N=2^15) to run faster. Decryption always uses the
// parameters recorded in the file, limited to the three levels of
// go-securesystemslib's encrypted package.
func WithKDFStrength(s encrypted.KDFParameterStrength) Option {
	return func(o *options) error {
		switch s {
		case encrypted.Legacy, encrypted.Standard, encrypted.OWASP:
			o.strength = s
			return nil
		}
		return fmt.Errorf("keystore: unknown scrypt strength %d", s)
	}
}

// WithDeriveHook calls f each time a passphrase key derivation (scrypt)
// runs. It lets tests and benchmarks count derivations.
func WithDeriveHook(f func()) Option {
	return func(o *options) error {
		o.onDerive = f
		return nil
	}
}

func buildOptions(opts []Option) (options, error) {
	o := options{strength: encrypted.Standard}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// askPassphrase calls the passphrase function, or fails when none is set.
func (o *options) askPassphrase(ctx context.Context, req PassphraseRequest) ([]byte, error) {
	if o.passphrase == nil {
		return nil, keyErr(fmt.Errorf("a passphrase is needed to %s and none was provided", req.Reason))
	}
	p, err := o.passphrase(ctx, req)
	if err != nil {
		return nil, keyErr(fmt.Errorf("reading passphrase to %s: %w", req.Reason, err))
	}
	return p, nil
}

func (o *options) derived() {
	if o.onDerive != nil {
		o.onDerive()
	}
}
