package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/keystore"
)

// maxKeyInput bounds a key or root file read from disk or stdin.
const maxKeyInput = 1 << 20

type keyImportOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	Prompter func() Prompter
	JSON     func() bool

	Name string
	File string // "-" is stdin
}

func newKeyImportCmd(f *factory, runF func(*keyImportOptions) error) *cobra.Command {
	opts := &keyImportOptions{IO: f.IOStreams, Keystore: f.Keystore, Prompter: f.Prompter, JSON: f.Global.JSON}
	return &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import a PEM key into the keystore",
		Long: `Import the key in FILE ("-" for stdin) into the keystore under NAME and
print its TUF key ID. FILE is PEM as openssl, cosign and others write it:
PKCS#8 or SEC1 private keys, encrypted ones (PKCS#8 PBES2, legacy
Proc-Type encryption, cosign's format), or a public key or certificate for
a key someone else holds. Only ECDSA P-256 and Ed25519 keys are accepted.

The passphrase of an encrypted FILE comes from SIGNET_IMPORT_PASSPHRASE or
a prompt; the private key is then kept under the keystore passphrase
(SIGNET_PASSPHRASE).`,
		Example: `  openssl genpkey -algorithm ed25519 -out ci.pem
  signet key import ci ci.pem
  SIGNET_IMPORT_PASSPHRASE=... signet key import release cosign.key
  signet key import bob bob.pub`,
		Args: exactArgs(2, "a key NAME and a FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.File = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runKeyImport(cmd.Context(), opts)
		},
	}
}

func runKeyImport(ctx context.Context, opts *keyImportOptions) error {
	if err := keystore.ValidateName(opts.Name); err != nil {
		return err
	}
	data, err := readInput(ctx, opts.IO, opts.File, maxKeyInput)
	if err != nil {
		return err
	}
	defer clear(data)
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	ask := func() ([]byte, error) {
		return opts.Prompter().Secret(secretSpec{Env: envImportPassphrase, What: "passphrase of " + displayName(opts.File), Prompt: "Passphrase of " + displayName(opts.File)})
	}
	info, err := store.Import(ctx, opts.Name, data, ask)
	if err != nil {
		return err
	}
	return printKeyResult(opts.IO, opts.JSON(), info, "")
}

func displayName(file string) string {
	if file == "-" {
		return "stdin"
	}
	return file
}
