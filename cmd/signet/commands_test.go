package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

// These tests check that each command parses its arguments and flags into
// its options, through runF, without running anything.

func TestKeyGenerateParsesNameTypeAndOut(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *keyGenerateOptions
	cmd := newKeyGenerateCmd(f, func(o *keyGenerateOptions) error { got = o; return nil })
	if err := execCmd(cmd, "alice", "--type", "ed25519", "--out", "a.pem"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "alice" || got.Type != "ed25519" || got.Out != "a.pem" {
		t.Fatalf("options = %+v", got)
	}
}

func TestKeyGenerateDefaultsToECDSAAndNamePub(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *keyGenerateOptions
	cmd := newKeyGenerateCmd(f, func(o *keyGenerateOptions) error { got = o; return nil })
	if err := execCmd(cmd, "alice"); err != nil {
		t.Fatal(err)
	}
	if got.Type != "ecdsa-p256" || got.Out != "" {
		t.Fatalf("options = %+v", got)
	}
}

func TestKeyImportParsesNameAndFile(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *keyImportOptions
	cmd := newKeyImportCmd(f, func(o *keyImportOptions) error { got = o; return nil })
	if err := execCmd(cmd, "ci", "-"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "ci" || got.File != "-" {
		t.Fatalf("options = %+v", got)
	}
}

func TestKeyExportParsesNamesPrivateAndOnline(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *keyExportOptions
	cmd := newKeyExportCmd(f, func(o *keyExportOptions) error { got = o; return nil })
	if err := execCmd(cmd, "a", "b", "--private", "--online", "127.0.0.1:5000/team/app", "--force"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Names, []string{"a", "b"}) || !got.Private || got.Online != "127.0.0.1:5000/team/app" || !got.Force {
		t.Fatalf("options = %+v", got)
	}
}

func TestKeyExportOnlineAloneNeedsNoNamesButNeedsPrivate(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	ran := false
	cmd := newKeyExportCmd(f, func(o *keyExportOptions) error { ran = true; return nil })
	if err := execCmd(cmd, "--private", "--online", "127.0.0.1:5000/team/app"); err != nil || !ran {
		t.Fatalf("--private --online without names: err = %v, ran = %v", err, ran)
	}
	cmd = newKeyExportCmd(f, func(o *keyExportOptions) error { t.Fatal("ran"); return nil })
	if err := execCmd(cmd, "a", "--online", "x/y"); errkind.Of(err) != errkind.Input {
		t.Fatalf("--online without --private: err = %v, want a usage error", err)
	}
	cmd = newKeyExportCmd(f, func(o *keyExportOptions) error { t.Fatal("ran"); return nil })
	if err := execCmd(cmd); errkind.Of(err) != errkind.Input {
		t.Fatalf("no names: err = %v, want a usage error", err)
	}
}

func TestKeyPasswdTakesAnOptionalName(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *keyPasswdOptions
	cmd := newKeyPasswdCmd(f, func(o *keyPasswdOptions) error { got = o; return nil })
	if err := execCmd(cmd); err != nil || got.Name != "" {
		t.Fatalf("no name: %v, %+v", err, got)
	}
	cmd = newKeyPasswdCmd(f, func(o *keyPasswdOptions) error { got = o; return nil })
	if err := execCmd(cmd, "alice"); err != nil || got.Name != "alice" {
		t.Fatalf("alice: %v, %+v", err, got)
	}
	cmd = newKeyPasswdCmd(f, func(o *keyPasswdOptions) error { t.Fatal("ran"); return nil })
	if err := execCmd(cmd, "a", "b"); errkind.Of(err) != errkind.Input {
		t.Fatalf("two names: err = %v", err)
	}
}

func TestKeyListTakesNoArguments(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	ran := false
	cmd := newKeyListCmd(f, func(o *keyListOptions) error { ran = true; return nil })
	if err := execCmd(cmd); err != nil || !ran {
		t.Fatalf("err = %v, ran = %v", err, ran)
	}
	cmd = newKeyListCmd(f, func(o *keyListOptions) error { t.Fatal("ran"); return nil })
	if err := execCmd(cmd, "x"); errkind.Of(err) != errkind.Input {
		t.Fatalf("err = %v", err)
	}
}

func TestTrustPinParsesRepositoryAndRoot(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *trustPinOptions
	cmd := newTrustPinCmd(f, func(o *trustPinOptions) error { got = o; return nil })
	if err := execCmd(cmd, "reg.example/team/app", "--root", "root.json"); err != nil {
		t.Fatal(err)
	}
	if got.Repository != "reg.example/team/app" || got.Root != "root.json" {
		t.Fatalf("options = %+v", got)
	}
	cmd = newTrustPinCmd(f, func(o *trustPinOptions) error { t.Fatal("ran"); return nil })
	if err := execCmd(cmd, "reg.example/team/app"); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "--root") {
		t.Fatalf("without --root: err = %v", err)
	}
}

func TestTrustShowAndForgetParseRepository(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var show *trustShowOptions
	if err := execCmd(newTrustShowCmd(f, func(o *trustShowOptions) error { show = o; return nil }), "r.example/a"); err != nil || show.Repository != "r.example/a" {
		t.Fatalf("show: %v %+v", err, show)
	}
	var forget *trustForgetOptions
	if err := execCmd(newTrustForgetCmd(f, func(o *trustForgetOptions) error { forget = o; return nil }), "r.example/b"); err != nil || forget.Repository != "r.example/b" {
		t.Fatalf("forget: %v %+v", err, forget)
	}
}

func TestRegistryServeParsesAddrAndDir(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *registryServeOptions
	cmd := newRegistryServeCmd(f, func(o *registryServeOptions) error { got = o; return nil })
	if err := execCmd(cmd); err != nil || got.Addr != "127.0.0.1:5000" || got.Dir != "" {
		t.Fatalf("defaults: %v %+v", err, got)
	}
	cmd = newRegistryServeCmd(f, func(o *registryServeOptions) error { got = o; return nil })
	if err := execCmd(cmd, "--addr", "127.0.0.1:0", "--dir", "/tmp/x"); err != nil || got.Addr != "127.0.0.1:0" || got.Dir != "/tmp/x" {
		t.Fatalf("flags: %v %+v", err, got)
	}
}

func TestGlobalFlagsAreParsedIntoTheFactory(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	root := newRootCmd(f)
	var ran bool
	// Replace version's run with a capture, keeping the tree's global flags.
	for _, c := range root.Commands() {
		if c.Name() == "version" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newVersionCmd(f, func(o *versionOptions) error { ran = true; return nil }))
	err := execCmd(root, "--home", "/h", "-o", "json", "--no-input", "--insecure", "-v", "--metadata-repo", "r.example/meta", "version")
	if err != nil || !ran {
		t.Fatalf("err = %v, ran = %v", err, ran)
	}
	g := f.Global
	if g.Home != "/h" || !g.JSON() || !g.NoInput || !g.Insecure || !g.Verbose || g.MetadataRepo != "r.example/meta" {
		t.Fatalf("global options = %+v", g)
	}
	if h, err := f.Home(); err != nil || h != "/h" {
		t.Fatalf("Home() = %q, %v", h, err)
	}
}

func TestHomeComesFromFlagThenEnvironmentThenHomeDirectory(t *testing.T) {
	t.Parallel()
	env := mapEnv(map[string]string{"SIGNET_HOME": "/env-home", "HOME": "/home/u"})
	if h, _ := resolveHome("/flag", env); h != "/flag" {
		t.Errorf("flag: %q", h)
	}
	if h, _ := resolveHome("", env); h != "/env-home" {
		t.Errorf("env: %q", h)
	}
	if h, _ := resolveHome("", mapEnv(map[string]string{"HOME": "/home/u"})); h != "/home/u/.signet" {
		t.Errorf("default: %q", h)
	}
}

func TestEveryConfirmingCommandTakesDashY(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var reset *yubikeyResetOptions
	if err := execCmd(newYubikeyResetCmd(f, func(o *yubikeyResetOptions) error { reset = o; return nil }), "-y"); err != nil || !reset.Yes {
		t.Fatalf("yubikey reset -y: %v, yes = %v", err, reset != nil && reset.Yes)
	}
	var setup *yubikeySetupOptions
	if err := execCmd(newYubikeySetupCmd(f, func(o *yubikeySetupOptions) error { setup = o; return nil }), "--force", "--slot", "82", "-y"); err != nil || !setup.Yes {
		t.Fatalf("yubikey setup --force -y: %v, yes = %v", err, setup != nil && setup.Yes)
	}
	var revoke *revokeOptions
	if err := execCmd(newRevokeCmd(f, func(o *revokeOptions) error { revoke = o; return nil }), "127.0.0.1:5000/a:v1", "-y"); err != nil || !revoke.yes {
		t.Fatalf("revoke -y: %v, yes = %v", err, revoke != nil && revoke.yes)
	}
}
