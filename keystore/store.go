package keystore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

const (
	masterFile    = "master.enc"
	masterKeySize = 32
	maxKeyFile    = 1 << 20 // a key file with attestation certificates is a few KiB
)

// Store is an open signet home. It is safe for concurrent use. Close it to
// clear the keystore master key from memory.
type Store struct {
	home string
	opts options

	mu     sync.Mutex
	master []byte // nil until unlocked
	closed bool
}

// Open opens the signet home at dir, creating it and its keys/, trust/ and
// ceremonies/ subdirectories with mode 0700 when missing. It refuses a home
// or keys/ directory that group or others can access (errkind.Key, with the
// chmod command that fixes it). Open asks for no passphrase: the master key
// is unlocked on first use.
func Open(home string, opts ...Option) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if home == "" {
		return nil, inputErr(errors.New("no signet home directory given"))
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, keyErr(fmt.Errorf("creating signet home: %w", err))
	}
	if err := checkPrivate(home); err != nil {
		return nil, err
	}
	for _, sub := range []string{"keys", "trust", "ceremonies"} {
		if err := mkdirPrivate(filepath.Join(home, sub)); err != nil {
			return nil, err
		}
	}
	return &Store{home: home, opts: o}, nil
}

// Home returns the directory of the signet home.
func (s *Store) Home() string { return s.home }

// CeremoniesDir returns the directory (mode 0700) where staged ceremonies
// are kept.
func (s *Store) CeremoniesDir() string { return filepath.Join(s.home, "ceremonies") }

func (s *Store) keysDir() string { return filepath.Join(s.home, "keys") }

// Close clears the master key from memory. The Store must not be used
// afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.master)
	s.master = nil
	s.closed = true
	return nil
}

// HasPassphrase reports whether the keystore has a master key yet, that is
// whether a passphrase was ever set.
func (s *Store) HasPassphrase() (bool, error) {
	_, err := os.Stat(filepath.Join(s.keysDir(), masterFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// masterKey returns the master key, unlocking it (one passphrase request,
// one scrypt derivation) on first use. With create, a keystore without a
// master key gets a new one under a new passphrase. The caller holds s.mu.
func (s *Store) masterKey(ctx context.Context, create bool) ([]byte, error) {
	if s.closed {
		return nil, errors.New("keystore is closed")
	}
	if s.master != nil {
		return s.master, nil
	}
	path := filepath.Join(s.keysDir(), masterFile)
	data, err := s.readPrivate(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return s.createMaster(ctx, path)
	case errors.Is(err, fs.ErrNotExist):
		return nil, keyErr(errors.New("the keystore has no software keys yet: generate or import one first"))
	case err != nil:
		return nil, err
	}
	return s.unlock(ctx, path, data, false)
}

// unlock decrypts the master key file data read from path: one passphrase
// request (with NoPrompt as given), one scrypt derivation. The caller
// holds s.mu.
func (s *Store) unlock(ctx context.Context, path string, data []byte, noPrompt bool) ([]byte, error) {
	m, err := s.opts.openWithPassphrase(ctx, PassphraseRequest{Reason: "unlock keystore", NoPrompt: noPrompt}, "keystore master key "+path, data)
	if err != nil {
		return nil, err
	}
	if len(m) != masterKeySize {
		clear(m)
		return nil, keyErr(fmt.Errorf("keystore master key %s is corrupt: wrong length", path))
	}
	s.master = m
	return m, nil
}

// Prewarm unlocks the master key now, ahead of the first PrivateKey, so
// that a command can run the scrypt derivation on another core while it
// waits for the network. It does nothing when the key is unlocked already,
// when the keystore holds no software key (its keys are on YubiKeys or
// public only), or when the passphrase is not at hand without a prompt:
// it asks with PassphraseRequest.NoPrompt, and a PassphraseFunc answering
// ErrPromptNeeded leaves the prompt to the first PrivateKey, as without
// Prewarm. It holds the Store's lock while it derives, so a PrivateKey
// called meanwhile waits and reuses the key: one derivation either way. A
// failure (a wrong passphrase) is returned but not remembered: the next
// PrivateKey tries again and reports it.
func (s *Store) Prewarm(ctx context.Context) error {
	soft, err := s.hasSoftwareKey()
	if err != nil || !soft {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.master != nil {
		return nil
	}
	path := filepath.Join(s.keysDir(), masterFile)
	data, err := s.readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.unlock(ctx, path, data, true)
	if errors.Is(err, ErrPromptNeeded) {
		return nil
	}
	return err
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

func (s *Store) createMaster(ctx context.Context, path string) ([]byte, error) {
	m := make([]byte, masterKeySize)
	if _, err := rand.Read(m); err != nil {
		return nil, fmt.Errorf("generating keystore master key: %w", err)
	}
	enc, err := s.opts.sealWithPassphrase(ctx, PassphraseRequest{Reason: "new keystore passphrase", Confirm: true}, m)
	if err != nil {
		clear(m)
		return nil, err
	}
	if err := WriteFileAtomic(path, enc, 0o600); err != nil {
		clear(m)
		return nil, keyErr(err)
	}
	s.master = m
	return m, nil
}

// ChangePassphrase asks for the current passphrase (unless the keystore is
// already unlocked) and a new one, and re-encrypts the master key under the
// new passphrase. Key files are unchanged: they are sealed with the master
// key, not with the passphrase. A keystore without a master key gets one.
// `signet key passwd` maps to it; the passphrase is one for all keys.
func (s *Store) ChangePassphrase(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	has, err := s.HasPassphrase()
	if err != nil {
		return keyErr(err)
	}
	m, err := s.masterKey(ctx, true)
	if err != nil || !has {
		return err
	}
	enc, err := s.opts.sealWithPassphrase(ctx, PassphraseRequest{Reason: "new keystore passphrase", Confirm: true}, m)
	if err != nil {
		return err
	}
	return keyErr(WriteFileAtomic(filepath.Join(s.keysDir(), masterFile), enc, 0o600))
}

// readPrivate reads a file of the keystore after checking its mode.
func (s *Store) readPrivate(path string) ([]byte, error) {
	if err := checkPrivate(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, keyErr(err)
	}
	data, err := readLimited(path, maxKeyFile)
	if err != nil {
		return nil, keyErr(fmt.Errorf("reading %s: %w", path, err))
	}
	return data, nil
}
