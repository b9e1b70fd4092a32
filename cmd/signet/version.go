package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/piv"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3") by release
// builds and never assigned at run time; without it the module version from
// the build info is used.
var version string

type versionOptions struct {
	IO     *iostreams
	JSON   func() bool
	Linked string                          // version set at link time
	Build  func() (*debug.BuildInfo, bool) // debug.ReadBuildInfo
}

// versionInfo is what `signet version -o json` prints.
type versionInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	// YubiKey is false in a build without PC/SC (CGO_ENABLED=0 outside
	// Windows), where every YubiKey operation fails with exit code 3.
	YubiKey bool `json:"yubikey"`
}

func newVersionCmd(f *factory, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{IO: f.IOStreams, JSON: f.Global.JSON, Linked: version, Build: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of signet",
		Long: `Print the version of signet, the Go version and platform it was built
with, and whether this build has YubiKey support ("with YubiKey support",
or "without YubiKey support" for a static CGO_ENABLED=0 build, whose
YubiKey commands and key references exit with code 3; docs/install.md).
With -o json the same is one object, with "yubikey": true or false.`,
		Example: `  signet version
  signet version -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(cmd.Context(), opts)
		},
	}
}

func runVersion(_ context.Context, opts *versionOptions) error {
	info := buildVersion(opts.Linked, opts.Build)
	if opts.JSON() {
		return writeJSON(opts.IO.Out, info)
	}
	line := "signet " + info.Version
	if info.Revision != "" {
		rev := info.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if info.Modified {
			rev += "+dirty"
		}
		line += " (" + rev + ")"
	}
	support := "with YubiKey support"
	if !info.YubiKey {
		support = "without YubiKey support"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s %s %s, %s\n", line, info.GoVersion, info.Platform, support)
	return err
}

// buildVersion combines the link-time version with the build info.
func buildVersion(linked string, build func() (*debug.BuildInfo, bool)) versionInfo {
	info := versionInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, YubiKey: piv.Supported}
	if bi, ok := build(); ok && bi != nil {
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if linked != "" {
		info.Version = linked
	}
	return info
}
