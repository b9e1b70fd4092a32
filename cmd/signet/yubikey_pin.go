package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/piv"
)

// yubikeySecretOptions serve set-pin, set-puk and unblock.
type yubikeySecretOptions struct {
	IO       *iostreams
	IOEnv    func(string) string // the environment, for choosing between variables
	Open     func(ctx context.Context, serial uint32) (*piv.YubiKey, error)
	Prompter func() Prompter

	Serial serialFlag
}

func newYubikeySecretCmd(f *factory, runF func(*yubikeySecretOptions) error, use, short, long, example string,
	run func(context.Context, *yubikeySecretOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeySecretOptions{IO: d.IO, IOEnv: d.IOEnv, Open: d.Open, Prompter: d.Prompter}
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
