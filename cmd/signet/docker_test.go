package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/dockercli"
)

func TestDockerPullParsesImageAndRoot(t *testing.T) {
	f, _, _ := newTestFactory(nil)
	var got *dockerPullOptions
	cmd := newDockerPullCmd(f, func(o *dockerPullOptions) error { got = o; return nil })
	if err := execCmd(cmd, "registry.example.com/app:v1", "--root", "root.json"); err != nil {
		t.Fatal(err)
	}
	if got.Request.Image != "registry.example.com/app:v1" || got.Request.RootFile != "root.json" {
		t.Fatalf("options = %+v", got.Request)
	}
}

func TestDockerPushParsesImageAndKey(t *testing.T) {
	f, _, _ := newTestFactory(nil)
	var got *dockerPushOptions
	cmd := newDockerPushCmd(f, func(o *dockerPushOptions) error { got = o; return nil })
	if err := execCmd(cmd, "registry.example.com/app", "--key", "yubikey"); err != nil {
		t.Fatal(err)
	}
	if got.Request.Image != "registry.example.com/app" || got.Request.Key != "yubikey" {
		t.Fatalf("options = %+v", got.Request)
	}
	if err := execCmd(newDockerPushCmd(f, func(*dockerPushOptions) error { return nil }), "a:1", "b:2"); err == nil {
		t.Fatal("push took two images")
	}
}

func TestDockerInstallParsesCopyAndForce(t *testing.T) {
	f, _, _ := newTestFactory(map[string]string{"DOCKER_CONFIG": "/etc/dc"})
	var got *dockerInstallOptions
	cmd := newDockerInstallCmd(f, func(o *dockerInstallOptions) error { got = o; return nil })
	if err := execCmd(cmd, "--copy", "--force"); err != nil {
		t.Fatal(err)
	}
	dir, err := got.Dir()
	if !got.Copy || !got.Force || err != nil || dir != filepath.Join("/etc/dc", "cli-plugins") {
		t.Fatalf("options = %+v, dir %s, %v", got, dir, err)
	}
}

func TestDockerInstallSaysWhatItDidOnStderr(t *testing.T) {
	env := map[string]string{"DOCKER_CONFIG": t.TempDir()}
	r := runSignet(t, env, "docker", "install")
	if r.code != 0 || r.out != "" || !strings.Contains(r.errOut, "signet: linked ") {
		t.Fatalf("install: %+v", r)
	}
	exe, _ := runningExecutable()
	if target, err := filepath.EvalSymlinks(filepath.Join(env["DOCKER_CONFIG"], "cli-plugins", dockercli.PluginFile())); err != nil || target != exe {
		t.Fatalf("plugin runs %q (%v), want %s", target, err, exe)
	}
	r = runSignet(t, env, "docker", "install")
	if r.code != 0 || !strings.Contains(r.errOut, "is already this signet") {
		t.Fatalf("install again: %+v", r)
	}
	r = runSignet(t, env, "docker", "install", "-o", "json")
	var res dockercli.InstallResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || res.Changed || res.Target != exe {
		t.Fatalf("install -o json: %+v, %v", r, err)
	}
}

// runPlugin runs signet in process as `docker signet ARGS`.
func runPlugin(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ios, out, errOut := testIO(nil)
	code := runAs(context.Background(), args, &dockercli.Invocation{}, mapEnv(env), ios)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

func TestDockerPluginHelpIsUnderDockerSignet(t *testing.T) {
	for args, want := range map[string]string{
		"--help":      "\n  docker signet <command> [flags]\n",
		"pull --help": "\n  docker signet pull IMAGE[:TAG] [--to oci:DIR] [--root FILE] [flags]\n",
		"push --help": "\n  docker signet push IMAGE[:TAG] | SOURCE R:T [--key REF] [flags]\n",
	} {
		r := runPlugin(t, nil, strings.Fields(args)...)
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("docker signet %s: exit %d, output does not hold %q:\n%s", args, r.code, want, r.out)
		}
	}
	if r := runSignet(t, nil, "--help"); strings.Contains(r.out, "docker signet <command>") {
		t.Errorf("signet --help names docker signet:\n%s", r.out)
	}
}

func TestDockerPluginPullWithoutToIsDockerPull(t *testing.T) {
	env := map[string]string{"SIGNET_HOME": filepath.Join(t.TempDir(), "home"), dockercli.EnvOriginalCLI: "/nonexistent/docker"}
	// Nothing listens on port 1: docker signet pull gets as far as the
	// registry (exit 4), where signet pull stops at the missing --to.
	r := runPlugin(t, env, "--timeout", "10s", "pull", "127.0.0.1:1/app:v1")
	if r.code != 4 || strings.Contains(r.errOut, "--to") {
		t.Fatalf("docker signet pull: %+v", r)
	}
	r = runSignet(t, env, "pull", "127.0.0.1:1/app:v1")
	if r.code != 2 || !strings.Contains(r.errOut, "--to oci:DIR is required") {
		t.Fatalf("signet pull: %+v", r)
	}
	r = runPlugin(t, env, "push", "a:1", "b:2", "c:3")
	if r.code != 2 || !strings.Contains(r.errOut, "IMAGE[:TAG], or SOURCE and R:T") {
		t.Fatalf("docker signet push with three arguments: %+v", r)
	}
}

func TestDockerPluginMetadataIsOneJSONObject(t *testing.T) {
	r := runPlugin(t, nil, dockercli.MetadataCommand)
	var md dockercli.Metadata
	if err := json.Unmarshal([]byte(r.out), &md); err != nil || r.code != 0 {
		t.Fatalf("metadata: %+v, %v", r, err)
	}
	if md.SchemaVersion != "0.1.0" || md.Vendor == "" || md.Version == "" || md.ShortDescription == "" || md.URL == "" {
		t.Fatalf("metadata = %+v", md)
	}
	if r := runSignet(t, nil, "--help"); strings.Contains(r.out, dockercli.MetadataCommand) {
		t.Fatal("signet --help lists the plugin metadata command")
	}
}
