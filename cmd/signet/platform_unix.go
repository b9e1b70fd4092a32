//go:build unix

package main

import "syscall"

// disableCoreDumps sets the core file size limit to zero. Best effort: a
// refusal leaves the limit as it was.
func disableCoreDumps() {
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0})
}
