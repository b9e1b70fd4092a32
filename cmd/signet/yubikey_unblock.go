package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newYubikeyUnblockCmd(f *factory, runF func(*yubikeySecretOptions) error) *cobra.Command {
	return newYubikeySecretCmd(f, runF, "unblock", "Unblock a YubiKey's PIN with the PUK",
		`Set a new PIN on a YubiKey whose PIN is blocked (three wrong PINs), with
the PUK: the PUK from SIGNET_PUK or a prompt, the new PIN (6 to 8
characters) from SIGNET_NEW_PIN, else SIGNET_PIN, or a prompt asked twice.
The keys on the card are kept.`,
		`  signet yubikey unblock
  SIGNET_PUK=... SIGNET_NEW_PIN=... signet yubikey unblock --serial 12345678 --no-input`,
		runYubikeyUnblock)
}

func runYubikeyUnblock(ctx context.Context, opts *yubikeySecretOptions) error {
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	s := yk.Serial()
	puk, err := opts.secret(envPUK, "PUK", fmt.Sprintf("PUK for YubiKey %d", s), false)
	if err != nil {
		return err
	}
	env := envNewPIN
	if opts.IOEnv != nil && opts.IOEnv(envNewPIN) == "" {
		env = envPIN
	}
	pin, err := opts.secret(env, "new PIN", fmt.Sprintf("New PIN for YubiKey %d", s), true)
	if err != nil {
		return err
	}
	if err := yk.Unblock(ctx, puk, pin); err != nil {
		return err
	}
	notice(opts.IO, "PIN of YubiKey %d unblocked and set", s)
	return nil
}
