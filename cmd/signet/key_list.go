package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
)

type keyListOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	JSON     func() bool
}

func newKeyListCmd(f *factory, runF func(*keyListOptions) error) *cobra.Command {
	opts := &keyListOptions{IO: f.IOStreams, Keystore: f.Keystore, JSON: f.Global.JSON}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the keys of the keystore",
		Long: `List the keys of the keystore: software keys, public keys of others, and
records of keys on YubiKeys. No passphrase is needed. KEY ID is the start of
the TUF key ID (the whole ID with -o json); any unique prefix of 4 or more
digits names the key in a key reference. A key named after a repository
(R/snapshot, as init names them) that R's trusted root no longer lists is
marked "rotated out of R": 'signet key delete NAME' removes it.`,
		Example: `  signet key list
  signet key list -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runKeyList(cmd.Context(), opts)
		},
	}
}

func runKeyList(_ context.Context, opts *keyListOptions) error {
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	entries, err := app.ListKeys(store)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, entries)
	}
	if len(entries) == 0 {
		notice(opts.IO, "no keys yet: create one with 'signet key generate NAME'")
		return nil
	}
	t := newTable("NAME", "TYPE", "KEY ID", "KIND/WHERE")
	for _, k := range entries {
		w := where(k)
		if k.RotatedOutOf != "" {
			w += ", rotated out of " + k.RotatedOutOf
		}
		t.Row(k.Name, k.Type, keyid.Short(k.KeyID), w)
	}
	return t.Write(opts.IO.Out)
}

// where says where a key's private half is.
func where(k app.KeyListEntry) string {
	switch keystore.Kind(k.Kind) {
	case keystore.Hardware:
		return fmt.Sprintf("yubikey %d/%s", k.Serial, k.Slot)
	case keystore.PublicOnly:
		return "public key only"
	}
	return k.Kind
}
