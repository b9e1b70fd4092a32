package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

// appDeps gives the repository commands (init, push, sign, verify, ...)
// what internal/app needs: the registry client now, keys only when asked.
func (f *factory) appDeps() (*app.Deps, error) {
	reg, err := f.Registry()
	if err != nil {
		return nil, err
	}
	return &app.Deps{
		Registry:         reg,
		Keystore:         f.Keystore,
		Resolver:         f.Resolver,
		Notice:           func(msg string) { notice(f.IOStreams, "%s", msg) },
		MetadataRepo:     f.Global.MetadataRepo,
		RootFile:         f.Global.Root,
		AttestationRoots: f.attestationRoots,
	}, nil
}

// addTrustedRootFlag gives a command that reads trust data --root FILE:
// the root.json to start from instead of the one kept in the signet home.
func addTrustedRootFlag(cmd *cobra.Command, f *factory) {
	cmd.Flags().StringVar(&f.Global.Root, "root", "", "start from this trusted root.json `FILE` instead of the one kept in the signet home")
}
