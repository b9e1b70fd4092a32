package signer

import (
	"context"
	"errors"
	"strings"

	"github.com/signet-dev/signet/keystore"
)

// Prewarm opens the SIGNET_KEY bundle now, ahead of the first key that
// needs it, so that a command can run its scrypt derivation on another
// core while it waits for the registry (keystore.Store.Prewarm does the
// same for the keystore). It does nothing when SIGNET_KEY holds no bundle,
// when the bundle is open already, or when its passphrase is not at hand
// without a prompt: it asks with PassphraseRequest.NoPrompt, and a
// PassphraseFunc answering keystore.ErrPromptNeeded leaves the prompt to
// the first key, as without Prewarm. A key wanted meanwhile waits for it
// and reuses the bundle: one derivation either way. A failure (a wrong
// passphrase) is returned but not remembered: the first key tries again
// and reports it.
func (r *Resolver) Prewarm(ctx context.Context) error {
	data := []byte(strings.TrimSpace(r.opts.getenv(EnvKey)))
	if len(data) == 0 || r.opts.passphrase == nil || !keystore.IsBundle(data) {
		return nil
	}
	noPrompt := func(ctx context.Context, req keystore.PassphraseRequest) ([]byte, error) {
		req.NoPrompt = true
		return r.opts.passphrase(ctx, req)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.openBundleLocked(ctx, EnvKey, data, noPrompt)
	if errors.Is(err, keystore.ErrPromptNeeded) {
		return nil
	}
	return err
}
