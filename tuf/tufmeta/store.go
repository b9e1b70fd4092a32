package tufmeta

import (
	"context"
	"errors"
)

// Store is where a repository's metadata files are published: in signet,
// the OCI artifact at the repository's reserved tag (docs/storage.md).
type Store interface {
	// Load returns a consistent view of the files published now: a view
	// with no files when nothing has been published yet (publishing on it
	// creates the repository).
	Load(ctx context.Context) (View, error)
}

// View is one consistent, immutable set of published metadata files: every
// read of a View sees the same files, however the store moves on.
type View interface {
	// Files lists the file names of this view, such as "1.root.json",
	// "3.targets.json" and "timestamp.json".
	Files() []string
	// ReadFile returns the content of the named file. It fails, without
	// reading further, when the file is larger than maxSize bytes.
	ReadFile(ctx context.Context, name string, maxSize int64) ([]byte, error)
	// Publish makes a new view current: this view's files, less remove,
	// with put added or replaced. It fails with an error wrapping
	// ErrConflict when the store's current view is no longer this one.
	Publish(ctx context.Context, put map[string][]byte, remove []string) error
}

// Errors a Store reports; callers test for them with errors.Is.
var (
	// ErrNoRepository is returned by Open when no metadata is published.
	ErrNoRepository = errors.New("no trust data")
	// ErrConflict is returned by View.Publish when another publisher moved
	// the store on since the view was loaded.
	ErrConflict = errors.New("trust data changed while publishing")
)
