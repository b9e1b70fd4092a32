// Package keystore manages the signet home: encrypted software keys, records
// of hardware keys, pinned trusted roots and staged ceremonies. Writes are
// atomic, directories are 0700 and files 0600, and a command pays for one
// passphrase derivation however many keys it opens.
package keystore
