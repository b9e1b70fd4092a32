package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/keystore"
)

type keyPasswdOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	Name     string // optional; the passphrase is one for all keys
}

func newKeyPasswdCmd(f *factory, runF func(*keyPasswdOptions) error) *cobra.Command {
	opts := &keyPasswdOptions{IO: f.IOStreams, Keystore: f.Keystore}
	return &cobra.Command{
		Use:   "passwd [NAME]",
		Short: "Change the keystore passphrase",
		Long: `Change the passphrase of the signet keystore. One passphrase protects every
software key, so NAME is accepted for compatibility and only checked to exist.

The current passphrase comes from SIGNET_PASSPHRASE or a prompt; the new one
from SIGNET_NEW_PASSPHRASE or a prompt asked twice. Keys are not re-encrypted:
they are sealed with a master key that the passphrase unlocks.`,
		Example: `  signet key passwd
  SIGNET_PASSPHRASE=old SIGNET_NEW_PASSPHRASE=new signet key passwd --no-input`,
		Args: rangeArgs(0, 1, "at most one key NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runKeyPasswd(cmd.Context(), opts)
		},
	}
}

func runKeyPasswd(ctx context.Context, opts *keyPasswdOptions) error {
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	if opts.Name != "" {
		if _, err := store.Get(opts.Name); err != nil {
			return err
		}
	}
	if err := store.ChangePassphrase(ctx); err != nil {
		return err
	}
	notice(opts.IO, "keystore passphrase changed")
	return nil
}
