package bench

import (
	"slices"
	"time"
)

// Result is one operation of one tool at one repository size: the medians
// of its runs, and the runs themselves.
type Result struct {
	Tool     string        `json:"tool"`      // signet, cosign, notation
	Op       string        `json:"operation"` // see the Op constants
	Profile  string        `json:"profile"`   // ProfileLoopback or ProfileWAN
	Tags     int           `json:"tags"`      // signed tags in the repository
	Runs     int           `json:"runs"`
	Wall     time.Duration `json:"wallNs"` // medians from here on
	CPU      time.Duration `json:"cpuNs"`
	MaxRSS   int64         `json:"maxRSS"`
	Requests int64         `json:"requests"`
	Chain    int64         `json:"chain"` // requests on the critical path (Counts.Chain)
	Bytes    int64         `json:"bytes"`
	Samples  []Sample      `json:"samples"`
}

// The network profiles a command is measured in.
const (
	// ProfileLoopback is the registry on loopback, as it is.
	ProfileLoopback = "loopback"
	// ProfileWAN holds every request for Report.WANDelay first, as a
	// registry that far away would.
	ProfileWAN = "wan"
)

// The operations measured.
const (
	OpSign       = "sign"        // sign one more tag
	OpVerifyCold = "verify-cold" // verify one tag from a trust dir with only the pinned root
	OpVerifyWarm = "verify-warm" // verify it again from the trust dir one verify left
	OpVerify     = "verify"      // verify one tag, for a tool that keeps no local state
)

// Summarize makes a Result of the samples' medians.
func Summarize(tool, op, profile string, tags int, samples []Sample) Result {
	r := Result{Tool: tool, Op: op, Profile: profile, Tags: tags, Runs: len(samples), Samples: samples}
	if len(samples) == 0 {
		return r
	}
	r.Wall = time.Duration(median(samples, func(s Sample) int64 { return int64(s.Wall) }))
	r.CPU = time.Duration(median(samples, func(s Sample) int64 { return int64(s.CPU) }))
	r.MaxRSS = median(samples, func(s Sample) int64 { return s.MaxRSS })
	r.Requests = median(samples, func(s Sample) int64 { return s.Counts.Requests })
	r.Chain = median(samples, func(s Sample) int64 { return s.Counts.Chain })
	r.Bytes = median(samples, func(s Sample) int64 { return s.Counts.Bytes() })
	return r
}

// median is the middle value (the lower middle of an even count, so that
// it is always a value that was measured).
func median(samples []Sample, f func(Sample) int64) int64 {
	v := make([]int64, len(samples))
	for i, s := range samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// Fill is what filling a repository with signed tags cost.
type Fill struct {
	Tags      int           `json:"tags"`
	PutTags   time.Duration `json:"putTagsNs"` // pointing the tags at one image
	Sign      time.Duration `json:"signNs"`    // signet sign --from, all batches
	Batches   int           `json:"batches"`   // publishes
	SignPeak  int64         `json:"signMaxRSS"`
	SignCPU   time.Duration `json:"signCpuNs"`
	Requests  int64         `json:"requests"` // of the signing
	BytesSent int64         `json:"bytes"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryMiB int64  `json:"memoryMiB"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	// Load is /proc/loadavg's 1, 5 and 15 minute averages at the start and
	// at the end: other work on the machine makes wall times noisy.
	LoadStart string `json:"loadStart"`
	LoadEnd   string `json:"loadEnd"`
}

// Report is one run of the benchmark.
type Report struct {
	Date     time.Time         `json:"date"`
	Command  string            `json:"command"`
	Machine  Machine           `json:"machine"`
	Runs     int               `json:"runs"`
	Sizes    []int             `json:"sizes"`
	Versions map[string]string `json:"versions"`
	Results  []Result          `json:"results"`
	Fills    []Fill            `json:"fills"`
	Duration time.Duration     `json:"durationNs"`
	// WANDelay is how long the proxy held each request of ProfileWAN.
	WANDelay time.Duration `json:"wanDelayNs"`
	// Outbound counts connections the peers tried beyond loopback (through
	// the canary proxy); anything but 0 means a result is not offline.
	Outbound int64    `json:"outboundAttempts"`
	Notes    []string `json:"notes,omitempty"`
}

// Find returns the result for tool, op and size on loopback, if measured.
func (r *Report) Find(tool, op string, tags int) (Result, bool) {
	return r.FindIn(ProfileLoopback, tool, op, tags)
}

// FindIn returns the result for tool, op and size in profile, if measured.
// A result without a profile (a report from before profiles) is loopback.
func (r *Report) FindIn(profile, tool, op string, tags int) (Result, bool) {
	for _, x := range r.Results {
		if x.Tool == tool && x.Op == op && x.Tags == tags && x.profile() == profile {
			return x, true
		}
	}
	return Result{}, false
}

func (x Result) profile() string {
	if x.Profile == "" {
		return ProfileLoopback
	}
	return x.Profile
}
