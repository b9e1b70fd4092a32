package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/signer"
)

// Environment variables of the yubikey commands besides SIGNET_PIN and
// SIGNET_PUK: new secrets for set-pin, set-puk and unblock.
const (
	envNewPIN = "SIGNET_NEW_PIN"
	envNewPUK = "SIGNET_NEW_PUK"
)

// envTestAttestationCA is the test seam of docs/security.md: the test
// binary, run as signet by the scripts, reads it and passes the file with
// withTestAttestationCA. The release binary never reads it.
const envTestAttestationCA = "SIGNET_TEST_ATTESTATION_CA"

func newYubikeyCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("yubikey <command>", "Set up and manage YubiKeys that hold signing keys",
		`Set up YubiKeys for signet and manage their PIV keys, PIN and PUK.

'signet yubikey setup' takes a factory-fresh YubiKey: it sets a new PIN and
PUK, replaces the management key with a random one kept in PIN-protected
data (as 'ykman piv access change-management-key --protect' does), generates
an ECDSA P-256 key on the device, verifies its attestation against Yubico's
roots, and records the key in the keystore. Use the key as yubikey,
yubikey:SERIAL or yubikey:SERIAL/SLOT, or by its keystore name.

Several YubiKeys at once are told apart by serial (--serial). The PIN comes
from SIGNET_PIN or a no-echo prompt; the PUK from SIGNET_PUK or a prompt.
signet never retries a wrong PIN, and will not use SIGNET_PIN when only one
try is left.

YubiKeys need a build with YubiKey support ('signet version' says whether
this one has it); a static build (CGO_ENABLED=0) exits 3 on every yubikey
command (docs/install.md).`)
	cmd.Example = `  signet yubikey list
  signet yubikey setup                       # root key in slot 9c
  signet yubikey setup --name alice-targets  # next key: first free slot 82-95
  signet yubikey info --serial 12345678
  signet yubikey attest --slot 9c
  signet yubikey unblock`
	cmd.AddCommand(
		newYubikeyListCmd(f, nil),
		newYubikeyInfoCmd(f, nil),
		newYubikeySetupCmd(f, nil),
		newYubikeyAttestCmd(f, nil),
		newYubikeyResetCmd(f, nil),
		newYubikeySetPINCmd(f, nil),
		newYubikeySetPUKCmd(f, nil),
		newYubikeyUnblockCmd(f, nil),
	)
	return cmd
}

// newHardware returns the constructor for factory.Hardware, building the
// YubiKey support once per command, and a function that releases the cards
// it opened (call it when the command ends).
func newHardware(f *factory) (get func() (signer.Hardware, error), closeAll func()) {
	var (
		mu sync.Mutex
		hw *signer.YubiKeys
	)
	get = func() (signer.Hardware, error) {
		mu.Lock()
		defer mu.Unlock()
		if hw == nil {
			ks, err := f.Keystore()
			if err != nil {
				return nil, err
			}
			hw = signer.NewYubiKeys(ks, f.pivOptions()...)
		}
		return hw, nil
	}
	closeAll = func() {
		mu.Lock()
		defer mu.Unlock()
		if hw != nil {
			_ = hw.Close()
		}
	}
	return get, closeAll
}

// pivOptions are the options every YubiKey is opened with: the PIN from
// SIGNET_PIN or a prompt naming the card, and touch notices on stderr.
func (f *factory) pivOptions() []piv.Option {
	return []piv.Option{
		piv.WithPIN(func(ctx context.Context, serial uint32) (piv.PIN, error) {
			if err := ctx.Err(); err != nil {
				return piv.PIN{}, err
			}
			fromEnv := f.Env(envPIN) != ""
			pin, err := f.Prompter().PIN(fmt.Sprintf("PIN for YubiKey %d", serial))
			return piv.PIN{Value: pin, FromEnv: fromEnv}, err
		}),
		piv.WithNotice(func(msg string) { f.Prompter().Notice("%s", msg) }),
	}
}

// attestationRoots returns Yubico's roots, plus, in tests only, those of
// the PEM file withTestAttestationCA named, announced on stderr.
func (f *factory) attestationRoots() (*piv.Roots, error) {
	roots, err := piv.YubicoRoots()
	if err != nil {
		return nil, errkind.Mark(errkind.Key, err)
	}
	file := f.testAttestationCA
	if file == "" {
		return roots, nil
	}
	data, err := localfile.Read(file, 1<<20)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", envTestAttestationCA, err))
	}
	if err := roots.AddPEM(data); err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", envTestAttestationCA, err))
	}
	f.attestationNotice.Do(func() {
		f.Prompter().Notice("%s is set: also trusting the attestation roots in %s (for tests only)", envTestAttestationCA, file)
	})
	return roots, nil
}

// serialFlag is --serial: a YubiKey serial number, 0 for "the only one".
type serialFlag uint32

func (s *serialFlag) String() string {
	if *s == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(*s), 10)
}

func (s *serialFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("invalid serial %q: want the YubiKey's decimal serial number", v))
	}
	*s = serialFlag(n)
	return nil
}

func (s *serialFlag) Type() string { return "N" }

func addSerialFlag(cmd *cobra.Command, s *serialFlag) {
	cmd.Flags().Var(s, "serial", "the YubiKey with serial number `N` (needed when several are attached)")
}

// yubikeyDeps are the funcs the yubikey commands choose from; each
// command's options take only those it uses.
type yubikeyDeps struct {
	IO       *iostreams
	JSON     func() bool
	Prompter func() Prompter
	Keystore func() (*keystore.Store, error)
	Open     func(ctx context.Context, serial uint32) (*piv.YubiKey, error)
	Roots    func() (*piv.Roots, error)
	IOEnv    func(string) string // the environment, for choosing between variables
}

func newYubikeyDeps(f *factory) yubikeyDeps {
	return yubikeyDeps{
		IO: f.IOStreams, JSON: f.Global.JSON, Prompter: f.Prompter, Keystore: f.Keystore, Roots: f.attestationRoots, IOEnv: f.Env,
		Open: func(ctx context.Context, serial uint32) (*piv.YubiKey, error) {
			return piv.Open(ctx, serial, f.pivOptions()...)
		},
	}
}

// confirmTyped asks the person to type want after reading what is at
// stake; anything else cancels the command.
func confirmTyped(p Prompter, what, want string) error {
	ok, err := p.Confirm(fmt.Sprintf("%s\nType %s to go on: ", what, want), want)
	if err != nil {
		return err
	}
	if !ok {
		return errkind.Mark(errkind.Input, errors.New("not confirmed: nothing was changed"))
	}
	return nil
}
