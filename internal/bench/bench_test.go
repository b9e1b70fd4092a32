package bench

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProxyCountsRequestsAndBytesOfEachCommand(t *testing.T) {
	body := strings.Repeat("x", 5000)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Host == "" {
			t.Errorf("no Host header reached the registry")
		}
		io.WriteString(w, body)
	}))
	defer backend.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	p, err := StartProxy(ctx, strings.TrimPrefix(backend.URL, "http://"), WithRequestLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	before := p.Snapshot()
	for i := 0; i < 3; i++ {
		resp, err := http.Post("http://"+p.Addr()+"/v2/", "text/plain", strings.NewReader(strings.Repeat("y", 1000)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	got := p.Snapshot().Sub(before)
	if n := strings.Count(log.String(), "POST /v2/\n"); n != 3 {
		t.Errorf("request log has %d POST /v2/ lines, want 3:\n%s", n, log.String())
	}
	if got.Requests != 3 {
		t.Errorf("requests = %d, want 3", got.Requests)
	}
	if got.BytesOut < 3*5000 || got.BytesOut > 3*5000+3*1000 {
		t.Errorf("bytes out = %d, want the three bodies of 5000 plus headers", got.BytesOut)
	}
	if got.BytesIn < 3*1000 || got.BytesIn > 3*1000+3*1000 {
		t.Errorf("bytes in = %d, want the three bodies of 1000 plus headers", got.BytesIn)
	}
}

func TestCanaryCountsAttemptsToLeaveLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := StartCanary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u)}
	_, err = (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://example.invalid/")
	if err == nil {
		t.Fatal("a request through the canary succeeded")
	}
	if c.Attempts() != 1 {
		t.Errorf("attempts = %d, want 1", c.Attempts())
	}
}

func TestRunMeasuresAChildAndFailsOnNonZeroExit(t *testing.T) {
	ctx := context.Background()
	s, _, err := Run(ctx, nil, Command{Path: "/bin/sh", Args: []string{"-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Wall <= 0 || s.CPU <= 0 || s.MaxRSS <= 0 {
		t.Errorf("sample %+v: want wall, CPU and max RSS measured", s)
	}
	_, _, err = Run(ctx, nil, Command{Path: "/bin/sh", Args: []string{"-c", "echo boom >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the failure with its output", err)
	}
}

func TestSummarizeTakesMediansThatWereMeasured(t *testing.T) {
	var ss []Sample
	for _, ms := range []int{50, 10, 30, 20} {
		ss = append(ss, Sample{Wall: time.Duration(ms) * time.Millisecond, Counts: Counts{Requests: int64(ms)}})
	}
	r := Summarize("signet", OpSign, 10, ss)
	if r.Wall != 20*time.Millisecond || r.Requests != 20 || r.Runs != 4 {
		t.Errorf("got wall %s requests %d runs %d, want 20ms 20 4", r.Wall, r.Requests, r.Runs)
	}
}

// sampleReport is a report with made-up numbers, shaped like a real one.
func sampleReport() *Report {
	r := &Report{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Runs: 5, Sizes: []int{10, 1000, 10000, 100000},
		Machine: Machine{CPUs: 2, CPUModel: "test", MemoryMiB: 1024}, Versions: map[string]string{"signet": "dev"}}
	for i, n := range r.Sizes {
		k := time.Duration(1 << (2 * i))
		add := func(tool, op string, wall time.Duration, bytes int64, reqs int64) {
			r.Results = append(r.Results, Summarize(tool, op, n, []Sample{{Wall: wall, Counts: Counts{Requests: reqs, BytesOut: bytes}}}))
		}
		add("signet", OpSign, 100*time.Millisecond*k, 0, 10)
		add("signet", OpVerifyCold, 30*time.Millisecond*k, 5000*int64(k), 6)
		add("signet", OpVerifyWarm, 20*time.Millisecond*k, 3000*int64(k), 2)
		add("cosign", OpSign, 400*time.Millisecond, 0, 14)
		add("cosign", OpVerify, 70*time.Millisecond, 9000, 5)
		add("notation", OpSign, 47*time.Millisecond, 0, 8)
		add("notation", OpVerify, 27*time.Millisecond, 7000, 6)
	}
	return r
}

func TestPlotIsAPNGOfTheReport(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().Plot(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
		t.Errorf("plot is %v, want at least 800x600", b)
	}
	if dir := os.Getenv("BENCH_PLOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "sample.png"), buf.Bytes(), 0o644)
	}
}

func TestGoalsJudgeTheSampleReport(t *testing.T) {
	goals := sampleReport().Goals()
	met := map[string]bool{}
	for _, g := range goals {
		met[g.Goal] = g.Met
	}
	if met["signet sign wall time at 100000 tags within 1.5x of 10 tags"] {
		t.Errorf("a 64x slower sign met the 1.5x goal")
	}
	if !met["signet cold verify at 100000 tags makes no more requests than notation"] {
		t.Errorf("as many requests as notation did not meet the goal: %+v", goals)
	}
	var md bytes.Buffer
	if err := sampleReport().Markdown(&md, "benchmarks.png", "prose\n"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 100000 | signet | sign |", "![cost against repository size](benchmarks.png)", "## Goals of issue 7"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
