package main

import (
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
		AttestationRoots: f.attestationRoots,
	}, nil
}
