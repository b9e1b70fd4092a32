package dockercli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestPluginArgsStripsThePluginNameAndKeepsDockersOptions(t *testing.T) {
	docker := func(k string) string {
		if k == EnvOriginalCLI {
			return "/usr/bin/docker"
		}
		return ""
	}
	none := func(string) string { return "" }
	const notPlugin = "-"
	for _, tc := range []struct {
		name   string
		argv0  string
		args   []string
		env    func(string) string
		want   string
		docker string // docker's global options; notPlugin: not run as the plugin
	}{
		{"docker runs the plugin", "/home/u/.docker/cli-plugins/docker-signet", []string{"signet", "pull", "r:t"}, docker, "pull r:t", ""},
		{"with docker's options", "docker-signet", []string{"-H", "unix:///s", "--context=c", "-D", "--tlsverify", "--config", "signet", "signet", "pull", "r:t"}, docker,
			"pull r:t", "-H unix:///s --context=c -D --tlsverify --config signet"},
		{"docker runs a renamed plugin", "/opt/x/docker-signet-copy", []string{"--log-level", "debug", "signet", "--help"}, docker, "--help", "--log-level debug"},
		{"metadata call", "docker-signet", []string{MetadataCommand}, none, MetadataCommand, ""},
		{"docker-signet run by hand", "docker-signet.exe", []string{"verify", "r:t"}, none, "verify r:t", ""},
		{"signet", "/usr/local/bin/signet", []string{"verify", "r:t"}, docker, "verify r:t", notPlugin},
		{"signet under another plugin's environment", "signet", []string{"--home", "h", "verify", "signet"}, docker, "--home h verify signet", notPlugin},
		{"signet signet without docker", "signet", []string{"signet"}, none, "signet", notPlugin},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got, inv := PluginArgs(tc.argv0, tc.args, tc.env)
			gotDocker := notPlugin
			if inv != nil {
				gotDocker = strings.Join(inv.DockerArgs, " ")
			}
			if strings.Join(got, " ") != tc.want || gotDocker != tc.docker {
				t.Fatalf("PluginArgs(%q, %q) = %q, docker options %q; want %q, %q", tc.argv0, tc.args, got, gotDocker, tc.want, tc.docker)
			}
		})
	}
}

func TestFindPrefersTheDockerThatRanThePlugin(t *testing.T) {
	lookPath := func(string) (string, error) { return "/usr/bin/docker", nil }
	c, err := Find(func(k string) string {
		if k == EnvOriginalCLI {
			return "/opt/docker"
		}
		return ""
	}, lookPath, nil, nil, nil)
	if err != nil || c.Path != "/opt/docker" {
		t.Fatalf("Find = %+v, %v; want /opt/docker", c, err)
	}
	if c, err := Find(func(string) string { return "" }, lookPath, nil, nil, nil); err != nil || c.Path != "/usr/bin/docker" {
		t.Fatalf("Find = %+v, %v; want /usr/bin/docker", c, err)
	}
	_, err = Find(func(string) string { return "" }, func(string) (string, error) { return "", errors.New("not found") }, nil, nil, nil)
	if errkind.Of(err) != errkind.Input {
		t.Fatalf("Find without docker: %v, want an input error", err)
	}
}

func TestRunPassesOutputThroughAndReportsFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	var status, stderr, out bytes.Buffer
	// The global options come first: sh -e -c SCRIPT.
	c := &CLI{Path: "/bin/sh", Args: []string{"-e"}, Status: &status, Stderr: &stderr}
	if err := c.Run(context.Background(), &out, "-c", "echo \"flags [$-]\"; echo why >&2"); err != nil {
		t.Fatal(err)
	}
	_, flags, _ := strings.Cut(status.String(), "flags [")
	flags, _, _ = strings.Cut(flags, "]")
	if !strings.Contains(flags, "e") || out.String() != status.String() || stderr.String() != "why\n" {
		t.Fatalf("status %q, out %q, stderr %q", status.String(), out.String(), stderr.String())
	}
	if err := c.Run(context.Background(), nil, "-c", "exit 3"); err == nil {
		t.Fatal("a failing docker succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx, nil, "-c", "exec sleep 30"); err == nil {
		t.Fatal("docker outlived its deadline without an error")
	}
}

func TestInstallLinksOnceAndRefusesAForeignFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "signet")
	if err := os.WriteFile(exe, []byte("signet binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "config", "cli-plugins")
	req := InstallRequest{Dir: plugins, Executable: exe}
	path := filepath.Join(plugins, PluginFile())

	res, err := Install(req)
	if err != nil || !res.Changed || res.Copy || res.Path != path {
		t.Fatalf("first install: %+v, %v", res, err)
	}
	if target, err := os.Readlink(path); err != nil || target != exe {
		t.Fatalf("plugin links to %q (%v), want %s", target, err, exe)
	}
	if res, err := Install(req); err != nil || res.Changed {
		t.Fatalf("second install: %+v, %v; want nothing changed", res, err)
	}

	// --copy replaces our own symlink by a copy, once.
	req.Copy = true
	if res, err := Install(req); err != nil || !res.Changed || !res.Copy || res.Replaced {
		t.Fatalf("install --copy: %+v, %v", res, err)
	}
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("plugin after --copy: %v, %v; want an executable file", st, err)
	}
	if res, err := Install(req); err != nil || res.Changed {
		t.Fatalf("install --copy again: %+v, %v; want nothing changed", res, err)
	}

	// A file that is not this signet stays, unless --force.
	if err := os.WriteFile(path, []byte("someone else's plugin"), 0o755); err != nil {
		t.Fatal(err)
	}
	req.Copy = false
	_, err = Install(req)
	if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("install over a foreign file: %v, want an input error naming --force", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "someone else's plugin" {
		t.Fatalf("the foreign file was changed: %q", data)
	}
	req.Force = true
	if res, err := Install(req); err != nil || !res.Replaced {
		t.Fatalf("install --force: %+v, %v", res, err)
	}
	if target, _ := os.Readlink(path); target != exe {
		t.Fatalf("after --force the plugin links to %q, want %s", target, exe)
	}
	entries, _ := os.ReadDir(plugins)
	if len(entries) != 1 {
		t.Fatalf("plugin directory holds %d entries, want only the plugin (no temporary files)", len(entries))
	}
}

func TestPluginDirFollowsDockerConfig(t *testing.T) {
	env := map[string]string{"DOCKER_CONFIG": "/etc/dc", "HOME": "/home/u"}
	if d, _ := PluginDir(func(k string) string { return env[k] }); d != filepath.Join("/etc/dc", "cli-plugins") {
		t.Fatalf("PluginDir = %s", d)
	}
	delete(env, "DOCKER_CONFIG")
	if d, _ := PluginDir(func(k string) string { return env[k] }); d != filepath.Join("/home/u", ".docker", "cli-plugins") {
		t.Fatalf("PluginDir = %s", d)
	}
}

// signet run from its installed copy (docker-signet itself) and asked to
// install a link leaves the copy alone instead of linking it to itself.
func TestInstallFromThePluginItselfKeepsIt(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "signet")
	if err := os.WriteFile(exe, []byte("signet binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "cli-plugins")
	if _, err := Install(InstallRequest{Dir: plugins, Executable: exe, Copy: true}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(plugins, PluginFile())
	res, err := Install(InstallRequest{Dir: plugins, Executable: path})
	if err != nil || res.Changed {
		t.Fatalf("install from the plugin: %+v, %v; want nothing changed", res, err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "signet binary" {
		t.Fatalf("plugin after it: %q, %v; want the copy intact", data, err)
	}
}
