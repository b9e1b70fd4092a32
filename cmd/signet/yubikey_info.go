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

type yubikeyListOptions struct{ yubikeyDeps }

type yubikeyListEntry struct {
	Serial   uint32 `json:"serial"`
	Firmware string `json:"firmware"`
	Reader   string `json:"reader"`
}

func newYubikeyListCmd(f *factory, runF func(*yubikeyListOptions) error) *cobra.Command {
	opts := &yubikeyListOptions{newYubikeyDeps(f)}
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
	entries := make([]yubikeyListEntry, 0, len(cards))
	for _, c := range cards {
		entries = append(entries, yubikeyListEntry{Serial: c.Serial, Firmware: c.Version.String(), Reader: c.Reader})
	}
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

type yubikeyInfoOptions struct {
	yubikeyDeps
	Serial serialFlag
}

type yubikeyInfoResult struct {
	Serial     uint32            `json:"serial"`
	Firmware   string            `json:"firmware"`
	Reader     string            `json:"reader"`
	PINRetries int               `json:"pinRetries"`
	Slots      []yubikeySlotJSON `json:"slots"`
}

type yubikeySlotJSON struct {
	Slot        string `json:"slot"`
	Algorithm   string `json:"algorithm,omitempty"`
	PINPolicy   string `json:"pinPolicy,omitempty"`
	TouchPolicy string `json:"touchPolicy,omitempty"`
	Origin      string `json:"origin,omitempty"`
	KeyID       string `json:"keyid,omitempty"`
	Name        string `json:"name,omitempty"` // keystore record of this key
}

func newYubikeyInfoCmd(f *factory, runF func(*yubikeyInfoOptions) error) *cobra.Command {
	opts := &yubikeyInfoOptions{yubikeyDeps: newYubikeyDeps(f)}
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
	names := app.HardwareRecords(opts.Keystore, info.Serial)
	res := yubikeyInfoResult{Serial: info.Serial, Firmware: info.Version.String(), Reader: info.Reader, PINRetries: info.PINRetries, Slots: []yubikeySlotJSON{}}
	for _, s := range info.Slots {
		e := yubikeySlotJSON{Slot: s.Slot.String(), Algorithm: s.Algorithm, PINPolicy: string(s.PINPolicy), TouchPolicy: string(s.TouchPolicy), Origin: s.Origin}
		if s.Public != nil {
			e.KeyID, _ = keystore.KeyID(s.Public)
		}
		if n, ok := names[e.Slot]; ok && n.KeyID == e.KeyID {
			e.Name = n.Name
		}
		res.Slots = append(res.Slots, e)
	}
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

type yubikeyAttestOptions struct {
	yubikeyDeps
	Serial serialFlag
	Slot   string
}

type yubikeyAttestResult struct {
	Serial       uint32 `json:"serial"`
	Slot         string `json:"slot"`
	Firmware     string `json:"firmware"`
	PINPolicy    string `json:"pinPolicy"`
	TouchPolicy  string `json:"touchPolicy"`
	KeyID        string `json:"keyid"`
	Certificates string `json:"certificates"` // PEM: slot attestation, then the device certificate
}

func newYubikeyAttestCmd(f *factory, runF func(*yubikeyAttestOptions) error) *cobra.Command {
	opts := &yubikeyAttestOptions{yubikeyDeps: newYubikeyDeps(f)}
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
	id, _ := keystore.KeyID(a.Public)
	if opts.JSON() {
		return writeJSON(opts.IO.Out, yubikeyAttestResult{
			Serial: a.Serial, Slot: a.Slot.String(), Firmware: a.Firmware.String(),
			PINPolicy: string(a.PINPolicy), TouchPolicy: string(a.TouchPolicy), KeyID: id, Certificates: string(a.PEM),
		})
	}
	notice(opts.IO, "YubiKey %d slot %s: key %s generated on the device (firmware %s, PIN %s, touch %s); attestation verified",
		a.Serial, a.Slot, keyid.Short(id), a.Firmware, a.PINPolicy, a.TouchPolicy)
	_, err = opts.IO.Out.Write(a.PEM)
	return err
}

type yubikeyResetOptions struct {
	yubikeyDeps
	Serial serialFlag
	Yes    bool
}

func newYubikeyResetCmd(f *factory, runF func(*yubikeyResetOptions) error) *cobra.Command {
	opts := &yubikeyResetOptions{yubikeyDeps: newYubikeyDeps(f)}
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
	if names := app.HardwareRecords(opts.Keystore, yk.Serial()); len(names) > 0 {
		for _, k := range names {
			notice(opts.IO, "the keystore still records key %s on this card, which is gone: remove it from the repositories that trust it", k.Name)
		}
	}
	return nil
}
