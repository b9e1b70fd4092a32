package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newYubikeySetPINCmd(f *factory, runF func(*yubikeySecretOptions) error) *cobra.Command {
	return newYubikeySecretCmd(f, runF, "set-pin", "Change a YubiKey's PIN",
		`Change the PIN of a YubiKey. The current PIN comes from SIGNET_PIN or a
prompt, the new one (6 to 8 characters) from SIGNET_NEW_PIN or a prompt asked
twice. A wrong current PIN says how many tries are left; signet never
retries it.`,
		`  signet yubikey set-pin
  SIGNET_PIN=... SIGNET_NEW_PIN=... signet yubikey set-pin --serial 12345678 --no-input`,
		runYubikeySetPIN)
}

func runYubikeySetPIN(ctx context.Context, opts *yubikeySecretOptions) error {
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	s := yk.Serial()
	old, err := opts.secret(envPIN, "PIN", fmt.Sprintf("Current PIN for YubiKey %d", s), false)
	if err != nil {
		return err
	}
	pin, err := opts.secret(envNewPIN, "new PIN", fmt.Sprintf("New PIN for YubiKey %d", s), true)
	if err != nil {
		return err
	}
	if err := yk.SetPIN(ctx, old, pin); err != nil {
		return err
	}
	notice(opts.IO, "PIN of YubiKey %d changed", s)
	return nil
}
