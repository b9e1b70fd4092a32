// Package tufjs runs tests/tufjs/verify.mjs, an independent TUF client built
// on tuf-js, against TUF metadata stored in an OCI registry (docs/design.md §2).
// signet's tests use it to show that what signet publishes is accepted by an
// implementation that shares no code with signet, and that tampering is
// rejected by it too.
//
// The script's path comes from SIGNET_TEST_TUFJS, which scripts/lib/tufjs.sh
// exports under scripts/test.sh; the script needs node on PATH.
package tufjs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvVar names the environment variable holding the absolute path of
// verify.mjs.
const EnvVar = "SIGNET_TEST_TUFJS"

// maxOutput bounds what is kept of the script's stdout and stderr.
const maxOutput = 1 << 20

// Result is the verdict of tuf-js on one target.
type Result struct {
	// OK is true when tuf-js refreshed the metadata and found the target.
	OK bool `json:"ok"`
	// Length and SHA256 are the target's trusted length and sha256 hex.
	Length int64  `json:"length"`
	SHA256 string `json:"sha256"`
	// Custom is the target's "custom" object ({} when it has none).
	Custom json.RawMessage `json:"custom"`
	// Fetched lists the metadata files tuf-js downloaded, in order (for
	// example 2.root.json when it walked the root chain).
	Fetched []string `json:"fetched"`
	// Error says why verification failed when OK is false.
	Error string `json:"error"`
}

// Find returns the path of verify.mjs from SIGNET_TEST_TUFJS, or an error
// saying how to get it.
func Find() (string, error) {
	p := os.Getenv(EnvVar)
	if p == "" {
		return "", fmt.Errorf("%s is not set: run under scripts/test.sh, which installs tuf-js and sets it", EnvVar)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("finding the tuf-js script: %w", err)
	}
	return p, nil
}

type options struct {
	script    string
	timeout   time.Duration
	plainHTTP bool
}

// Option configures Verify.
type Option func(*options) error

// WithScript runs the verify.mjs at path instead of the one named by
// SIGNET_TEST_TUFJS.
func WithScript(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("empty tuf-js script path")
		}
		o.script = path
		return nil
	}
}

// WithTimeout bounds the whole run of the script; the default is 60 s.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("timeout %s is not positive", d)
		}
		o.timeout = d
		return nil
	}
}

// WithPlainHTTP makes the script use plain HTTP for a registry that is not
// on loopback (loopback addresses always use plain HTTP).
func WithPlainHTTP() Option {
	return func(o *options) error {
		o.plainHTTP = true
		return nil
	}
}

// Verify asks tuf-js whether target verifies in the TUF repository stored at
// registryAddr/repo:tag, trusting rootJSON as the initial root. A repository
// that tuf-js rejects is a Result with OK false and Error set, not an error;
// an error means the check itself could not run (no node, no script, a
// crash, output that is not the script's).
func Verify(ctx context.Context, registryAddr, repo, tag string, rootJSON []byte, target string, opts ...Option) (*Result, error) {
	o := options{timeout: 60 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.script == "" {
		p, err := Find()
		if err != nil {
			return nil, err
		}
		o.script = p
	}

	dir, err := os.MkdirTemp("", "signet-tufjs-")
	if err != nil {
		return nil, fmt.Errorf("making a temp dir for the trusted root: %w", err)
	}
	defer os.RemoveAll(dir)
	rootPath := filepath.Join(dir, "root.json")
	if err := os.WriteFile(rootPath, rootJSON, 0o600); err != nil {
		return nil, fmt.Errorf("writing the trusted root: %w", err)
	}

	args := []string{o.script,
		"--registry", registryAddr, "--repo", repo, "--tag", tag,
		"--root", rootPath, "--target", target,
		// The script's own deadline fires first, so it can say what timed out.
		"--timeout", fmt.Sprint(max(1, int(o.timeout.Seconds()))),
	}
	if o.plainHTTP {
		args = append(args, "--plain-http")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout+5*time.Second)
	defer cancel()
	return run(ctx, args)
}

func run(ctx context.Context, args []string) (*Result, error) {
	cmd := exec.CommandContext(ctx, "node", args...)
	stdout := &limitedBuffer{max: maxOutput}
	stderr := &limitedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()

	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, fmt.Errorf("running node %s: %w", args[0], runErr)
	}
	code := cmd.ProcessState.ExitCode()
	res, parseErr := parseResult(stdout.Bytes())
	switch {
	case code == 0 && parseErr == nil && res.OK:
		return res, nil
	case code == 1 && parseErr == nil && !res.OK:
		return res, nil
	case parseErr != nil:
		return nil, fmt.Errorf("tuf-js script exited with %d and no verdict (%v): %s", code, parseErr, oneLine(stderr.Bytes()))
	default:
		return nil, fmt.Errorf("tuf-js script exited with %d: %s %s", code, oneLine(stdout.Bytes()), oneLine(stderr.Bytes()))
	}
}

// parseResult reads the last non-empty line of the script's stdout.
func parseResult(out []byte) (*Result, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return nil, errors.New("empty output")
	}
	var res Result
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		return nil, fmt.Errorf("parsing verdict: %w", err)
	}
	return &res, nil
}

func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }
