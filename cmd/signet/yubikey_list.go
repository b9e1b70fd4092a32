package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/piv"
)

type yubikeyListOptions struct {
	IO   *iostreams
	JSON func() bool
}

func newYubikeyListCmd(f *factory, runF func(*yubikeyListOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeyListOptions{IO: d.IO, JSON: d.JSON}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the attached YubiKeys",
		Long:    `List the attached YubiKeys: serial number, firmware version and PC/SC reader.`,
		Example: `  signet yubikey list
  signet yubikey list -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runYubikeyList(cmd.Context(), opts)
		},
	}
}

func runYubikeyList(ctx context.Context, opts *yubikeyListOptions) error {
	cards, err := piv.List(ctx)
	if err != nil {
		return err
	}
	entries := app.YubikeyList(cards)
	if opts.JSON() {
		return writeJSON(opts.IO.Out, entries)
	}
	if len(entries) == 0 {
		notice(opts.IO, "no YubiKey found: plug one in")
		return nil
	}
	t := newTable("SERIAL", "FIRMWARE", "READER")
	for _, e := range entries {
		t.Row(fmt.Sprint(e.Serial), e.Firmware, e.Reader)
	}
	return t.Write(opts.IO.Out)
}
