// Package piv performs YubiKey PIV operations for signet on top of piv-go:
// setup, attestation, signing and PIN handling. It knows nothing of TUF.
package piv
