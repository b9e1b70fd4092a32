// Package tuf is signet's TUF repository model and client: it initialises a
// repository, adds and removes signed targets (image tags), manages
// delegations, rotations, thresholds and expiries, and verifies a target with
// go-tuf's updater. It knows nothing of registries or terminals: storage is
// the Store interface and keys are sigstore signers.
package tuf
