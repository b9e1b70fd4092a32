package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptDuringASlowDripRegistryExits130: SIGINT while verify waits
// on a registry that sends a byte every two seconds (so no timeout fires
// soon) ends it with exit 130 and "signet: interrupted".
func TestInterruptDuringASlowDripRegistryExits130(t *testing.T) {
	t.Parallel()
	waiting := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		for range 1000 {
			if _, err := w.Write([]byte{' '}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			once.Do(func() { close(waiting) })
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer func() {
		srv.CloseClientConnections()
		srv.Close()
	}()
	bin, err := exec.LookPath("signet")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", strings.TrimPrefix(srv.URL, "http://")+"/team/app:v1")
	cmd.Env = []string{"SIGNET_HOME=" + filepath.Join(dir, "home"), "HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		"DOCKER_CONFIG=" + filepath.Join(dir, "docker")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waiting:
	case <-ctx.Done():
		t.Fatal("signet never reached the registry")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), "signet: interrupted") {
		t.Fatalf("after SIGINT: exit %d, stderr %q; want %d and 'signet: interrupted'", code, stderr.String(), exitInterrupted)
	}
}

// runWithSilentStdin runs signet in process with a standard input that
// nobody writes to, and returns its exit code and stderr.
func runWithSilentStdin(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	pr, pw := io.Pipe()
	defer pw.Close()
	ios, _, errOut := testIO(nil)
	ios.In = pr
	code := runWith(ctx, args, mapEnv(map[string]string{"SIGNET_HOME": t.TempDir()}), ios)
	return code, errOut.String()
}

// TestInterruptWhileReadingStdinExits130: `trust pin --root -` waiting on
// a standard input nobody writes to ends when the command is interrupted.
func TestInterruptWhileReadingStdinExits130(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	code, errOut := runWithSilentStdin(t, ctx, "trust", "pin", "127.0.0.1:5000/team/app", "--root", "-")
	if code != exitInterrupted || !strings.Contains(errOut, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want %d", code, errOut, exitInterrupted)
	}
}

// TestTimeoutEndsACommandWithExit4SayingSo: a command that outlives
// --timeout exits 4, saying it gave up, not 130.
func TestTimeoutEndsACommandWithExit4SayingSo(t *testing.T) {
	t.Parallel()
	code, errOut := runWithSilentStdin(t, context.Background(), "--timeout", "10ms", "trust", "pin", "127.0.0.1:5000/team/app", "--root", "-")
	if code != 4 || !strings.HasPrefix(errOut, "signet: gave up after 10ms (--timeout)") {
		t.Fatalf("exit %d, stderr %q; want 4 and 'gave up after 10ms (--timeout)'", code, errOut)
	}
}
