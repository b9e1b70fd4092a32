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

	"github.com/signet-dev/signet/internal/signethome"
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
	// unlocking is open while Prewarm derives the master key without
	// holding mu (so that Close need not wait for it); masterKey waits for
	// it to close before it derives itself.
	unlocking chan struct{}
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
	for _, sub := range []string{signethome.Keys, signethome.Trust, signethome.Ceremonies} {
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
func (s *Store) CeremoniesDir() string { return filepath.Join(s.home, signethome.Ceremonies) }

func (s *Store) keysDir() string { return filepath.Join(s.home, signethome.Keys) }

// Close clears the master key from memory. The Store must not be used
// afterwards. It does not wait for a Prewarm in flight, which drops the
// key it derives.
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
// one scrypt derivation) on first use; an unlock by Prewarm in flight is
// waited for (s.mu is released meanwhile) and its key reused. With
// create, a keystore without a master key gets a new one under a new
// passphrase. The caller holds s.mu.
func (s *Store) masterKey(ctx context.Context, create bool) ([]byte, error) {
	for s.unlocking != nil && !s.closed {
		done := s.unlocking
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		s.mu.Lock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
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
	m, err := s.decryptMaster(ctx, path, data, false)
	if err != nil {
		return nil, err
	}
	s.master = m
	return m, nil
}

// decryptMaster decrypts the master key file data read from path: one
// passphrase request (with NoPrompt as given), one scrypt derivation. It
// touches no state of s.
func (s *Store) decryptMaster(ctx context.Context, path string, data []byte, noPrompt bool) ([]byte, error) {
	m, err := s.opts.openWithPassphrase(ctx, PassphraseRequest{Purpose: PurposeUnlockKeystore, Reason: "unlock keystore", NoPrompt: noPrompt}, "keystore master key "+path, data)
	if err != nil {
		return nil, err
	}
	if len(m) != masterKeySize {
		clear(m)
		return nil, keyErr(fmt.Errorf("keystore master key %s is corrupt: wrong length", path))
	}
	return m, nil
}

func (s *Store) createMaster(ctx context.Context, path string) ([]byte, error) {
	m := make([]byte, masterKeySize)
	if _, err := rand.Read(m); err != nil {
		return nil, fmt.Errorf("generating keystore master key: %w", err)
	}
	enc, err := s.opts.sealWithPassphrase(ctx, PassphraseRequest{Purpose: PurposeNewKeystore, Reason: "new keystore passphrase", Confirm: true}, m)
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
	enc, err := s.opts.sealWithPassphrase(ctx, PassphraseRequest{Purpose: PurposeNewKeystore, Reason: "new keystore passphrase", Confirm: true}, m)
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
