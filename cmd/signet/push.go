package main

import (
	"context"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
)

type pushOptions struct {
	IO   *iostreams
	JSON func() bool
	Deps func() (*app.Deps, error)
	req  app.PushRequest
}

func newPushCmd(f *factory, runF func(*pushOptions) error) *cobra.Command {
	opts := &pushOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	cmd := &cobra.Command{
		Use:   "push SOURCE R:T [--key REF]",
		Short: "Push an image and sign its tag",
		Long: `Push an image to R:T and sign the tag by its digest, in one publish of
the trust data. SOURCE is an OCI image layout (oci:DIR, or oci:DIR:REF to
pick one image by its ref name or digest) or a tarball (tar:FILE, as
written by docker save or as an OCI archive).

A failed push never moves a tag: signet signs first (trust data, key,
passphrase, PIN and touch are all checked before anything is uploaded),
then uploads the image by digest, publishes the trust data, and moves
R:T last. Between the publish and the tag move, verify R:T says "tag
moved"; pull already gets the signed image.

The key (--key) picks the role: the targets role, or the delegation that
holds the key and whose paths match the tag; --key A signs with A alone.
Without --key: the targets keys at hand, else the one key at hand (keystore
or SIGNET_KEY) that a delegation matching the tag lists; signet says which.`,
		Example: `  signet push oci:./build/app 127.0.0.1:5000/demo/app:v1
  docker save app:v1 -o app.tar && signet push tar:app.tar registry.example.com/team/app:v1 --key yubikey
  SIGNET_KEY=... signet push --no-input oci:out registry.example.com/team/app:v1.2.3 --key ci`,
		Args: exactArgs(2, "SOURCE and R:T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.req.Source, opts.req.Tag = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runPush(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.req.Key, "key", "", "signing key `REF` (yubikey, yubikey:SERIAL/SLOT, file:PATH, env:VAR or a keystore name)")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runPush(ctx context.Context, opts *pushOptions) error {
	d, err := opts.Deps()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	if opts.IO.ErrTTY {
		ch := make(chan v1.Update, 16)
		opts.req.Progress = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			showProgress(opts.IO, ch, done)
		}()
	}
	res, err := app.Push(ctx, d, opts.req)
	close(done)
	wg.Wait()
	if err != nil {
		return err
	}
	return renderSigned(opts.IO, opts.JSON(), "Pushed and signed", res)
}

// showProgress draws upload progress on the terminal's stderr until the
// upload closes ch, or until done: a push that fails before uploading
// never touches ch.
func showProgress(ios *iostreams, ch <-chan v1.Update, done <-chan struct{}) {
	shown := false
	defer func() {
		if shown {
			fmt.Fprint(ios.ErrOut, "\r\x1b[K")
		}
	}()
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				return
			}
			if u.Total <= 0 {
				continue
			}
			// Each line clears what a longer one before it left. Once every
			// byte is sent, the registry still checks and stores the
			// blobs and the manifest: say so rather than sit at 99%.
			if u.Complete >= u.Total {
				fprintf(ios.ErrOut, "\rUploaded %s, waiting for the registry to store the image\x1b[K", humanBytes(u.Total))
			} else {
				fprintf(ios.ErrOut, "\rUploading %3d%% (%s / %s)\x1b[K", u.Complete*100/u.Total, humanBytes(u.Complete), humanBytes(u.Total))
			}
			shown = true
		case <-done:
			return
		}
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// renderSigned prints the tags a sign or push signed.
func renderSigned(ios *iostreams, asJSON bool, verb string, res *app.SignResult) error {
	if asJSON {
		return writeJSON(ios.Out, res)
	}
	for _, s := range res.Signed {
		fprintf(ios.Out, "%s %s %s (role %s)\n", verb, s.Tag, s.Digest, s.Role)
	}
	return nil
}
