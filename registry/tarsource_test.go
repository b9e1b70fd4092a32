//go:build unix

package registry

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/registry/registrytest"
)

// writeTar writes a tarball of the given entries, in order.
func writeTar(t *testing.T, entries map[string]string, order ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, name := range order {
		body := entries[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return file
}

// TestPushBoundsWhatItReadsWholeFromLocalSources: a tarball's
// manifest.json or image config, or a layout's index.json, over the
// manifest limit is refused before go-containerregistry reads it into
// memory; a FIFO as the tarball is refused without waiting on it.
func TestPushBoundsWhatItReadsWholeFromLocalSources(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	c := newClient(t, WithMaxManifestSize(limit))
	dst := mustTag(t, registrytest.UniqueRepo(t, registrytest.InProcess(t)), "x")
	push := func(src string) error {
		_, err := c.PushImage(context.Background(), src, dst, nil)
		return err
	}
	bigManifest := writeTar(t, map[string]string{"manifest.json": `[{"Config":"c.json"}]` + strings.Repeat(" ", 2*limit)}, "manifest.json")
	bigConfig := writeTar(t, map[string]string{
		"manifest.json": `[{"Config":"c.json","Layers":[]}]`,
		"c.json":        "{" + strings.Repeat(" ", 2*limit) + "}",
	}, "c.json", "manifest.json")
	for name, file := range map[string]string{"manifest.json": bigManifest, "image config": bigConfig} {
		err := push("tar:" + file)
		if !errors.Is(err, ErrTooLarge) || !errkind.Is(err, errkind.Input) || !strings.Contains(err.Error(), name) {
			t.Errorf("push of a tarball with a %s over the limit: %v, want ErrTooLarge naming it", name, err)
		}
	}

	dir := registrytest.WriteLayout(t, registrytest.RandomImage(t, 1024, 2), "v1")
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`+strings.Repeat(" ", 2*limit)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := push("oci:" + dir); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "index.json") {
		t.Errorf("push of a layout with an index.json over the limit: %v, want ErrTooLarge", err)
	}

	fifo := filepath.Join(t.TempDir(), "image.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := push("tar:" + fifo); !errors.Is(err, localfile.ErrNotRegular) || !errkind.Is(err, errkind.Input) {
		t.Errorf("push of a FIFO as the tarball: %v, want ErrNotRegular (input)", err)
	}
}
