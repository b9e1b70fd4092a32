// Package release builds signet's release files: one reproducible build per
// target (Targets), an archive of each with LICENSE and README.md, their
// SHA256SUMS (WriteDist), and an OCI image layout holding the static Linux
// builds and CA certificates (WriteImage). Two runs at one commit give the
// same bytes: builds are -trimpath without VCS stamping, and archives and
// image layers carry fixed times, owners and modes. make dist and make image
// run it through tools/release/cmd/release.
package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Target is one platform signet is released for.
type Target struct {
	OS, Arch string
	// YubiKey is a build with PC/SC: cgo and libpcsclite on Linux, plain Go
	// (winscard.dll) on Windows.
	YubiKey bool
}

// Targets are the release builds: static (CGO_ENABLED=0, no YubiKey
// support) for Linux and macOS, a Linux amd64 build with YubiKey support
// (it needs libpcsclite1 at run time), and Windows, which has YubiKey
// support without cgo. docs/install.md describes them.
var Targets = []Target{
	{OS: "linux", Arch: "amd64"},
	{OS: "linux", Arch: "arm64"},
	{OS: "linux", Arch: "amd64", YubiKey: true},
	{OS: "darwin", Arch: "amd64"},
	{OS: "darwin", Arch: "arm64"},
	{OS: "windows", Arch: "amd64", YubiKey: true},
}

// Name is the target's part of file names: "linux_amd64", or
// "linux_amd64_yubikey" for the Linux build with YubiKey support (Windows
// builds always have it, so their name says nothing).
func (t Target) Name() string {
	n := t.OS + "_" + t.Arch
	if t.YubiKey && t.OS != "windows" {
		n += "_yubikey"
	}
	return n
}

// Exe is the binary's file name on the target.
func (t Target) Exe() string {
	if t.OS == "windows" {
		return "signet.exe"
	}
	return "signet"
}

// cgo reports whether the build needs cgo: YubiKey support anywhere but
// Windows.
func (t Target) cgo() bool { return t.YubiKey && t.OS != "windows" }

// BuildFlags are the go build flags of every release build: no build paths,
// no VCS stamp (the version is linked in instead), no symbol tables.
func BuildFlags(version string) []string {
	return []string{"-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid= -X main.version=" + version}
}

// Build builds ./cmd/signet of the module at root for t into out.
func Build(ctx context.Context, root string, t Target, version, out string) error {
	args := append([]string{"build"}, BuildFlags(version)...)
	args = append(args, "-o", out, "./cmd/signet")
	cmd := exec.CommandContext(ctx, goCmd(), args...)
	cmd.Dir = root
	cgo := "0"
	if t.cgo() {
		cgo = "1"
	}
	cmd.Env = append(os.Environ(), "GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED="+cgo, "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building signet for %s: %v: %s", t.Name(), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// goCmd is the go command: $GO when set (as make passes it), else go.
func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// ModuleRoot returns the directory of the main module that dir is in.
func ModuleRoot(dir string) (string, error) {
	cmd := exec.Command(goCmd(), "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("%s is not inside the signet module", dir)
	}
	return filepath.Dir(mod), nil
}
