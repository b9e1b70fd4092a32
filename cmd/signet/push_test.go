package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signet-dev/signet/internal/errkind"
)

// A push that fails before uploading (here: a repository with no trust
// data, refused before the upload starts) must not leave the progress
// display waiting on a terminal for updates that never come.
func TestPushThatFailsBeforeUploadingReturnsOnATerminal(t *testing.T) {
	t.Parallel()
	ios, _, _ := testIO(nil)
	ios.ErrTTY = true
	f := newFactory(ios, mapEnv(map[string]string{
		"SIGNET_HOME":       filepath.Join(t.TempDir(), "home"),
		"SIGNET_PASSPHRASE": "pw",
	}))
	defer f.close()
	opts := &pushOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps}
	opts.req.Source = "oci:" + t.TempDir()
	opts.req.Tag = "127.0.0.1:1/none/app:v1"
	opts.req.Key = "nobody"
	errc := make(chan error, 1)
	go func() { errc <- runPush(context.Background(), opts) }()
	select {
	case err := <-errc:
		if err == nil || errkind.Of(err) == errkind.OK {
			t.Fatalf("push succeeded: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("push hung after failing before the upload")
	}
}

func TestProgressClearsItsLineAndSaysWhatItWaitsOnOnceSent(t *testing.T) {
	t.Parallel()
	ios, _, errOut := testIO(nil)
	ch := make(chan v1.Update, 3)
	ch <- v1.Update{Complete: 1 << 20, Total: 4 << 20}
	ch <- v1.Update{Complete: 4 << 20, Total: 4 << 20}
	close(ch)
	showProgress(ios, ch, make(chan struct{}))
	got := errOut.String()
	want := "\rUploading  25% (1.0 MiB / 4.0 MiB)\x1b[K" +
		"\rUploaded 4.0 MiB, waiting for the registry to store the image\x1b[K" +
		"\r\x1b[K"
	if got != want {
		t.Fatalf("progress = %q, want %q", got, want)
	}
}
