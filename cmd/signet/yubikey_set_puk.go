package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newYubikeySetPUKCmd(f *factory, runF func(*yubikeySecretOptions) error) *cobra.Command {
	return newYubikeySecretCmd(f, runF, "set-puk", "Change a YubiKey's PUK",
		`Change the PUK of a YubiKey, the code that unblocks a blocked PIN. The
current PUK comes from SIGNET_PUK or a prompt, the new one (6 to 8
characters) from SIGNET_NEW_PUK or a prompt asked twice. With the PUK
blocked too, only 'signet yubikey reset' helps, and it erases the keys.`,
		`  signet yubikey set-puk`,
		runYubikeySetPUK)
}

func runYubikeySetPUK(ctx context.Context, opts *yubikeySecretOptions) error {
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	s := yk.Serial()
	old, err := opts.secret(envPUK, "PUK", fmt.Sprintf("Current PUK for YubiKey %d", s), false)
	if err != nil {
		return err
	}
	puk, err := opts.secret(envNewPUK, "new PUK", fmt.Sprintf("New PUK for YubiKey %d", s), true)
	if err != nil {
		return err
	}
	if err := yk.SetPUK(ctx, old, puk); err != nil {
		return err
	}
	notice(opts.IO, "PUK of YubiKey %d changed", s)
	return nil
}
