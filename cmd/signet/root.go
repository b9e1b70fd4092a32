package main

import (
	"time"

	"github.com/spf13/cobra"
)

// Command groups of `signet --help`.
const (
	groupSign  = "sign"
	groupKeys  = "keys"
	groupAdmin = "admin"
	groupOther = "other"
)

// globalOptions are the flags every command takes (docs/design.md §5).
type globalOptions struct {
	Home     string // --home; "" means $SIGNET_HOME or ~/.signet
	Output   string // -o/--output: text or json
	NoInput  bool   // --no-input: never prompt
	Insecure bool   // --insecure: plain HTTP to the registry
	Verbose  bool   // -v/--verbose: debug log on stderr
	// Timeout is --timeout: the whole command's deadline (timeout.go).
	Timeout time.Duration

	// MetadataRepo is --metadata-repo: the repository whose _tuf tag holds
	// the trust data, when it is not the image's own (docs/design.md §2).
	MetadataRepo string

	// Root is --root of the commands that read trust data (not a global
	// flag): the trusted root.json to start from.
	Root string
}

// JSON reports whether -o json was asked for.
func (g *globalOptions) JSON() bool { return g.Output == outputJSON }

// newRootCmd builds the signet command tree around f. The global flags are
// parsed into f.Global before any command runs.
func newRootCmd(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signet <command> [flags]",
		Short: "Sign container image pushes with TUF metadata kept in the registry",
		Long: `signet signs container image pushes with TUF (The Update Framework)
metadata stored in the OCI registry next to the images, with root and signing
keys on YubiKeys or in an encrypted software keystore.

Secrets come from the environment or a no-echo prompt, never from flags:
  SIGNET_PASSPHRASE         keystore passphrase (also opens SIGNET_KEY)
  SIGNET_NEW_PASSPHRASE     new keystore passphrase (key passwd)
  SIGNET_IMPORT_PASSPHRASE  passphrase of an encrypted PEM (key import)
  SIGNET_EXPORT_PASSPHRASE  passphrase for a bundle (key export --private)
  SIGNET_PIN, SIGNET_PUK    YubiKey PIN and PUK
  SIGNET_NEW_PIN, SIGNET_NEW_PUK  new PIN and PUK (yubikey set-pin, set-puk, unblock)
  SIGNET_KEY                CI: an encrypted bundle from 'key export --private'
A command that signs asks in one order: every passphrase, then each
YubiKey's PIN, then its touch; a wrong passphrase stops it before any PIN
try, and an answer that cannot be a PIN (6 to 8 characters) is asked again.

Every command gives up after --timeout (default 5m; SIGNET_TIMEOUT), and
each registry request fails when it gets no answer for 60s, or when its
answer arrives slower than 4 KiB/s on average after 30s.

Exit codes: 0 success, 1 verification failed or a check found a problem,
2 bad usage or input, 3 key, PIN or hardware problem, 4 registry or network
problem or --timeout reached, 5 internal or system error (a bug, a full
disk), 130 interrupted.`,
		Example: `  # Try it out on a registry served by signet itself
  signet registry serve --addr 127.0.0.1:5000 &
  signet key generate alice
  signet init 127.0.0.1:5000/demo/app --root-key alice --targets-key alice
  signet push oci:./app-layout 127.0.0.1:5000/demo/app:v1
  signet verify 127.0.0.1:5000/demo/app:v1

  # In CI, trust a pinned root and verify with no prompts
  signet trust pin registry.example.com/team/app --root root.json
  signet verify registry.example.com/team/app:v1 --no-input`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			out, err := parseOutput(f.Global.Output)
			if err != nil {
				return usageError(cmd, err)
			}
			f.Global.Output = out
			if err := applyTimeout(cmd, f); err != nil {
				return usageError(cmd, err)
			}
			f.Logger().Debug("command", "path", cmd.CommandPath(), "home", f.homeOrEmpty())
			return nil
		},
	}
	cmd.SetFlagErrorFunc(flagError)

	pf := cmd.PersistentFlags()
	pf.StringVar(&f.Global.Home, "home", "", "signet home `DIR` (env SIGNET_HOME, default ~/.signet)")
	pf.StringVarP(&f.Global.Output, "output", "o", outputText, "output `FORMAT`: text or json")
	pf.BoolVar(&f.Global.NoInput, "no-input", false, "never prompt; fail when a secret is not in the environment")
	pf.BoolVar(&f.Global.Insecure, "insecure", false, "talk plain HTTP to the registry (automatic for localhost and 127.0.0.1)")
	pf.BoolVarP(&f.Global.Verbose, "verbose", "v", false, "debug log on stderr (never contains secrets)")
	addTimeoutFlag(cmd, f)
	pf.StringVar(&f.Global.MetadataRepo, "metadata-repo", "", "keep trust data at `REPOSITORY`:_tuf instead of the image's own repository")

	cmd.AddGroup(
		&cobra.Group{ID: groupSign, Title: "Signing and verifying:"},
		&cobra.Group{ID: groupKeys, Title: "Keys and trust:"},
		&cobra.Group{ID: groupAdmin, Title: "Repository administration:"},
		&cobra.Group{ID: groupOther, Title: "Other commands:"},
	)
	cmd.SetHelpCommandGroupID(groupOther)
	cmd.SetCompletionCommandGroupID(groupOther)

	addGroup(cmd, groupSign,
		newPushCmd(f, nil),
		newSignCmd(f, nil),
		newVerifyCmd(f, nil),
		newPullCmd(f, nil),
		newInspectCmd(f, nil),
		newRevokeCmd(f, nil),
		newDockerCmd(f),
	)
	addGroup(cmd, groupAdmin,
		newInitCmd(f, nil),
		newDelegateCmd(f),
		newRotateCmd(f, nil),
		newCeremonyCmd(f),
		newRefreshCmd(f, nil),
		newStatusCmd(f, nil),
		newImportCmd(f),
	)
	addGroup(cmd, groupKeys,
		newKeyCmd(f),
		newYubikeyCmd(f),
		newTrustCmd(f),
	)
	addGroup(cmd, groupOther,
		newRegistryCmd(f),
		newAdmissionCmd(f),
		newVersionCmd(f, nil),
	)
	cmd.AddCommand(newDockerMetadataCmd(f))
	return cmd
}

// addGroup adds commands to root under a help group.
func addGroup(root *cobra.Command, group string, cmds ...*cobra.Command) {
	for _, c := range cmds {
		c.GroupID = group
		root.AddCommand(c)
	}
}

// newGroupCmd returns a command that only holds subcommands: it prints its
// help when run alone and rejects unknown subcommands as usage errors.
func newGroupCmd(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
}
