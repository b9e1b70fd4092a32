package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/piv"
)

type yubikeyAttestOptions struct {
	IO    *iostreams
	JSON  func() bool
	Open  func(ctx context.Context, serial uint32) (*piv.YubiKey, error)
	Roots func() (*piv.Roots, error)

	Serial serialFlag
	Slot   string
}

func newYubikeyAttestCmd(f *factory, runF func(*yubikeyAttestOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeyAttestOptions{IO: d.IO, JSON: d.JSON, Open: d.Open, Roots: d.Roots}
	cmd := &cobra.Command{
		Use:   "attest --slot S",
		Short: "Verify that a slot's key was generated on the YubiKey",
		Long: `Fetch the attestation of the key in a slot (a certificate signed by the
YubiKey's device certificate in slot f9) and verify that it chains to
Yubico's PIV attestation roots. Prints the certificates (PEM) on stdout. A key
that was imported rather than generated on the device has no attestation and
is refused (exit 3), as is an attestation that chains to no trusted root.`,
		Example: `  signet yubikey attest --slot 9c
  signet yubikey attest --serial 12345678 --slot 82 -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Slot == "" {
				return usageError(cmd, fmt.Errorf("--slot is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runYubikeyAttest(cmd.Context(), opts)
		},
	}
	addSerialFlag(cmd, &opts.Serial)
	cmd.Flags().StringVar(&opts.Slot, "slot", "", "PIV `SLOT` in hex: 9a, 9c, 9d, 9e or 82-95")
	return cmd
}

func runYubikeyAttest(ctx context.Context, opts *yubikeyAttestOptions) error {
	slot, err := piv.ParseSlot(opts.Slot)
	if err != nil {
		return err
	}
	roots, err := opts.Roots()
	if err != nil {
		return err
	}
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	a, err := yk.Attest(ctx, slot, roots)
	if err != nil {
		return err
	}
	res := app.DescribeAttestation(a)
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	notice(opts.IO, "YubiKey %d slot %s: key %s generated on the device (firmware %s, PIN %s, touch %s); attestation verified",
		a.Serial, a.Slot, keyid.Short(res.KeyID), a.Firmware, a.PINPolicy, a.TouchPolicy)
	_, err = opts.IO.Out.Write(a.PEM)
	return err
}
