package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/signet-dev/signet/internal/ctxsleep"
	"github.com/signet-dev/signet/tools/bench"
)

// passphrase protects the benchmark's throwaway keys; it is no secret.
const passphrase = "bench passphrase, not a secret"

type driver struct {
	self    string // this program, for its spawn mode
	cfg     config
	proxy   *bench.Proxy
	canary  *bench.Canary
	report  *bench.Report
	profile string // bench.ProfileLoopback or bench.ProfileWAN, being measured
}

func run(ctx context.Context, cfg config) error {
	start := time.Now()
	var popts []bench.ProxyOption
	if cfg.requestLog != "" {
		f, err := os.Create(cfg.requestLog)
		if err != nil {
			return err
		}
		defer f.Close()
		popts = append(popts, bench.WithRequestLog(f))
	}
	proxy, err := bench.StartProxy(ctx, cfg.registry, popts...)
	if err != nil {
		return err
	}
	defer proxy.Close()
	canary, err := bench.StartCanary(ctx)
	if err != nil {
		return err
	}
	defer canary.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	d := &driver{self: self, cfg: cfg, proxy: proxy, canary: canary, report: &bench.Report{
		Date: start, Command: cfg.command, Machine: machine(), Runs: cfg.runs, Versions: map[string]string{},
		WANDelay: cfg.wanDelay,
	}}
	logf("counting proxy %s in front of registry %s", proxy.Addr(), cfg.registry)

	tools := []tool{&signetTool{d: d}}
	if cfg.cosign != "" {
		tools = append(tools, &cosignTool{d: d})
	}
	if cfg.notation != "" {
		tools = append(tools, &notationTool{d: d})
	}
	for _, t := range tools {
		if err := t.setup(ctx); err != nil {
			return fmt.Errorf("setting up %s: %w", t.name(), err)
		}
		d.report.Versions[t.name()] = t.version(ctx)
	}
	if cfg.revision != "" {
		d.report.Versions["signet"] += " at commit " + cfg.revision
	}

	var last bench.Fill
	for _, size := range cfg.sizes {
		if last.Tags > 0 {
			// Both steps of filling grow at least linearly with the tags.
			step := max(last.Sign, last.PutTags)
			est := time.Duration(float64(step) * float64(size) / float64(last.Tags))
			if est > cfg.stepLimit {
				d.note("%d tags skipped: a step of filling %d tags took %s, so for %d it would take about %s, over the step limit of %s (BENCH_STEP_LIMIT, BENCH_SIZES).",
					size, last.Tags, step.Round(time.Second), size, est.Round(time.Second), cfg.stepLimit)
				break
			}
		}
		repo := fmt.Sprintf("%s/bench/n%d", proxy.Addr(), size)
		fill, err := tools[0].(*signetTool).fill(ctx, repo, size)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			// What signet cannot fill is a result too: say so, keep the rest.
			d.note("%d tags: filling failed, so this size and larger ones are not measured: %v", size, err)
			break
		}
		d.report.Fills = append(d.report.Fills, fill)
		d.report.Sizes = append(d.report.Sizes, size)
		last = fill
		// The fill leaves the registry's storage with many dirty pages (a
		// file per tag); flush them first, so that their writeback does
		// not fall into the measurements of this size.
		syscall.Sync()
		if err := ctxsleep.Sleep(ctx, settleAfterFill); err != nil {
			return err
		}
		if err := d.measureAll(ctx, tools, repo, size); err != nil {
			return err
		}
		if err := d.write(); err != nil { // keep what is measured if a later size fails
			return err
		}
	}
	d.report.Outbound = canary.Attempts()
	if d.report.Outbound > 0 {
		d.note("WARNING: the tools tried %d connections beyond loopback; the numbers may include failed network calls.", d.report.Outbound)
	}
	if err := d.report.Table(os.Stdout); err != nil {
		return err
	}
	return d.write()
}

// measureAll measures every tool at one size, on loopback and then, with
// a WAN delay, with every request held that long by the proxy.
func (d *driver) measureAll(ctx context.Context, tools []tool, repo string, size int) error {
	profiles := []string{bench.ProfileLoopback}
	if d.cfg.wanDelay > 0 {
		profiles = append(profiles, bench.ProfileWAN)
	}
	defer d.proxy.SetDelay(0)
	for _, prof := range profiles {
		d.profile = prof
		if prof == bench.ProfileWAN {
			d.proxy.SetDelay(d.cfg.wanDelay)
		} else {
			d.proxy.SetDelay(0)
		}
		for _, t := range tools {
			rs, err := t.measure(ctx, repo, size)
			if err != nil {
				return fmt.Errorf("%s at %d tags (%s): %w", t.name(), size, prof, err)
			}
			for _, r := range rs {
				logf("%6d tags  %-8s %-8s %-11s wall %-9s cpu %-9s rss %-7d KiB  %3d requests (%d in a row) %9d bytes",
					size, prof, r.Tool, r.Op, r.Wall.Round(time.Millisecond/10), r.CPU.Round(time.Millisecond/10), r.MaxRSS>>10, r.Requests, r.Chain, r.Bytes)
			}
			d.report.Results = append(d.report.Results, rs...)
		}
	}
	return nil
}

// name is a tag name for run i of a measurement, distinct per profile so
// that the WAN runs sign tags of their own.
func (d *driver) name(prefix string, i int) string {
	if d.profile == bench.ProfileWAN {
		prefix = "wan-" + prefix
	}
	return fmt.Sprintf("%s%d", prefix, i)
}

// render writes the outputs of a report measured before (-render).
func render(cfg config) error {
	b, err := os.ReadFile(cfg.render)
	if err != nil {
		return err
	}
	var r bench.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("reading %s: %w", cfg.render, err)
	}
	if cfg.json == cfg.render {
		cfg.json = ""
	}
	return (&driver{cfg: cfg, report: &r}).write()
}

// write writes the outputs asked for, with what is measured so far.
func (d *driver) write() error {
	r := d.report
	if d.proxy != nil { // measuring, not rendering
		r.Duration = time.Since(r.Date)
		r.Machine.LoadEnd = loadavg()
	}
	if d.cfg.json != "" {
		if err := writeFile(d.cfg.json, r.JSON); err != nil {
			return err
		}
	}
	if d.cfg.png != "" {
		if err := writeFile(d.cfg.png, r.Plot); err != nil {
			return err
		}
	}
	if d.cfg.markdown != "" {
		plot := ""
		if d.cfg.png != "" {
			plot = filepath.Base(d.cfg.png)
		}
		return writeFile(d.cfg.markdown, func(w io.Writer) error { return r.Markdown(w, plot, prose) })
	}
	return nil
}

func writeFile(path string, f func(io.Writer) error) error {
	tmp := path + ".tmp"
	file, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := f(file); err != nil {
		file.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (d *driver) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	logf("%s", s)
	d.report.Notes = append(d.report.Notes, s)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// env is the environment of a measured tool: its own HOME, and every
// request beyond loopback sent to the canary.
func (d *driver) env(home string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + os.TempDir(), "LANG=C", "NO_COLOR=1"}
	env = append(env, d.canary.Env()...)
	return append(env, extra...)
}

// measure runs cmd(i) runs times, each after prep(i), and summarizes.
func (d *driver) measure(ctx context.Context, tool, op string, size int, prep func(int) error, cmd func(int) bench.Command) (bench.Result, error) {
	var samples []bench.Sample
	for i := 0; i < d.cfg.runs; i++ {
		if prep != nil {
			if err := prep(i); err != nil {
				return bench.Result{}, err
			}
		}
		s, _, err := bench.Run(ctx, d.proxy, d.via(cmd(i)))
		if err != nil {
			return bench.Result{}, err
		}
		samples = append(samples, s)
	}
	return bench.Summarize(tool, op, d.profile, size, samples), nil
}

// via runs c through this program's spawn mode, so that its max RSS is its
// own and not this driver's (see bench.Command.Via).
func (d *driver) via(c bench.Command) bench.Command {
	c.Via, c.ViaArgs = d.self, []string{"spawn"}
	return c
}

// output runs a setup command (not measured) and returns its output.
func (d *driver) output(ctx context.Context, c bench.Command) (string, error) {
	_, out, err := bench.Run(ctx, nil, c)
	return out, err
}

// copyDir copies a home directory, keeping modes.
func copyDir(ctx context.Context, from, to string) error {
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "cp", "-a", from, to).CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying %s: %w: %s", from, err, out)
	}
	return nil
}

func machine() bench.Machine {
	m := bench.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, l := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
				m.MemoryMiB = kb >> 10
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.LoadStart = loadavg()
	return m
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// settleAfterFill is the pause between filling a repository (and flushing
// the filesystem) and measuring it.
const settleAfterFill = 3 * time.Second
