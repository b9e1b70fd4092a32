// Package tuftest holds fakes for tests of signet's TUF packages. Store is
// an in-memory tufmeta.Store: views are immutable snapshots of a file map,
// and Publish fails with tufmeta.ErrConflict when the store moved on since
// the view was loaded, like the registry store does.
package tuftest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// Store holds published file sets; the zero value is an empty store.
type Store struct {
	mu         sync.Mutex
	generation int
	files      map[string][]byte
	history    []map[string][]byte
}

var _ tufmeta.Store = (*Store)(nil)

// Load returns the current files as a view.
func (s *Store) Load(ctx context.Context) (tufmeta.View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &view{store: s, generation: s.generation, files: maps.Clone(s.files)}, nil
}

// Files returns a copy of the current files, for tests that tamper with them.
func (s *Store) Files() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.files)
}

// Set replaces the current files, as an attacker with write access to the
// registry could; it counts as a publish.
func (s *Store) Set(files map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, s.files)
	s.files = maps.Clone(files)
	s.generation++
}

// History returns the file sets of every earlier publish, oldest first.
func (s *Store) History() []map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history)
}

type view struct {
	store      *Store
	generation int
	files      map[string][]byte
}

func (v *view) Files() []string { return slices.Sorted(maps.Keys(v.files)) }

func (v *view) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	data, ok := v.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: file not found", name)
	}
	if int64(len(data)) > maxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxSize)
	}
	return slices.Clone(data), nil
}

func (v *view) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	s := v.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.generation != v.generation {
		return tufmeta.ErrConflict
	}
	next := maps.Clone(v.files)
	if next == nil {
		next = map[string][]byte{}
	}
	for _, n := range remove {
		delete(next, n)
	}
	for n, d := range put {
		next[n] = slices.Clone(d)
	}
	s.history = append(s.history, s.files)
	s.files = next
	s.generation++
	return nil
}
