// Package registry is signet's OCI side: it reads and writes the TUF metadata
// artifact kept at a repository's reserved tag (docs/storage.md), resolves
// tags, pushes and pulls images, and serves an embedded registry. It knows
// nothing of TUF roles: metadata files are named blobs to it.
package registry
