package main

import (
	"github.com/spf13/cobra"
)

func newTrustCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("trust <command>", "Manage the trusted roots of image repositories",
		`Manage the TUF roots signet trusts, one per image repository, kept under
trust/<registry>/<repository>/root.json in the signet home.

Without a pinned root, the first 'signet verify' of a repository trusts the
root it finds (trust on first use) and says so. CI should pin the root
instead: a pinned root only moves forward through the signed root chain.`)
	cmd.Example = `  signet trust pin registry.example.com/team/app --root root.json
  signet trust show registry.example.com/team/app
  signet trust forget registry.example.com/team/app`
	cmd.AddCommand(
		newTrustPinCmd(f, nil),
		newTrustShowCmd(f, nil),
		newTrustForgetCmd(f, nil),
	)
	return cmd
}
