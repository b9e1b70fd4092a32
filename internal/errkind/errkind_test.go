package errkind

import (
	"errors"
	"fmt"
	"testing"
)

func TestInnermostMarkWinsThroughWrapping(t *testing.T) {
	t.Parallel()
	base := Mark(Registry, errors.New("connection refused"))
	wrapped := Mark(Verification, fmt.Errorf("verifying: %w", base))
	if got := Of(wrapped); got != Registry {
		t.Fatalf("Of = %d, want %d", got, Registry)
	}
}

func TestUnmarkedIsInternalAndNilIsOK(t *testing.T) {
	t.Parallel()
	if got := Of(errors.New("x")); got != Internal {
		t.Fatalf("unmarked: %d", got)
	}
	if got := Of(nil); got != OK {
		t.Fatalf("nil: %d", got)
	}
	if Mark(Key, nil) != nil {
		t.Fatal("Mark(nil) must be nil")
	}
}

func TestJoinedErrorsKeepTheirKind(t *testing.T) {
	t.Parallel()
	err := errors.Join(errors.New("plain"), Mark(Key, errors.New("pin")))
	if got := Of(err); got != Key {
		t.Fatalf("joined: %d", got)
	}
}

func TestJoinedUnmarkedErrorsAreInternalAndAMarkedOneWins(t *testing.T) {
	if got := Of(errors.Join(errors.New("a"), errors.New("b"))); got != Internal {
		t.Fatalf("joined unmarked: %d, want %d", got, Internal)
	}
	if got := Of(errors.Join(errors.New("a"), Mark(Input, errors.New("bad flag")))); got != Input {
		t.Fatalf("joined with an input error: %d, want %d", got, Input)
	}
}
