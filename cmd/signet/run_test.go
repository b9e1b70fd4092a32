package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

func TestExitCodeFollowsErrorKindAndPrintsOneLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		code int
		line string
	}{
		{nil, 0, ""},
		{errors.New("unclassified"), 5, "signet: unclassified"},
		{errkind.Mark(errkind.Input, errors.New("bad file")), 2, "signet: bad file"},
		{errkind.Mark(errkind.Verification, errors.New("digest mismatch")), 1, "signet: digest mismatch"},
		{fmt.Errorf("opening: %w", errkind.Mark(errkind.Key, errors.New("wrong PIN"))), 3, "signet: opening: wrong PIN"},
		{errkind.Mark(errkind.Registry, errors.New("connection refused\nretry later")), 4, "signet: connection refused retry later"},
		{errkind.Mark(errkind.Verification, errSilent), 1, ""},
	} {
		code, line := exitCode(ctx, tc.err)
		if code != tc.code || line != tc.line {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tc.err, code, line, tc.code, tc.line)
		}
	}
}

func TestInterruptedCommandExitsWith130(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, line := exitCode(ctx, fmt.Errorf("pushing: %w", context.Canceled))
	if code != exitInterrupted || line != "signet: interrupted" {
		t.Fatalf("exitCode = %d, %q", code, line)
	}
}

func TestTableAlignsColumnsAndPrintsNothingWhenEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tb := newTable("NAME", "TYPE")
	if err := tb.Write(&buf); err != nil || buf.Len() != 0 {
		t.Fatalf("empty table wrote %q, %v", buf.String(), err)
	}
	tb.Row("alice", "ecdsa-p256")
	tb.Row("b", "ed25519")
	if err := tb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "NAME   TYPE\nalice  ecdsa-p256\nb      ed25519\n"
	if buf.String() != want {
		t.Fatalf("table = %q, want %q", buf.String(), want)
	}
}

func TestColourOnlyOnTerminalWithoutNoColor(t *testing.T) {
	t.Parallel()
	ios, _, _ := testIO(nil)
	if c := newColors(ios, mapEnv(nil)); c.Red("x") != "x" {
		t.Error("colour on a pipe")
	}
	ios.OutTTY = true
	if c := newColors(ios, mapEnv(map[string]string{"NO_COLOR": "1"})); c.Red("x") != "x" {
		t.Error("colour with NO_COLOR")
	}
	if c := newColors(ios, mapEnv(nil)); c.Red("x") == "x" {
		t.Error("no colour on a terminal")
	}
}

func TestOutputFormatIsValidated(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"text", "json"} {
		if _, err := parseOutput(ok); err != nil {
			t.Errorf("parseOutput(%q) = %v", ok, err)
		}
	}
	if _, err := parseOutput("yaml"); errkind.Of(err) != errkind.Input {
		t.Errorf("parseOutput(yaml) = %v, want input error", err)
	}
}

func TestVersionPrefersLinkTimeVersionOverBuildInfo(t *testing.T) {
	t.Parallel()
	build := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{
			GoVersion: "go1.26.0",
			Main:      debug.Module{Version: "v0.1.0"},
			Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}},
		}, true
	}
	if v := buildVersion("", build); v.Version != "v0.1.0" || v.Revision != "0123456789abcdef0123" || !v.Modified {
		t.Fatalf("from build info: %+v", v)
	}
	if v := buildVersion("v9.9.9", build); v.Version != "v9.9.9" {
		t.Fatalf("link-time version ignored: %+v", v)
	}
	if v := buildVersion("", func() (*debug.BuildInfo, bool) { return nil, false }); v.Version != "(devel)" {
		t.Fatalf("no build info: %+v", v)
	}
	ios, out, _ := testIO(nil)
	opts := &versionOptions{IO: ios, JSON: func() bool { return false }, Linked: "v1.2.3", Build: build}
	if err := runVersion(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "signet v1.2.3 (0123456789ab+dirty) go1.26.0 ") || !strings.HasSuffix(out.String(), " YubiKey support\n") {
		t.Fatalf("version line = %q", out.String())
	}
}

func TestPrivateBundleIsNotPrintedOntoATerminal(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO(nil)
	ios.OutTTY = true
	opened := false
	opts := &keyExportOptions{IO: ios, Names: []string{"alice"}, Private: true, JSON: func() bool { return false },
		Keystore: func() (*keystore.Store, error) { opened = true; return nil, errors.New("not reached") }}
	err := runKeyExport(context.Background(), opts)
	if errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want an input error naming --force", err)
	}
	if opened || out.Len() != 0 {
		t.Fatal("the keystore was opened or something was printed")
	}
}

func TestInProcessRunKeepsSecretsOutOfOutput(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "home")
	out := filepath.Join(t.TempDir(), "alice.pub")
	env := map[string]string{"SIGNET_HOME": home, envPassphrase: "In-Process-Secret-3"}
	r := runSignet(t, env, "key", "generate", "alice", "--out", out)
	if r.code != 0 {
		t.Fatalf("generate: %d %s", r.code, r.errOut)
	}
	env[envPassphrase] = "wrong-secret-4"
	env[envExportPassphrase] = "Export-Secret-5"
	r = runSignet(t, env, "key", "export", "alice", "--private")
	if r.code != 3 {
		t.Fatalf("wrong passphrase: exit %d, want 3 (%s)", r.code, r.errOut)
	}
	if strings.Count(r.errOut, "\n") != 1 || !strings.HasPrefix(r.errOut, "signet: ") {
		t.Fatalf("stderr is not one line: %q", r.errOut)
	}
	for _, secret := range []string{"In-Process-Secret-3", "wrong-secret-4", "Export-Secret-5"} {
		if strings.Contains(r.out+r.errOut, secret) {
			t.Fatalf("%s printed: %q %q", secret, r.out, r.errOut)
		}
	}
}

func TestRegistryServeServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var out bytes.Buffer
	ios := &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: pw}
	done := make(chan int, 1)
	go func() {
		// --timeout does not apply to a server: it serves until cancelled.
		done <- runWith(ctx, []string{"--timeout", "1ms", "registry", "serve", "--addr", "127.0.0.1:0"}, mapEnv(nil), ios)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("no output from registry serve")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "signet: serving on http://")
	if !ok {
		t.Fatalf("first line = %q, want 'signet: serving on http://ADDR'", lines.Text())
	}
	resp, err := http.Get("http://" + addr + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ = %s", resp.Status)
	}
	cancel()
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit code after cancel = %d, output %q", code, rest)
	}
	if len(rest) != 1 || rest[0] != "signet: stopped" {
		t.Fatalf("after cancel: %q", rest)
	}
}
