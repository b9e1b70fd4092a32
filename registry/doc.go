// Package registry is signet's OCI client: it reads and writes the TUF
// metadata artifact kept at a repository's reserved tag (docs/storage.md),
// resolves tags, and pushes and pulls images. It knows nothing of TUF
// roles: metadata files are named blobs to it. The embedded registry that
// `signet registry serve` runs is package registry/serve.
//
// A Client does the network work, on go-containerregistry. Every request
// has a timeout (no answer or no data moving for WithRequestTimeout) and
// an overall deadline (a minimum average transfer rate after a grace
// period, WithMinTransferRate), and
// every read is bounded before it starts: manifests by WithMaxManifestSize,
// metadata files by WithMaxMetadataSize and by the size their layer
// declares. Plain HTTP is used for loopback registries, or everywhere with
// WithInsecure, and refused otherwise. Requests that fail for a reason
// that may pass (429, 5xx, a dropped connection, a timeout) are retried
// with jittered exponential backoff when repeating them is safe
// (WithRetry); blob uploads restart with a new session.
//
// Client.Metadata returns a *Metadata: one immutable view of the artifact,
// read from the manifest the tag pointed to once. Its methods Files,
// ReadFile and Publish are those of tufmeta.View (package tuf/tufmeta);
// Publish moves the tag only if nobody else moved it since the view was
// read, and reads it back once after a settle delay sized from the
// registry's latency (WithSettleDelay) to catch a publisher that
// overwrote it (ErrConflict otherwise;
// docs/storage.md has the window that remains, registries having no
// compare-and-swap). PrepareUploads opens a publish's upload sessions
// ahead, while the caller still signs.
//
// Errors are classified with internal/errkind: a missing tag, a corrupt
// artifact or a file over its limit is errkind.Input; an unreachable or
// failing registry, refused credentials and publish conflicts are
// errkind.Registry. A 401 without credentials says to run `docker login`.
package registry
