package keystore

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
)

// Prewarm unlocks the master key now, ahead of the first PrivateKey, so
// that a command can run the scrypt derivation on another core while it
// waits for the network. It does nothing when the key is unlocked or being
// unlocked already, when the keystore holds no software key (its keys are
// on YubiKeys or public only), or when the passphrase is not at hand
// without a prompt: it asks with PassphraseRequest.NoPrompt, and a
// PassphraseFunc answering ErrPromptNeeded leaves the prompt to the first
// PrivateKey, as without Prewarm. A PrivateKey called while it derives
// waits for it and reuses the key: one derivation either way. Close does
// not wait for it; the key it derives then is dropped. A failure (a wrong
// passphrase) is returned but not remembered: the next PrivateKey tries
// again and reports it.
func (s *Store) Prewarm(ctx context.Context) error {
	if s.unlockedOrUnlocking() {
		return nil // push calls it, then sign again: no second listing
	}
	soft, err := s.hasSoftwareKey()
	if err != nil || !soft {
		return err
	}
	s.mu.Lock()
	if s.closed || s.master != nil || s.unlocking != nil {
		s.mu.Unlock()
		return nil
	}
	path := filepath.Join(s.keysDir(), masterFile)
	data, err := s.readPrivate(path)
	if err != nil {
		s.mu.Unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	done := make(chan struct{})
	s.unlocking = done
	s.mu.Unlock()

	m, err := s.decryptMaster(ctx, path, data, true)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlocking = nil
	close(done)
	switch {
	case errors.Is(err, ErrPromptNeeded):
		return nil
	case err != nil:
		return err
	case s.closed:
		clear(m)
	default:
		s.master = m
	}
	return nil
}

// unlockedOrUnlocking reports whether the store is closed, unlocked, or
// being unlocked.
func (s *Store) unlockedOrUnlocking() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.master != nil || s.unlocking != nil
}

// hasSoftwareKey reports whether any key of the keystore is a software key,
// the only kind the master key unseals.
func (s *Store) hasSoftwareKey() (bool, error) {
	all, err := s.List()
	if err != nil {
		return false, err
	}
	for _, k := range all {
		if k.Kind == Software {
			return true, nil
		}
	}
	return false, nil
}
