package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

func newCeremonyCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("ceremony <command>", "Collect signatures for a staged rotation",
		`A ceremony collects the signatures of keys held by several people on
several machines for a change staged with 'signet rotate ... --stage FILE':
a new root, or new targets and delegation metadata. FILE travels from signer
to signer; each runs 'signet ceremony sign FILE --key REF', offline. When
every threshold is met, 'signet ceremony publish FILE' publishes it (with
the online keys for snapshot and timestamp). A FILE edited after signing is
refused. The format is described in docs/rotation.md.`)
	cmd.Example = `  signet ceremony status rotate-root.json
  signet ceremony sign rotate-root.json --key yubikey
  signet ceremony publish rotate-root.json`
	cmd.AddCommand(
		newCeremonyStatusCmd(f, nil),
		newCeremonySignCmd(f, nil),
		newCeremonyPublishCmd(f, nil),
	)
	return cmd
}

type ceremonyStatusOptions struct {
	f    *factory
	file string
}

func newCeremonyStatusCmd(f *factory, runF func(*ceremonyStatusOptions) error) *cobra.Command {
	opts := &ceremonyStatusOptions{f: f}
	return &cobra.Command{
		Use:   "status FILE",
		Short: "Show who has signed a staged ceremony and who must still sign",
		Long: `Show what a staged ceremony proposes (the key changes, and a fingerprint of
each proposed file to compare with the person who staged it) and, per
threshold, which keys have signed and which must still sign: key IDs, with
names and YubiKey serials where this machine's keystore knows them. Needs no
registry and no passphrase.`,
		Example: `  signet ceremony status rotate-root.json`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCeremonyStatus(cmd.Context(), opts)
		},
	}
}

func runCeremonyStatus(ctx context.Context, opts *ceremonyStatusOptions) error {
	f := opts.f
	res, err := app.CeremonyStatusOf(ctx, ceremonyDeps(f), opts.file)
	if err != nil {
		return err
	}
	if f.Global.JSON() {
		return writeJSON(f.IOStreams.Out, res)
	}
	return writeCeremonyStatus(f.IOStreams.Out, res)
}

type ceremonySignOptions struct {
	f   *factory
	req app.CeremonySignRequest
}

func newCeremonySignCmd(f *factory, runF func(*ceremonySignOptions) error) *cobra.Command {
	opts := &ceremonySignOptions{f: f}
	cmd := &cobra.Command{
		Use:   "sign FILE --key REF",
		Short: "Add a key's signatures to a staged ceremony, offline",
		Long: `Sign every proposed file of the ceremony in FILE that needs the key REF
(a keystore name, yubikey, yubikey:SERIAL/SLOT, file:PATH, env:VAR) and
write FILE back. No registry is contacted. Check the changes and the
fingerprints shown by 'signet ceremony status FILE' before signing.`,
		Example: `  signet ceremony sign rotate-root.json --key yubikey:12345678/9c`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.File = args[0]
			if opts.req.Key == "" {
				return usageError(cmd, errors.New("--key REF is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runCeremonySign(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.Key, "key", "", "the signing key `REF`")
	return cmd
}

func runCeremonySign(ctx context.Context, opts *ceremonySignOptions) error {
	f := opts.f
	res, err := app.CeremonySign(ctx, ceremonyDeps(f), opts.req)
	if err != nil {
		return err
	}
	if f.Global.JSON() {
		return writeJSON(f.IOStreams.Out, res)
	}
	fprintf(f.IOStreams.Out, "Signed %s in %s\n\n", strings.Join(res.SignedNow, ", "), res.File)
	if err := writeCeremonyStatus(f.IOStreams.Out, res); err != nil {
		return err
	}
	if res.Complete {
		notice(f.IOStreams, "every signature is here: publish with signet ceremony publish %s", res.File)
	}
	return nil
}

type ceremonyPublishOptions struct {
	f    *factory
	file string
}

func newCeremonyPublishCmd(f *factory, runF func(*ceremonyPublishOptions) error) *cobra.Command {
	opts := &ceremonyPublishOptions{f: f}
	cmd := &cobra.Command{
		Use:   "publish FILE",
		Short: "Publish a staged ceremony once every threshold is met",
		Long: `Publish the metadata of the ceremony in FILE, with a new snapshot and
timestamp signed by the online keys. It refuses, with exit code 1, while a
threshold is not met, and with exit code 2 when the repository has moved on
since the ceremony was staged (a newer root, or a newer version of a targets
role the ceremony replaces): stage the change again.`,
		Example: `  signet ceremony publish rotate-root.json`,
		Args:    exactArgs(1, "the ceremony FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCeremonyPublish(cmd.Context(), opts)
		},
	}
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runCeremonyPublish(ctx context.Context, opts *ceremonyPublishOptions) error {
	f := opts.f
	d, err := f.appDeps()
	if err != nil {
		return err
	}
	res, err := app.CeremonyPublish(ctx, d, opts.file)
	if err != nil {
		return err
	}
	if f.Global.JSON() {
		return writeJSON(f.IOStreams.Out, res)
	}
	fprintf(f.IOStreams.Out, "Published %s of %s (root version %d)\n", strings.Join(res.Published, ", "), res.Repository, res.RootVersion)
	return nil
}

// ceremonyDeps are the deps of the offline ceremony commands: keys and
// names from the signet home, no registry client.
func ceremonyDeps(f *factory) *app.Deps {
	return &app.Deps{
		Keystore: f.Keystore,
		Resolver: f.Resolver,
		Notice:   func(msg string) { notice(f.IOStreams, "%s", msg) },
	}
}

// writeCeremonyStatus prints what a ceremony proposes and, per threshold,
// who signed ([x]) and who has not ([ ]).
func writeCeremonyStatus(w io.Writer, st *app.CeremonyStatus) error {
	fprintf(w, "Ceremony for %s, staged on root version %d\n", st.Repository, st.BaseRootVersion)
	for _, p := range st.Proposed {
		fprintf(w, "Proposed: %s version %d, expires %s, fingerprint %s\n", p.Name, p.Version, p.Expires.UTC().Format("2006-01-02T15:04:05Z"), p.Fingerprint)
	}
	for _, c := range st.Changes {
		fprintf(w, "Change: %s\n", c)
	}
	for _, t := range st.Thresholds {
		state := "met"
		if !t.Met {
			state = fmt.Sprintf("%d more needed", t.Threshold-t.Signed)
		}
		fprintf(w, "\n%s version %d needs %d of %d keys of %s: %d signed, %s\n", t.Metadata, t.Version, t.Threshold, len(t.Keys), t.Label, t.Signed, state)
		for _, k := range t.Keys {
			mark := "[ ]"
			if k.Signed {
				mark = "[x]"
			}
			line := mark + " " + k.KeyID
			if k.Name != "" {
				line += " " + k.Name
			}
			if k.Serial != 0 {
				line += fmt.Sprintf(" (YubiKey %d slot %s)", k.Serial, k.Slot)
			}
			fprintf(w, "  %s\n", line)
		}
	}
	if st.Complete {
		_, err := fmt.Fprintln(w, "\nComplete: every threshold is met")
		return err
	}
	_, err := fmt.Fprintln(w, "\nIncomplete: signatures are missing")
	return err
}
