// Command bench measures signet against cosign and notation on one
// registry: for repositories of several sizes, the cost of signing one more
// tag and of verifying one tag (cold and warm), and what filling the
// repository cost. It writes the table to stdout and docs/benchmarks.md,
// docs/benchmarks.png and a JSON file. scripts/bench.sh (make bench) runs it
// with a fresh distribution registry; see docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/tools/bench"
)

type config struct {
	registry   string        // host:port of the registry, plain HTTP
	signet     string        // binaries; cosign and notation may be empty
	cosign     string        //
	notation   string        //
	sizes      []int         // signed tags per repository
	runs       int           // runs per measurement
	batch      int           // tags per publish when filling; 0: all in one
	stepLimit  time.Duration // skip sizes whose filling would take longer
	work       string        // scratch directory
	markdown   string        // outputs; empty: not written
	png        string        //
	json       string        //
	command    string        // how to reproduce, for the doc
	revision   string        // signet's source revision, for the doc
	requestLog string        // file for the proxy's request log; empty: none
	render     string        // a JSON report to render again instead of measuring
	wanDelay   time.Duration // each request's delay in the WAN profile; 0: no WAN profile
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "spawn" { // see bench.Command.Via
		os.Exit(bench.Spawn(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.render != "" {
		err = render(cfg)
	} else {
		err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	var sizes string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.registry, "registry", "", "registry `host:port` (plain HTTP, required)")
	fs.StringVar(&c.signet, "signet", "bin/signet", "signet binary")
	fs.StringVar(&c.cosign, "cosign", "", "cosign binary (empty: skip cosign)")
	fs.StringVar(&c.notation, "notation", "", "notation binary (empty: skip notation)")
	fs.StringVar(&sizes, "sizes", "10 1000 10000 100000", "repository sizes in signed tags, ascending")
	fs.IntVar(&c.runs, "runs", 5, "runs per measurement (medians are reported)")
	fs.IntVar(&c.batch, "batch", 0, "tags per publish when filling a repository (0: all in one)")
	fs.DurationVar(&c.stepLimit, "step-limit", 10*time.Minute, "skip a size whose filling would take longer than this")
	fs.StringVar(&c.work, "work", "", "scratch directory (required)")
	fs.StringVar(&c.markdown, "markdown", "", "write the report as Markdown to `FILE`")
	fs.StringVar(&c.png, "png", "", "write the plot to `FILE`")
	fs.StringVar(&c.json, "json", "", "write the report as JSON to `FILE`")
	fs.StringVar(&c.command, "command", "make bench", "the command that reproduces the run, for the report")
	fs.StringVar(&c.revision, "revision", "", "signet's source revision, for the report")
	fs.StringVar(&c.requestLog, "request-log", "", "write every request through the proxy, by command, to `FILE`")
	fs.DurationVar(&c.wanDelay, "wan-delay", 30*time.Millisecond, "measure again with every request held this long (the WAN profile); 0: loopback only")
	fs.StringVar(&c.render, "render", "", "write the outputs again from the JSON report `FILE`, measuring nothing")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.render != "" {
		return c, nil
	}
	if c.registry == "" || c.work == "" {
		return c, fmt.Errorf("-registry and -work are required")
	}
	if c.runs < 1 {
		return c, fmt.Errorf("-runs must be at least 1")
	}
	if c.wanDelay < 0 {
		return c, fmt.Errorf("-wan-delay must not be negative")
	}
	for _, f := range strings.Fields(strings.ReplaceAll(sizes, ",", " ")) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return c, fmt.Errorf("bad size %q in -sizes", f)
		}
		if len(c.sizes) > 0 && n <= c.sizes[len(c.sizes)-1] {
			return c, fmt.Errorf("-sizes must ascend")
		}
		c.sizes = append(c.sizes, n)
	}
	if len(c.sizes) == 0 {
		return c, fmt.Errorf("-sizes is empty")
	}
	return c, nil
}
