package main

import "github.com/spf13/cobra"

func newKeyCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("key <command>", "Manage software keys in the signet keystore",
		`Manage the software keys of the signet keystore (the "keys" directory of the
signet home). Private keys are encrypted under one keystore passphrase, taken
from SIGNET_PASSPHRASE or asked for on the terminal. Keys on YubiKeys are
managed with 'signet yubikey'.`)
	cmd.Example = `  signet key generate alice
  signet key list
  signet key export alice > alice.pub
  signet key import ci ci.pem
  signet key passwd
  signet key delete old-ci`
	cmd.AddCommand(
		newKeyGenerateCmd(f, nil),
		newKeyListCmd(f, nil),
		newKeyImportCmd(f, nil),
		newKeyExportCmd(f, nil),
		newKeyPasswdCmd(f, nil),
		newKeyDeleteCmd(f, nil),
	)
	return cmd
}
