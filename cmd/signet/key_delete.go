package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
)

type keyDeleteOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)

	Name  string
	Force bool // --force: delete a key a trusted root still lists
}

func newKeyDeleteCmd(f *factory, runF func(*keyDeleteOptions) error) *cobra.Command {
	opts := &keyDeleteOptions{IO: f.IOStreams, Keystore: f.Keystore}
	cmd := &cobra.Command{
		Use:   "delete NAME [--force]",
		Short: "Delete a key from the keystore",
		Long: `Delete the key NAME from the keystore, such as a key rotated out of a
repository ('signet key list' marks those). A software key is gone for good;
for a YubiKey only the record goes, the key stays on the card.

signet refuses to delete a key that a root this machine trusts still lists
(the roots kept by init, trust pin, rotate and verify), naming the
repository and role: rotate it out first. --force deletes it anyway.`,
		Example: `  signet key delete registry.example.com/team/app/snapshot
  signet key delete old-ci --force`,
		Args: exactArgs(1, "the key NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runKeyDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "delete the key even when a trusted root still lists it")
	return cmd
}

func runKeyDelete(_ context.Context, opts *keyDeleteOptions) error {
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	info, err := app.DeleteKey(store, opts.Name, opts.Force)
	if err != nil {
		return err
	}
	notice(opts.IO, "deleted key %s (key ID %s)", opts.Name, keyid.Short(info.KeyID))
	return nil
}
