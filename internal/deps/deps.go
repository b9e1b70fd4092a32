// Package deps pins the module's dependencies while the packages that use
// them are being written; it is removed once every one is imported for real.
package deps

import (
	_ "github.com/go-piv/piv-go/v2/piv"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/secure-systems-lab/go-securesystemslib/encrypted"
	_ "github.com/sigstore/sigstore/pkg/signature"
	_ "github.com/spf13/cobra"
	_ "github.com/theupdateframework/go-tuf/v2/metadata"
	_ "github.com/theupdateframework/go-tuf/v2/metadata/updater"
	_ "golang.org/x/crypto/nacl/secretbox"
	_ "golang.org/x/term"
)
