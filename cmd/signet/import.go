package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

func newImportCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("import <command>", "Carry signed tags over from another signing system",
		`Import signed tags from another signing system into a signet repository,
checked by that system's own rules first.`)
	cmd.Example = `  signet import notary docker.io/team/app --server https://notary.docker.io \
      --to registry.example.com/team/app --root-cert notary-root.crt`
	cmd.AddCommand(newImportNotaryCmd(f, nil))
	return cmd
}

type importNotaryOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.ImportRequest
}

func newImportNotaryCmd(f *factory, runF func(*importNotaryOptions) error) *cobra.Command {
	opts := &importNotaryOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "notary GUN --server URL --to R [--root-cert FILE] [--role NAME] [--dry-run]",
		Short: "Import the tags a Notary v1 (Docker Content Trust) repository signs",
		Long: `Read the trust data of the Notary v1 repository GUN from the Notary server
(root, timestamp, snapshot, targets and every delegation such as
targets/releases), verify it by Notary's rules, resolve its tags the way
'docker trust' does (targets/releases first, then targets), and sign them
into the signet repository R in one publish: into targets, or into the
delegation --role.

A tag is imported only when R:TAG still points at the manifest digest and
length Notary signed; every other tag is listed as skipped, with the reason.
A Notary repository that fails verification (bad signature, expiry, hash
mismatch, a root that does not match --root-cert) is refused as a whole
with exit code 1, and nothing is written.

--root-cert pins the Notary root certificate (PEM); without it the served
root is trusted on first use, which signet says on stderr. The server URL is
https://, or http:// for localhost (--insecure allows other hosts); --ca-cert
adds the CAs of a server with a private certificate. --dry-run prints what
would be imported and changes nothing.`,
		Example: `  signet import notary docker.io/team/app --server https://notary.docker.io \
      --to registry.example.com/team/app --root-cert notary-root.crt --dry-run
  signet import notary docker.io/team/app --server https://notary.docker.io \
      --to registry.example.com/team/app --root-cert notary-root.crt --role releases`,
		Args: exactArgs(1, "GUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.GUN = args[0]
			if opts.req.Server == "" || opts.req.To == "" {
				return usageError(cmd, fmt.Errorf("--server and --to are required"))
			}
			opts.req.Insecure = f.Global.Insecure
			if runF != nil {
				return runF(opts)
			}
			return runImportNotary(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.req.Server, "server", "", "Notary server `URL` (https://notary.example.com)")
	fl.StringVar(&opts.req.To, "to", "", "signet repository `R` to sign the tags into (already initialised)")
	fl.StringVar(&opts.req.RootCert, "root-cert", "", "pin the Notary root certificate, a PEM `FILE`")
	fl.StringVar(&opts.req.CACert, "ca-cert", "", "PEM `FILE` of CAs for the Notary server's TLS certificate")
	fl.StringVar(&opts.req.Role, "role", "", "sign into this delegation `NAME` instead of targets")
	fl.StringVar(&opts.req.Key, "key", "", "signing key `REF` (default: the role's keys in the keystore or SIGNET_KEY)")
	fl.BoolVar(&opts.req.DryRun, "dry-run", false, "print what would be imported; change nothing")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runImportNotary(ctx context.Context, opts *importNotaryOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Import(ctx, d, opts.req)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	t := newTable("TAG", "DIGEST", "NOTARY SIGNERS", "ACTION")
	for _, it := range res.Tags {
		action := it.Action
		if it.Reason != "" {
			action += ": " + it.Reason
		}
		signers := strings.Join(it.Signers, ",")
		if it.NotaryRole != "" {
			signers += " (" + it.NotaryRole + ")"
		}
		t.Row(it.Tag, orDash(it.Digest), orDash(signers), action)
	}
	if err := t.Write(opts.IO.Out); err != nil {
		return err
	}
	switch {
	case res.DryRun:
		notice(opts.IO, "dry run: %d tag(s) of %s would be signed into %s (role %s), %d skipped; nothing changed", len(res.Tags)-res.Skipped, res.GUN, res.Repository, res.Role, res.Skipped)
	default:
		notice(opts.IO, "imported %d tag(s) of %s into %s (role %s), %d skipped", res.Imported, res.GUN, res.Repository, res.Role, res.Skipped)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
