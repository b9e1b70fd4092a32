package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

type keyExportOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	JSON     func() bool

	Names   []string
	Private bool   // --private: one encrypted bundle of private keys
	Online  string // --online R: add R's snapshot and timestamp keys
	Force   bool   // --force: write a private bundle to a terminal
	// OnlineKeys returns the keystore names of the snapshot and timestamp
	// keys R's current root lists (app.OnlineKeyNames).
	OnlineKeys func(ctx context.Context, repository string) ([]string, error)
}

func newKeyExportCmd(f *factory, runF func(*keyExportOptions) error) *cobra.Command {
	opts := &keyExportOptions{IO: f.IOStreams, Keystore: f.Keystore, JSON: f.Global.JSON,
		OnlineKeys: func(ctx context.Context, repository string) ([]string, error) {
			d, err := f.appDeps()
			if err != nil {
				return nil, err
			}
			return app.OnlineKeyNames(ctx, d, repository)
		}}
	cmd := &cobra.Command{
		Use:   "export NAME... [--private [--online R]]",
		Short: "Export public keys, or private keys as an encrypted bundle",
		Long: `Print the public keys of the named keys as PEM on stdout.

With --private, print one encrypted bundle of the named software keys
instead: a PEM block "ENCRYPTED SIGNET KEY BUNDLE" for CI, where SIGNET_KEY
takes it. --online R adds the snapshot and timestamp keys that R's root
trusts now (found in the keystore by key ID, so after 'signet rotate R
snapshot' the new key, not the rotated-out one), which every publish and
'signet refresh R' need, and R's trusted root from this home: a CI job with
an empty home then publishes from the root the owners trust, never from the
registry's. The bundle is
encrypted under a new passphrase: SIGNET_EXPORT_PASSPHRASE, or asked twice on
the terminal. signet refuses to print a bundle onto a terminal unless
--force is given.`,
		Example: `  signet key export alice > alice.pub
  signet key export ci --private > ci.bundle
  signet key export ci --private --online registry.example.com/team/app > ci.bundle`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && opts.Online == "" {
				return usageError(cmd, errors.New("want at least one key NAME"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if opts.Online != "" && !opts.Private {
				return usageError(cmd, errors.New("--online needs --private"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runKeyExport(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Private, "private", false, "export private keys as one encrypted bundle")
	cmd.Flags().StringVar(&opts.Online, "online", "", "with --private, add the snapshot and timestamp keys of repository `R`")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "with --private, print the bundle even onto a terminal")
	return cmd
}

func runKeyExport(ctx context.Context, opts *keyExportOptions) error {
	names := opts.Names
	if opts.Online != "" {
		online, err := opts.OnlineKeys(ctx, opts.Online)
		if err != nil {
			return err
		}
		names = append(append([]string(nil), names...), online...)
	}
	if opts.Private && opts.IO.OutTTY && !opts.Force {
		return errkind.Mark(errkind.Input, errors.New("refusing to print private keys onto a terminal: redirect stdout to a file, or pass --force"))
	}
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	if opts.Private {
		for _, name := range names {
			if _, err := store.Get(name); err != nil {
				return err
			}
		}
		roots, err := app.TrustedRootsToExport(store, opts.Online)
		if err != nil {
			return err
		}
		bundle, err := store.ExportBundleWithRoots(ctx, names, roots)
		if err != nil {
			return fmt.Errorf("exporting private keys: %w", err)
		}
		if _, err := opts.IO.Out.Write(bundle); err != nil {
			return fmt.Errorf("writing bundle: %w", err)
		}
		return nil
	}
	keys, err := app.ExportPublicKeys(store, names)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, keys)
	}
	for _, k := range keys {
		if _, err := fmt.Fprint(opts.IO.Out, k.PublicKey); err != nil {
			return err
		}
	}
	return nil
}
