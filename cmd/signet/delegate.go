package main

import (
	"github.com/spf13/cobra"
)

func newDelegateCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("delegate <command>", "Delegate tags to other keys, such as a CI key",
		`Delegate a slice of a repository's tags (shell globs such as v* or
release-*) to other keys: a CI key, or the keys of a release team. The
delegation is signed by the repository's targets key (a YubiKey touch when it
is on one), so the owners keep control: a delegated key signs only the tags
its paths match, and 'signet delegate remove' cuts it off.

Delegations are consulted in the order they were added; a terminating
delegation stops the search for the tags it matches. With --threshold N,
N holders of the delegation's keys must each run 'signet sign' on the same
tags before verify accepts them.`)
	cmd.Example = `  signet key generate ci
  signet delegate add registry.example.com/team/app ci-release --key ci --paths 'v*' --terminating
  signet key export ci --private --online registry.example.com/team/app > ci.bundle
  signet delegate list registry.example.com/team/app
  signet delegate remove registry.example.com/team/app ci-release`
	cmd.AddCommand(
		newDelegateAddCmd(f, nil),
		newDelegateRemoveCmd(f, nil),
		newDelegateListCmd(f, nil),
	)
	return cmd
}
