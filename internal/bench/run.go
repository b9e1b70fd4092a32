package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
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
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	var out limitedBuffer
	c.Stdout, c.Stderr = &out, &out
	var before Counts
	if p != nil {
		p.Logf("# %s", cmd)
		before = p.Snapshot()
	}
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	if err != nil {
		return Sample{}, out.String(), fmt.Errorf("%s: %w: %s", cmd, err, tail(out.String(), 800))
	}
	s := Sample{Wall: wall, CPU: c.ProcessState.UserTime() + c.ProcessState.SystemTime()}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if p != nil {
		s.Counts = p.Snapshot().Sub(before)
	}
	return s, out.String(), nil
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
