package kube

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// need returns the environment variable that describes a service started
// by scripts/test.sh. Unset, the test is skipped, or fails under `make
// test` (SIGNET_TEST_REQUIRE_SERVICES=1). It is internal/testenv.Need of
// the main module, which this module does not import (it would make this
// go.mod follow every dependency of signet's).
func need(t *testing.T, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is not set: scripts/test.sh should have started this service", name)
	}
	t.Skipf("%s not set; run under `make test` (scripts/test.sh) to start the service", name)
	return ""
}

// buildSignet builds signet from this repository into a temporary
// directory and returns the binary's path.
func buildSignet(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "signet")); err != nil {
		t.Fatalf("signet's sources are not at %s: %v", root, err)
	}
	bin := filepath.Join(t.TempDir(), "signet")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/signet")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building signet: %v\n%s", err, out)
	}
	return bin
}

// signetCLI runs the signet binary with a signet home and passphrase of
// its own.
type signetCLI struct {
	bin  string
	home string
	env  []string
}

func newSignetCLI(t *testing.T, bin string) *signetCLI {
	return &signetCLI{
		bin:  bin,
		home: filepath.Join(t.TempDir(), "home"),
		env:  []string{"SIGNET_PASSPHRASE=kube-e2e-passphrase", "NO_COLOR=1"},
	}
}

// run runs signet ARGS and returns its stdout; a non-zero exit fails the
// test with stderr.
func (s *signetCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"--home", s.home, "--no-input"}, args...)...)
	cmd.Env = append(os.Environ(), s.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("signet %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// hasCommand reports whether the binary knows the command WORDS (its
// --help succeeds and names it), and why not.
func hasCommand(ctx context.Context, bin string, words ...string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(words, "--help")...).CombinedOutput()
	if err != nil {
		return false, fmt.Sprintf("%v: %s", err, firstLine(out))
	}
	if !strings.Contains(string(out), strings.Join(words, " ")) {
		return false, "its --help does not name it: " + firstLine(out)
	}
	return true, ""
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
