package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
)

type yubikeySetupOptions struct {
	IO       *iostreams
	JSON     func() bool
	Keystore func() (*keystore.Store, error)
	Open     func(ctx context.Context, serial uint32) (*piv.YubiKey, error)
	Prompter func() Prompter
	Roots    func() (*piv.Roots, error)

	Serial             serialFlag
	Slot               string // --slot; "" = 9c when free, else the first free of 82-95
	Touch              string
	PINPolicy          string
	Name               string // --name; "" = yubikey-SERIAL-SLOT
	Force              bool
	Yes                bool
	RequireAttestation bool
}

func newYubikeySetupCmd(f *factory, runF func(*yubikeySetupOptions) error) *cobra.Command {
	d := newYubikeyDeps(f)
	opts := &yubikeySetupOptions{IO: d.IO, JSON: d.JSON, Keystore: d.Keystore, Open: d.Open, Prompter: d.Prompter, Roots: d.Roots}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Generate a signing key on a YubiKey and record it in the keystore",
		Long: `Generate an ECDSA P-256 key on a YubiKey and record it in the keystore.

On a factory-fresh YubiKey, setup first sets a new PIN and PUK (6 to 8
characters; SIGNET_PIN and SIGNET_PUK, or asked twice without echo) and
replaces the default management key with a random one kept in PIN-protected
data. On a YubiKey signet set up before, it asks for the PIN instead.

The key goes into --slot, by default 9c (the root key) when it is empty and
otherwise the first empty retired slot 82-95 (targets keys); 9a and 9e are
used only when named. A slot that holds a key is refused unless --force is
given, and then you must confirm by typing the slot (or pass --yes): the old
key is lost. A certificate recording the PIN and touch policies is written
to the slot. The attestation must chain to Yubico's PIV roots unless
--require-attestation=false. The key is recorded as --name (default
yubikey-SERIAL-SLOT); setup prints its TUF key ID.`,
		Example: `  signet yubikey setup
  signet yubikey setup --name alice-targets --touch always
  signet yubikey setup --serial 12345678 --slot 82 --pin-policy always
  SIGNET_PIN=... SIGNET_PUK=... signet yubikey setup --no-input -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runYubikeySetup(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	addSerialFlag(cmd, &opts.Serial)
	fl.StringVar(&opts.Slot, "slot", "", "PIV `SLOT` in hex (default 9c when empty, else the first empty of 82-95)")
	fl.StringVar(&opts.Touch, "touch", string(piv.TouchAlways), "touch `POLICY`: always, cached or never")
	fl.StringVar(&opts.PINPolicy, "pin-policy", string(piv.PINOnce), "PIN `POLICY`: once (per command) or always (per signature)")
	fl.StringVar(&opts.Name, "name", "", "keystore `NAME` of the key (default yubikey-SERIAL-SLOT)")
	fl.BoolVar(&opts.Force, "force", false, "replace a key already in --slot (asks for confirmation)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "with --force, do not ask for confirmation")
	fl.BoolVar(&opts.RequireAttestation, "require-attestation", true, "refuse a key whose attestation does not chain to Yubico's roots")
	return cmd
}

func runYubikeySetup(ctx context.Context, opts *yubikeySetupOptions) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	if opts.Name != "" {
		if err := app.CheckKeyNameFree(store, opts.Name); err != nil {
			return err
		}
	}
	if cfg.Roots, err = opts.Roots(); err != nil {
		return err
	}
	yk, err := opts.Open(ctx, uint32(opts.Serial))
	if err != nil {
		return err
	}
	defer yk.Close()
	serial := yk.Serial()
	if err := opts.confirmForce(ctx, yk, cfg.Slot); err != nil {
		return err
	}
	p := opts.Prompter()
	cfg.NewPIN = func() (string, error) {
		v, err := p.Secret(secretSpec{Env: envPIN, What: "new PIN", Prompt: fmt.Sprintf("New PIN for YubiKey %d (6 to 8 characters)", serial), Confirm: true, Check: checkPIN("new PIN")})
		return string(v), err
	}
	cfg.NewPUK = func() (string, error) {
		v, err := p.Secret(secretSpec{Env: envPUK, What: "new PUK", Prompt: fmt.Sprintf("New PUK for YubiKey %d (6 to 8 characters)", serial), Confirm: true, Check: checkPIN("new PUK")})
		return string(v), err
	}
	res, err := yk.Setup(ctx, cfg)
	if err != nil {
		return err
	}
	return opts.record(store, res)
}

func (opts *yubikeySetupOptions) config() (piv.SetupConfig, error) {
	cfg := piv.SetupConfig{Force: opts.Force, RequireAttestation: opts.RequireAttestation}
	var err error
	if cfg.PINPolicy, err = piv.ParsePINPolicy(opts.PINPolicy); err != nil {
		return cfg, err
	}
	if cfg.TouchPolicy, err = piv.ParseTouchPolicy(opts.Touch); err != nil {
		return cfg, err
	}
	if opts.Slot != "" {
		if cfg.Slot, err = piv.ParseSlot(opts.Slot); err != nil {
			return cfg, err
		}
	}
	if opts.Force && opts.Slot == "" {
		return cfg, errkind.Mark(errkind.Input, errors.New("--force needs --slot: name the slot whose key to replace"))
	}
	if opts.Yes && !opts.Force {
		return cfg, errkind.Mark(errkind.Input, errors.New("--yes only goes with --force"))
	}
	if opts.Name != "" {
		if err := keystore.ValidateName(opts.Name); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// confirmForce asks the person to type the slot before --force replaces a
// key, unless --yes; nothing is asked when the slot is empty.
func (opts *yubikeySetupOptions) confirmForce(ctx context.Context, yk *piv.YubiKey, slot piv.Slot) error {
	if !opts.Force || opts.Yes {
		return nil
	}
	info, err := yk.Info(ctx)
	if err != nil {
		return err
	}
	for _, s := range info.Slots {
		if s.Slot == slot {
			return confirmTyped(opts.Prompter(), fmt.Sprintf("Slot %s of YubiKey %d holds a key; replacing it loses that key for good.", slot, yk.Serial()), slot.String())
		}
	}
	return nil
}

// record puts the new key in the keystore (app.RecordYubikeyKey) and
// prints the result.
func (opts *yubikeySetupOptions) record(store *keystore.Store, res *piv.SetupResult) error {
	out, err := app.RecordYubikeyKey(store, opts.Name, res, func(msg string) { notice(opts.IO, "%s", msg) })
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, out)
	}
	if out.Initialized {
		notice(opts.IO, "YubiKey %d: new PIN and PUK set, management key replaced by a random one kept in PIN-protected data", out.Serial)
	}
	what := "attestation verified"
	if !out.Attested {
		what = "attestation NOT verified"
	}
	notice(opts.IO, "YubiKey %d slot %s: ECDSA P-256 key generated (PIN %s, touch %s), %s; recorded as %s (use %s or yubikey:%d/%s)",
		out.Serial, out.Slot, out.PINPolicy, out.TouchPolicy, what, out.Name, out.Name, out.Serial, out.Slot)
	_, err = fmt.Fprintln(opts.IO.Out, out.KeyID)
	return err
}
