package signethome

import (
	"path/filepath"
	"testing"
)

// The layout is a format: homes written by earlier versions must keep
// working, so these names never change.
func TestThePathsOfTheHomeStayAsDocumented(t *testing.T) {
	home := filepath.FromSlash("/h")
	for got, want := range map[string]string{
		ManifestCache(home):                   filepath.FromSlash("/h/cache/manifests"),
		BlobCache(home):                       filepath.FromSlash("/h/cache/blobs"),
		Keys + " " + Trust + " " + Ceremonies: "keys trust ceremonies",
		Env + " " + DefaultName:               "SIGNET_HOME .signet",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
