package main

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
)

type yubikeyResetOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	Open     func(ctx context.Context, serial uint32) (*piv.YubiKey, error)
	Prompter func() Prompter

	Serial serialFlag
	Yes    bool
}

func newYubikeyResetCmd(f *factory, runF func(*yubikeyResetOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeyResetOptions{IO: d.IO, Keystore: d.Keystore, Open: d.Open, Prompter: d.Prompter}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Erase a YubiKey's PIV keys and restore its factory PIN and PUK",
		Long: `Reset the PIV application of a YubiKey: every PIV key and certificate is
erased, and the PIN, PUK and management key go back to the factory values
(PIN 123456, PUK 12345678). Other applications (FIDO, OpenPGP, OTP) are not
touched. This is the way out of a blocked PUK. Keys erased this way cannot be
recovered: a repository whose only root key was on this card is lost, which
is why a second card should hold a backup root key.

Without --yes, signet asks you to type the serial number on the terminal.`,
		Example: `  signet yubikey reset --serial 12345678 --yes`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runYubikeyReset(cmd.Context(), opts)
		},
	}
	addSerialFlag(cmd, &opts.Serial)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runYubikeyReset(ctx context.Context, opts *yubikeyResetOptions) error {
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	if !opts.Yes {
		serial := fmt.Sprint(yk.Serial())
		if err := confirmTyped(opts.Prompter(), fmt.Sprintf("This erases every PIV key on YubiKey %s.", serial), serial); err != nil {
			return err
		}
	}
	if err := yk.Reset(ctx, true); err != nil {
		return err
	}
	notice(opts.IO, "YubiKey %d reset: PIN 123456, PUK 12345678, no PIV keys; set it up again with 'signet yubikey setup'", yk.Serial())
	records := app.HardwareRecords(opts.Keystore, yk.Serial())
	for _, slot := range slices.Sorted(maps.Keys(records)) {
		notice(opts.IO, "the keystore still records key %s on this card, which is gone: remove it from the repositories that trust it", records[slot].Name)
	}
	return nil
}
