package tuftest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

func TestAViewLoadedBeforeAnotherPublishConflictsAndKeepsItsFiles(t *testing.T) {
	ctx := context.Background()
	var s Store
	first, _ := s.Load(ctx)
	stale, _ := s.Load(ctx)
	if err := first.Publish(ctx, map[string][]byte{"1.root.json": []byte("r"), "x": []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := stale.Publish(ctx, map[string][]byte{"timestamp.json": []byte("t")}, nil); !errors.Is(err, tufmeta.ErrConflict) {
		t.Fatalf("publish on a stale view = %v, want ErrConflict", err)
	}
	if len(stale.Files()) != 0 {
		t.Fatalf("the stale view changed: %v", stale.Files())
	}
	now, _ := s.Load(ctx)
	if err := now.Publish(ctx, nil, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Files(); len(got) != 1 || string(got["1.root.json"]) != "r" {
		t.Fatalf("files after removing x = %v", got)
	}
	if h := s.History(); len(h) != 2 || len(h[1]) != 2 {
		t.Fatalf("history = %v, want the empty set and the set with x", h)
	}
	cur, _ := s.Load(ctx)
	if _, err := cur.ReadFile(ctx, "1.root.json", 0); err == nil {
		t.Fatal("a read over the size bound succeeded")
	}
	if !slices.Equal(cur.Files(), []string{"1.root.json"}) {
		t.Fatalf("Files() = %v", cur.Files())
	}
}
