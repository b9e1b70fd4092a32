// Package signer resolves key references (yubikey:SERIAL/SLOT, file:PATH,
// env:VAR, keystore names) into signers that go-tuf can use, over software
// keys from the keystore and hardware keys on YubiKeys.
//
// A Resolver serves one command. Resolve(ref) gives the signing key a user
// named; ByKeyID(id) gives the key a signature needs (snapshot, timestamp,
// a delegation's key), looking in the SIGNET_KEY bundle, then in bundles
// opened for env: and file: references, then in the keystore, whose
// hardware records go to the Hardware implementation (the YubiKey
// support). Software keys sign through sigstore's signature.Signer (ECDSA
// P-256 with SHA-256, or Ed25519), so go-tuf's Metadata.Sign records the
// key ID that metadata.KeyFromPublicKey computes.
package signer
