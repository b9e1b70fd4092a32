package main

import (
	"fmt"
	"io"

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

// ceremonyDeps are the deps of the offline ceremony commands: keys and
// names from the signet home, no registry client.
func ceremonyDeps(f *factory) func() (*app.Deps, error) {
	return func() (*app.Deps, error) {
		return &app.Deps{
			Keystore: f.Keystore,
			Resolver: f.Resolver,
			Notice:   func(msg string) { notice(f.IOStreams, "%s", msg) },
		}, nil
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
