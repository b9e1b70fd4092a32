package verify

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/signet-dev/signet/internal/atomicfile"
)

// syncTrustDir makes the trust directory's metadata durable after an
// update. go-tuf's updater writes each file to a temporary file and
// renames it (atomic against a crash of signet) but never fsyncs, so a
// power loss could leave a renamed file empty; this syncs every metadata
// file and the directory, and removes the temporary files ("tuf_tmp*") a
// crash between write and rename leaves behind.
func syncTrustDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "tuf_tmp"), atomicfile.IsTemp(e.Name()):
			_ = os.Remove(path)
		case e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json"):
			if err := syncPath(path); err != nil {
				return err
			}
		}
	}
	return syncPath(dir)
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
