package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

// maxTagsFile bounds a --from file of tags to sign.
const maxTagsFile = 64 << 20

type signOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.SignRequest
	from string
}

func newSignCmd(f *factory, runF func(*signOptions) error) *cobra.Command {
	opts := &signOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "sign R:T... [--key REF] [--from FILE]",
		Short: "Sign what tags point to now",
		Long: `Sign what each tag R:T points to now, into the role the key holds, in one
publish of the trust data however many tags are named. With --from FILE the
tags are read from FILE (one R:T a line; - for standard input), so a
pipeline that publishes many tags signs them at once. Each tag is resolved
by reading its manifest and hashing it: what is signed is the digest and
size of those bytes, never what the registry's headers claim.

--key A signs with A alone. Without --key: the targets keys at hand, else
the one key at hand (keystore or SIGNET_KEY) that a delegation matching
every tag lists; signet says which.`,
		Example: `  signet sign 127.0.0.1:5000/demo/app:v1
  signet sign registry.example.com/team/app:v1.2.3 --key ci
  signet sign --from tags.txt --key ci`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Tags = args
			if opts.from != "" {
				tags, err := readTags(cmd.Context(), f.IOStreams, opts.from)
				if err != nil {
					return err
				}
				opts.req.Tags = append(opts.req.Tags, tags...)
			}
			if len(opts.req.Tags) == 0 {
				return usageError(cmd, fmt.Errorf("name at least one R:T, or --from FILE"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runSign(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.Key, "key", "", "signing key `REF` (yubikey, yubikey:SERIAL/SLOT, file:PATH, env:VAR or a keystore name)")
	cmd.Flags().StringVar(&opts.from, "from", "", "read tags to sign from `FILE`, one R:T a line (- for stdin)")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runSign(ctx context.Context, opts *signOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	res, err := app.Sign(ctx, d, opts.req)
	if err != nil {
		return err
	}
	return renderSigned(opts.IO, opts.JSON(), "Signed", res)
}

// readTags reads one tag reference a line, skipping blanks and # comments.
func readTags(ctx context.Context, ios *iostreams, path string) ([]string, error) {
	data, err := readInput(ctx, ios, path, maxTagsFile)
	if err != nil {
		return nil, fmt.Errorf("reading tags: %w", err)
	}
	var tags []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tags = append(tags, line)
	}
	return tags, nil
}
