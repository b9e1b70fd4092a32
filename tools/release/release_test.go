package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// dist is one `make dist` run's output, shared by the tests of this file:
// building six targets is the expensive part.
var dist struct {
	once sync.Once
	dir  string
	info Info
	root string
	err  error
}

// needDist builds every release target once into a temporary directory.
func needDist(t *testing.T) (dir, root string, info Info) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds every release target")
	}
	dist.once.Do(func() {
		dist.root, dist.err = ModuleRoot(".")
		if dist.err != nil {
			return
		}
		dist.dir, dist.err = os.MkdirTemp("", "signet-dist-")
		if dist.err != nil {
			return
		}
		dist.info = GitInfo(dist.root)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		dist.err = WriteDist(ctx, dist.root, dist.dir, dist.info, Targets, 2)
	})
	if dist.err != nil {
		t.Fatal(dist.err)
	}
	return dist.dir, dist.root, dist.info
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dist.dir != "" {
		os.RemoveAll(dist.dir)
	}
	os.Exit(code)
}

// TestEveryReleaseTargetBuildsIntoAnArchiveWithLicenseAndReadme is the
// platform check of make test: a target that no longer builds fails here.
func TestEveryReleaseTargetBuildsIntoAnArchiveWithLicenseAndReadme(t *testing.T) {
	dir, root, info := needDist(t)
	license, _ := os.ReadFile(filepath.Join(root, "LICENSE"))
	for _, tg := range Targets {
		t.Run(tg.Name(), func(t *testing.T) {
			files := readArchive(t, filepath.Join(dir, ArchiveName(info, tg)))
			var names []string
			for n := range files {
				names = append(names, n)
			}
			slices.Sort(names)
			want := []string{"LICENSE", "README.md", tg.Exe()}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Fatalf("archive holds %v, want %v", names, want)
			}
			if !bytes.Equal(files["LICENSE"], license) {
				t.Error("LICENSE in the archive is not the repository's")
			}
			checkBinary(t, tg, files[tg.Exe()])
			if bytes.Contains(files[tg.Exe()], []byte(root)) {
				t.Errorf("the binary holds the build path %s", root)
			}
		})
	}
}

// checkBinary checks that bin is an executable for t's platform.
func checkBinary(t *testing.T, tg Target, bin []byte) {
	t.Helper()
	r := bytes.NewReader(bin)
	switch tg.OS {
	case "linux":
		f, err := elf.NewFile(r)
		if err != nil {
			t.Fatalf("not an ELF file: %v", err)
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[tg.Arch]
		if f.Machine != want {
			t.Errorf("ELF machine %v, want %v", f.Machine, want)
		}
		libs, _ := f.ImportedLibraries()
		if tg.YubiKey && !slices.Contains(libs, "libpcsclite.so.1") {
			t.Errorf("the YubiKey build imports %v, not libpcsclite.so.1", libs)
		}
		if !tg.YubiKey && len(libs) != 0 {
			t.Errorf("the static build imports %v", libs)
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			t.Fatalf("not a Mach-O file: %v", err)
		}
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[tg.Arch]
		if f.Cpu != want {
			t.Errorf("Mach-O CPU %v, want %v", f.Cpu, want)
		}
	case "windows":
		f, err := pe.NewFile(r)
		if err != nil {
			t.Fatalf("not a PE file: %v", err)
		}
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			t.Errorf("PE machine %#x, want amd64", f.Machine)
		}
		// YubiKey support on Windows is piv-go over winscard.dll.
		if !bytes.Contains(bin, []byte("SCardEstablishContext")) {
			t.Error("the Windows build does not reach winscard.dll: no YubiKey support")
		}
	default:
		t.Fatalf("no check for %s", tg.OS)
	}
}

// readArchive returns the files of a .tar.gz or .zip, checking that every
// member has the fixed time and (tar) root ownership.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if filepath.Ext(path) == ".zip" {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			out[f.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Errorf("%s: owner %d/%d %q, want root without names", h.Name, h.Uid, h.Gid, h.Uname)
		}
		if out[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMakeDistTwiceGivesTheSameChecksums runs make dist into a second
// directory and compares its SHA256SUMS with the first run's.
func TestMakeDistTwiceGivesTheSameChecksums(t *testing.T) {
	dir, root, _ := needDist(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: make dist is what the release runs")
	}
	second := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "dist", "DIST="+second)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	a, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(second, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(a, []byte("\n")); n != len(Targets) {
		t.Fatalf("SHA256SUMS has %d lines, want %d:\n%s", n, len(Targets), a)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs of make dist differ:\n%s\n---\n%s", a, b)
	}
	// And the checksums are those of the files next to them.
	check := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	check.Dir = second
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum --check: %v\n%s", err, out)
	}
}
