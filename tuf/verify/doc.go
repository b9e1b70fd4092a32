// Package verify is signet's TUF verifier: Target runs go-tuf's updater over
// one view of a repository's metadata (a tufmeta.View), from a root this
// machine trusts, and returns the signed description of a target (an image
// tag) or an error naming the attack it found. It keeps trusted metadata,
// the remembered lookups and the proof of descent from a pinned root in a
// trust directory, reads the files it will need ahead, and imports nothing
// of the repository writer (package tuf): what both need is in tufmeta.
package verify
