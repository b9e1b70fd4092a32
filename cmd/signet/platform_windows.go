//go:build windows

package main

// disableCoreDumps does nothing on Windows: a crash writes no core file
// unless Windows Error Reporting is configured to keep full dumps
// (docs/security.md).
func disableCoreDumps() {}
