// Package signethome names the files and directories of the signet home
// (--home, SIGNET_HOME, default ~/.signet; docs/design.md §4 "The signet
// home"), so that its layout is chosen in one place. Each entry has one
// owner that reads and writes it:
//
//	keys/        keystore: master.enc and one <name>.key per key
//	trust/<registry>/<repository>/
//	             keystore creates and forgets it and keeps root.json there
//	             (trust pin, init); tuf/verify keeps root.json, the other
//	             trusted metadata, lookups.memo and root.origin in it
//	ceremonies/  keystore (staged signing ceremonies)
//	cache/manifests
//	             registry (WithManifestCache), set up by cmd/signet
//	cache/blobs  internal/app (metadata blobs by digest)
package signethome

import "path/filepath"

const (
	// Env is the environment variable that names the home when --home
	// is not given.
	Env = "SIGNET_HOME"
	// DefaultName is the home's directory under the user's home directory.
	DefaultName = ".signet"

	// Keys, Trust and Ceremonies are the subdirectories keystore.Open
	// creates, mode 0700.
	Keys       = "keys"
	Trust      = "trust"
	Ceremonies = "ceremonies"
)

// ManifestCache is the directory of the cached _tuf manifests of home.
func ManifestCache(home string) string { return filepath.Join(home, "cache", "manifests") }

// BlobCache is the directory of the cached metadata blobs of home.
func BlobCache(home string) string { return filepath.Join(home, "cache", "blobs") }
