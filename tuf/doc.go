// Package tuf is signet's TUF repository model and writer: it initialises a
// repository, adds and removes signed targets (image tags), manages
// delegations, hash bins, rotations and signing ceremonies, thresholds and
// expiries. It knows nothing of registries or terminals: storage is the
// tufmeta.Store interface and keys are sigstore signers. Verifying a target
// is package tuf/verify's job.
package tuf
