package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
)

type yubikeyInfoOptions struct {
	IO       *iostreams
	JSON     func() bool
	Keystore func() (*keystore.Store, error)
	Open     func(ctx context.Context, serial uint32) (*piv.YubiKey, error)

	Serial serialFlag
}

func newYubikeyInfoCmd(f *factory, runF func(*yubikeyInfoOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeyInfoOptions{IO: d.IO, JSON: d.JSON, Keystore: d.Keystore, Open: d.Open}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show a YubiKey's PIN tries and the keys in its slots",
		Long: `Show a YubiKey's serial, firmware, PIN tries left and the keys in its PIV
slots (9a, 9c, 9d, 9e, 82-95) with their algorithm and PIN and touch
policies, and the keystore name of each key signet recorded. No PIN needed.`,
		Example: `  signet yubikey info
  signet yubikey info --serial 12345678 -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runYubikeyInfo(cmd.Context(), opts)
		},
	}
	addSerialFlag(cmd, &opts.Serial)
	return cmd
}

func runYubikeyInfo(ctx context.Context, opts *yubikeyInfoOptions) error {
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	info, err := yk.Info(ctx)
	if err != nil {
		return err
	}
	res := app.DescribeYubikey(info, app.HardwareRecords(opts.Keystore, info.Serial))
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	tries := fmt.Sprint(res.PINRetries)
	switch res.PINRetries {
	case 0:
		tries = "0 (blocked: signet yubikey unblock)"
	case -1:
		tries = "verified"
	}
	fprintf(opts.IO.Out, "Serial:       %d\nFirmware:     %s\nReader:       %s\nPIN tries:    %s\n", res.Serial, res.Firmware, res.Reader, tries)
	if len(res.Slots) == 0 {
		fmt.Fprintln(opts.IO.Out, "Slots:        none in use")
		return nil
	}
	fmt.Fprintln(opts.IO.Out)
	t := newTable("SLOT", "ALGORITHM", "PIN", "TOUCH", "ORIGIN", "KEY ID", "NAME")
	for _, s := range res.Slots {
		t.Row(s.Slot, dash(s.Algorithm), dash(s.PINPolicy), dash(s.TouchPolicy), dash(s.Origin), dash(keyid.Short(s.KeyID)), dash(s.Name))
	}
	return t.Write(opts.IO.Out)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
