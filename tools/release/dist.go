package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Info says what is being released.
type Info struct {
	// Version is linked into the binaries and names the archives, e.g.
	// "v1.2.0" or "v1.2.0-3-gabcdef0-dirty" (git describe).
	Version string
	// Time is every file's modification time in the archives and the
	// image's creation time: the commit's time, so that it is the same on
	// every machine.
	Time time.Time
	// Revision is the commit.
	Revision string
}

// GitInfo reads Info from the git checkout at root: git describe for the
// version, the commit and its time. SOURCE_DATE_EPOCH, when set, wins for
// the time. Outside a git checkout the version is "devel" and the time the
// Unix epoch.
func GitInfo(root string) Info {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	info := Info{Version: git("describe", "--tags", "--always", "--dirty"), Revision: git("rev-parse", "HEAD"), Time: time.Unix(0, 0).UTC()}
	if info.Version == "" {
		info.Version = "devel"
	}
	if s, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64); err == nil {
		info.Time = time.Unix(s, 0).UTC()
	}
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		info.Time = time.Unix(s, 0).UTC()
	}
	return info
}

// ArchiveName is the archive of t: signet_VERSION_NAME.tar.gz, or .zip for
// Windows.
func ArchiveName(info Info, t Target) string {
	ext := ".tar.gz"
	if t.OS == "windows" {
		ext = ".zip"
	}
	return "signet_" + info.Version + "_" + t.Name() + ext
}

// BinDir is where WriteDist leaves the bare binaries, one directory per
// target (DIR/bin/NAME/signet), for make image and tests.
func BinDir(dist string, t Target) string { return filepath.Join(dist, "bin", t.Name()) }

// WriteDist builds every target into dist (at most parallel builds at a
// time), writes an archive of each holding the binary, LICENSE and
// README.md, and dist/SHA256SUMS over the archives. The bare binaries stay
// in BinDir. A failed build fails it, naming the target.
func WriteDist(ctx context.Context, root, dist string, info Info, targets []Target, parallel int) error {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	var docs []file
	for _, name := range []string{"LICENSE", "README.md"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return err
		}
		docs = append(docs, file{name: name, mode: 0o644, data: data})
	}
	errs := make([]error, len(targets))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = writeTarget(ctx, root, dist, info, t, docs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return writeSums(dist, info, targets)
}

func writeTarget(ctx context.Context, root, dist string, info Info, t Target, docs []file) error {
	bin := filepath.Join(BinDir(dist, t), t.Exe())
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	if err := Build(ctx, root, t, info.Version, bin); err != nil {
		return err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	files := append([]file{{name: t.Exe(), mode: 0o755, data: data}}, docs...)
	var buf bytes.Buffer
	if t.OS == "windows" {
		err = zipFiles(&buf, files, info.Time)
	} else {
		err = tarGz(&buf, files, info.Time)
	}
	if err != nil {
		return fmt.Errorf("archiving %s: %w", t.Name(), err)
	}
	return os.WriteFile(filepath.Join(dist, ArchiveName(info, t)), buf.Bytes(), 0o644)
}

// writeSums writes SHA256SUMS in sha256sum's format, sorted by file name.
func writeSums(dist string, info Info, targets []Target) error {
	var lines []string
	for _, t := range targets {
		name := ArchiveName(info, t)
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+name+"\n")
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(strings.Join(lines, "")), 0o644)
}
