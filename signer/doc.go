// Package signer resolves key references (yubikey:SERIAL/SLOT, file:PATH,
// env:VAR, keystore names) into signers that go-tuf can use, over software
// keys from the keystore and hardware keys on YubiKeys.
package signer
