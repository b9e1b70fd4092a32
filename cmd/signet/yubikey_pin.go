package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// yubikeySecretOptions serve set-pin, set-puk and unblock.
type yubikeySecretOptions struct {
	yubikeyDeps
	Serial serialFlag
}

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

func newYubikeySetPUKCmd(f *factory, runF func(*yubikeySecretOptions) error) *cobra.Command {
	return newYubikeySecretCmd(f, runF, "set-puk", "Change a YubiKey's PUK",
		`Change the PUK of a YubiKey, the code that unblocks a blocked PIN. The
current PUK comes from SIGNET_PUK or a prompt, the new one (6 to 8
characters) from SIGNET_NEW_PUK or a prompt asked twice. With the PUK
blocked too, only 'signet yubikey reset' helps, and it erases the keys.`,
		`  signet yubikey set-puk`,
		runYubikeySetPUK)
}

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

func newYubikeySecretCmd(f *factory, runF func(*yubikeySecretOptions) error, use, short, long, example string,
	run func(context.Context, *yubikeySecretOptions) error) *cobra.Command {
	opts := &yubikeySecretOptions{yubikeyDeps: newYubikeyDeps(f)}
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Example: example,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	addSerialFlag(cmd, &opts.Serial)
	return cmd
}

func (opts *yubikeySecretOptions) secret(env, what, prompt string, confirm bool) (string, error) {
	v, err := opts.Prompter().Secret(secretSpec{Env: env, What: what, Prompt: prompt, Confirm: confirm, Check: checkPIN(what)})
	return string(v), err
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
