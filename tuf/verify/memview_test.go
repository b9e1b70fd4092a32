package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// errMemTooLarge is what memView returns for a file over the read bound.
var errMemTooLarge = errors.New("file over the size bound")

// memView is an in-memory View for client tests: a fixed set of files,
// optional read errors per file, and a record of the largest bound each
// file was read with.
type memView struct {
	files map[string][]byte
	// readErr fails reads of the named files with the given error.
	readErr map[string]error
	// unbounded makes ReadFile ignore maxSize, as a broken view would.
	unbounded bool

	mu    sync.Mutex
	bound map[string]int64
}

var _ tufmeta.View = (*memView)(nil)

func newMemView(files map[string][]byte) *memView {
	return &memView{files: maps.Clone(files), readErr: map[string]error{}, bound: map[string]int64{}}
}

func (v *memView) Files() []string { return slices.Sorted(maps.Keys(v.files)) }

func (v *memView) ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	v.mu.Lock()
	v.bound[name] = max(v.bound[name], maxSize)
	v.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := v.readErr[name]; err != nil {
		return nil, err
	}
	data, ok := v.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: no such file", name)
	}
	if int64(len(data)) > maxSize && !v.unbounded {
		return nil, fmt.Errorf("%s is %d bytes: %w", name, len(data), errMemTooLarge)
	}
	return slices.Clone(data), nil
}

func (v *memView) Publish(context.Context, map[string][]byte, []string) error {
	return errors.New("memView is read-only")
}

// readBound returns the largest bound name was read with, 0 if never read.
func (v *memView) readBound(name string) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.bound[name]
}

// with returns a copy of v with name replaced by data (or removed when
// data is nil).
func (v *memView) with(name string, data []byte) *memView {
	files := maps.Clone(v.files)
	if data == nil {
		delete(files, name)
	} else {
		files[name] = data
	}
	return newMemView(files)
}
