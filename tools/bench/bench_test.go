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
	"sync"
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
	r := Summarize("signet", OpSign, ProfileLoopback, 10, ss)
	if r.Wall != 20*time.Millisecond || r.Requests != 20 || r.Runs != 4 {
		t.Errorf("got wall %s requests %d runs %d, want 20ms 20 4", r.Wall, r.Requests, r.Runs)
	}
}

// sampleReport is a report with made-up numbers, shaped like a real one.
func sampleReport() *Report {
	r := &Report{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Runs: 5, Sizes: []int{10, 1000, 10000, 100000},
		Machine: Machine{CPUs: 2, CPUModel: "test", MemoryMiB: 1024}, Versions: map[string]string{"signet": "dev"},
		WANDelay: 30 * time.Millisecond}
	for i, n := range r.Sizes {
		k := time.Duration(1 << (2 * i))
		for _, prof := range []string{ProfileLoopback, ProfileWAN} {
			add := func(tool, op string, wall time.Duration, bytes int64, reqs, chain int64) {
				if prof == ProfileWAN {
					wall += time.Duration(chain) * r.WANDelay
				}
				r.Results = append(r.Results, Summarize(tool, op, prof, n, []Sample{{Wall: wall, Counts: Counts{Requests: reqs, BytesOut: bytes, Chain: chain}}}))
			}
			add("signet", OpSign, 100*time.Millisecond*k, 0, 10, 7)
			add("signet", OpVerifyCold, 30*time.Millisecond*k, 5000*int64(k), 6, 3)
			add("signet", OpVerifyWarm, 20*time.Millisecond*k, 3000*int64(k), 2, 1)
			add("cosign", OpSign, 400*time.Millisecond, 0, 14, 12)
			add("cosign", OpVerify, 70*time.Millisecond, 9000, 5, 5)
			add("notation", OpSign, 47*time.Millisecond, 0, 8, 8)
			add("notation", OpVerify, 27*time.Millisecond, 7000, 6, 6)
		}
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
	for goal, want := range map[string]bool{
		"loopback, 10 tags: signet sign within 1.2x of cosign's":                 true,  // 100ms vs 400ms
		"loopback, 100000 tags: signet sign within 1.2x of cosign's":             false, // 6.4s vs 400ms
		"loopback: signet warm verify flat (100000 tags within 1.5x of 10)":      false,
		"WAN, 100000 tags: signet cold verify makes at most 3 requests in a row": true,
		"WAN, 100000 tags: signet warm verify makes at most 1 requests in a row": true,
	} {
		if got, ok := met[goal]; !ok || got != want {
			t.Errorf("goal %q: met %v (judged: %v), want %v; goals: %+v", goal, got, ok, want, goals)
		}
	}
	var md bytes.Buffer
	if err := sampleReport().Markdown(&md, "benchmarks.png", "prose\n"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 100000 | signet | sign |", "![cost against repository size](benchmarks.png)", "## Goals of issue 18",
		"## Per command, WAN: every request held 30ms", "| 100000 | signet | verify-cold | 2.01s |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestChainIsTheLongestRunOfRequestsThatFollowOneAnother(t *testing.T) {
	for _, tc := range []struct {
		spans []span
		want  int
	}{
		{nil, 0},
		{[]span{{0, 10}}, 1},
		{[]span{{0, 10}, {1, 11}, {2, 12}}, 1},             // all at once
		{[]span{{0, 10}, {10, 20}, {21, 30}}, 3},           // one after the other
		{[]span{{0, 10}, {11, 20}, {11, 40}, {21, 30}}, 3}, // two after the first, one after the shorter
		{[]span{{50, 60}, {0, 10}, {12, 45}, {12, 20}}, 3}, // answered out of order
	} {
		if got := chain(tc.spans); got != tc.want {
			t.Errorf("chain(%v) = %d, want %d", tc.spans, got, tc.want)
		}
	}
}

func TestProxyDelaysRequestsAndCountsThoseInARow(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(2)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/together" {
			arrived.Done()
			arrived.Wait() // the two are answered only once both are in
		}
	}))
	defer backend.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := StartProxy(ctx, strings.TrimPrefix(backend.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p.SetDelay(5 * time.Millisecond)
	get := func(path string) {
		resp, err := http.Get("http://" + p.Addr() + path)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	before := p.Snapshot()
	var wg sync.WaitGroup
	wg.Go(func() { get("/together") })
	wg.Go(func() { get("/together") })
	wg.Wait()
	get("/after")
	got := p.Since(before)
	if got.Requests != 3 || got.Chain != 2 {
		t.Errorf("requests %d, in a row %d; want 3 and 2", got.Requests, got.Chain)
	}
}
