package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

type keyGenerateOptions struct {
	IO       *iostreams
	Keystore func() (*keystore.Store, error)
	JSON     func() bool

	Name string
	Type string // --type: ecdsa-p256 (default) or ed25519
	Out  string // --out: where the public key goes; "" means stdout
}

func newKeyGenerateCmd(f *factory, runF func(*keyGenerateOptions) error) *cobra.Command {
	opts := &keyGenerateOptions{IO: f.IOStreams, Keystore: f.Keystore, JSON: f.Global.JSON}
	cmd := &cobra.Command{
		Use:   "generate NAME",
		Short: "Generate a software key in the keystore",
		Long: `Generate a software key, keep it encrypted in the keystore under NAME and
print its TUF key ID on stdout. The public key (PEM) follows the key ID on
stdout, or goes to --out FILE, which must not exist yet; no other file is
written, whatever the current directory holds. 'signet key export NAME'
prints the public key again at any time. The first key of a keystore sets
the keystore passphrase (SIGNET_PASSPHRASE, or asked twice on the
terminal).`,
		Example: `  signet key generate alice
  signet key generate ci --type ed25519 --out ci.pub
  SIGNET_PASSPHRASE=... signet key generate ci --no-input -o json`,
		Args: exactArgs(1, "one key NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runKeyGenerate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Type, "type", string(keystore.ECDSAP256), "key `TYPE`: ecdsa-p256 or ed25519")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the public key to `FILE`, which must not exist (default: stdout, after the key ID)")
	return cmd
}

func runKeyGenerate(ctx context.Context, opts *keyGenerateOptions) error {
	typ, err := keystore.ParseKeyType(opts.Type)
	if err != nil {
		return err
	}
	if err := keystore.ValidateName(opts.Name); err != nil {
		return err
	}
	out := opts.Out
	// Refuse before generating, so that a failure leaves nothing behind.
	if out != "" {
		if err := checkNewFile(out); err != nil {
			return err
		}
	}
	store, err := opts.Keystore()
	if err != nil {
		return err
	}
	info, err := store.Generate(ctx, opts.Name, typ)
	if err != nil {
		return fmt.Errorf("generating key %s: %w", opts.Name, err)
	}
	pub, err := keystore.PublicKeyPEM(info.Public)
	if err != nil {
		return err
	}
	if out == "" {
		return printGenerated(opts.IO, opts.JSON(), info, pub)
	}
	if err := keystore.WriteFileAtomic(out, pub, 0o644); err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("key %s is in the keystore, but its public key was not written (run 'signet key export %s'): %w", opts.Name, opts.Name, err))
	}
	return printKeyResult(opts.IO, opts.JSON(), info, out)
}

// printGenerated prints the key ID and then the public key on stdout (text),
// or a keyResult with the public key (json).
func printGenerated(ios *iostreams, asJSON bool, info keystore.KeyInfo, pub []byte) error {
	if asJSON {
		return writeJSON(ios.Out, app.NewKeyResult(info, "", pub))
	}
	notice(ios, "%s key %s stored in the keystore; public key on stdout", info.Type, info.Name)
	_, err := fmt.Fprintf(ios.Out, "%s\n%s", info.KeyID, pub)
	return err
}

// printKeyResult prints the key ID (text) or a keyResult (json) on stdout
// and where the public key went on stderr.
func printKeyResult(ios *iostreams, asJSON bool, info keystore.KeyInfo, pubFile string) error {
	if asJSON {
		return writeJSON(ios.Out, app.NewKeyResult(info, pubFile, nil))
	}
	if pubFile != "" {
		notice(ios, "%s key %s stored in the keystore; public key in %s", info.Type, info.Name, pubFile)
	} else {
		notice(ios, "%s key %s stored in the keystore", info.Type, info.Name)
	}
	_, err := fmt.Fprintln(ios.Out, info.KeyID)
	return err
}

// checkNewFile fails unless path can be created: it must not exist and its
// directory must.
func checkNewFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("%s already exists: remove it or choose another file with --out", path))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return errkind.Mark(errkind.Input, fmt.Errorf("checking %s: %w", path, err))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return errkind.Mark(errkind.Input, fmt.Errorf("cannot write %s: directory %s does not exist", path, dir))
	}
	return nil
}
