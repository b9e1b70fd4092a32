package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Command is one process to measure.
type Command struct {
	Path string
	Args []string
	Env  []string // the whole environment of the child
	Dir  string
	// Via is a helper program that runs the command and reports what it
	// measured (a program whose main calls Spawn with its arguments after
	// ViaArgs). Linux counts the parent's peak memory at the fork into the
	// child's max RSS, so a child of a big driver looks as big as the
	// driver; a small helper in between keeps it true. Empty: run directly.
	Via     string
	ViaArgs []string
}

func (c Command) String() string {
	return strings.TrimSpace(c.Path + " " + strings.Join(c.Args, " "))
}

// Sample is one measured run of a command.
type Sample struct {
	Wall   time.Duration `json:"wallNs"`
	CPU    time.Duration `json:"cpuNs"`    // user + system time of the child
	MaxRSS int64         `json:"maxRSS"`   // peak resident set of the child, bytes
	Counts Counts        `json:"registry"` // what it exchanged with the registry
}

// maxOutput bounds what is kept of a child's output for error messages.
const maxOutput = 64 << 10

// Run runs cmd to completion and measures it. Traffic is counted through p
// (nil: not counted). A command that exits non-zero is an error that
// carries the end of its output.
func Run(ctx context.Context, p *Proxy, cmd Command) (Sample, string, error) {
	var c *exec.Cmd
	var report *os.File
	if cmd.Via != "" {
		r, w, err := os.Pipe()
		if err != nil {
			return Sample{}, "", err
		}
		defer r.Close()
		report = r
		args := append(append(slices.Clone(cmd.ViaArgs), cmd.Path), cmd.Args...)
		c = exec.CommandContext(ctx, cmd.Via, args...)
		c.ExtraFiles = []*os.File{w} // fd 3 in the helper
		defer w.Close()
	} else {
		c = exec.CommandContext(ctx, cmd.Path, cmd.Args...)
	}
	c.Env, c.Dir = cmd.Env, cmd.Dir
	var out limitedBuffer
	c.Stdout, c.Stderr = &out, &out
	var before Counts
	if p != nil {
		p.Logf("# %s", cmd)
		before = p.Snapshot()
	}
	start := time.Now()
	err := c.Start()
	if err == nil {
		if report != nil {
			c.ExtraFiles[0].Close() // the helper holds it now
		}
		err = c.Wait()
	}
	wall := time.Since(start)
	if err != nil {
		return Sample{}, out.String(), fmt.Errorf("%s: %w: %s", cmd, err, tail(out.String(), 800))
	}
	s := measured(c.ProcessState, wall)
	if report != nil {
		b, err := io.ReadAll(io.LimitReader(report, 1<<16))
		if err != nil || json.Unmarshal(b, &s) != nil {
			return Sample{}, out.String(), fmt.Errorf("%s: no measures from %s", cmd, cmd.Via)
		}
	}
	if p != nil {
		s.Counts = p.Since(before)
	}
	return s, out.String(), nil
}

// measured is what the kernel says of an exited child.
func measured(ps *os.ProcessState, wall time.Duration) Sample {
	s := Sample{Wall: wall, CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return s
}

// Spawn is the body of a measuring helper (Command.Via): it runs args[0]
// with the rest as arguments, with the helper's environment, directory and
// standard streams, writes the Sample to file descriptor 3 and returns the
// exit status for the helper to exit with.
func Spawn(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "spawn: no command")
		return 2
	}
	report := os.NewFile(3, "report")
	c := exec.Command(args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	if c.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 127
	}
	if b, err := json.Marshal(measured(c.ProcessState, wall)); err == nil && report != nil {
		report.Write(b)
	}
	return c.ProcessState.ExitCode()
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// limitedBuffer keeps the first maxOutput bytes written and drops the rest.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
