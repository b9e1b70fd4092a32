package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGCCollectsLessOftenUnlessTheEnvironmentSaysOtherwise(t *testing.T) {
	t.Parallel()
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	tuneGC(func(string) string { return "set by the user" })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set, GC percent = %d, want it left at 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("with GOMEMLIMIT set, memory limit = %d, want it left alone", got)
	}

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("GC percent = %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != gcMemoryLimit {
		t.Fatalf("memory limit = %d, want %d", got, gcMemoryLimit)
	}
}
