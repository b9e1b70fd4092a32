package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-dev/signet/tools/bench"
)

// tool is one signing tool under measurement.
type tool interface {
	name() string
	setup(ctx context.Context) error
	version(ctx context.Context) string
	// measure signs and verifies in repo (host/path through the proxy),
	// which holds size signed tags.
	measure(ctx context.Context, repo string, size int) ([]bench.Result, error)
}

// firstLine returns the first line of s that contains want, trimmed.
func firstLine(s, want string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// signetTool is signet with software keys, one publisher home for every
// repository, and a fresh consumer trust dir per cold verify.
type signetTool struct {
	d    *driver
	dir  string
	home string // the publisher's SIGNET_HOME
}

func (t *signetTool) name() string { return "signet" }

func (t *signetTool) cmd(home string, args ...string) bench.Command {
	return bench.Command{Path: t.d.cfg.signet, Args: append([]string{"--no-input"}, args...), Dir: t.dir,
		Env: t.d.env(t.dir, "SIGNET_HOME="+home, "SIGNET_PASSPHRASE="+passphrase)}
}

func (t *signetTool) setup(ctx context.Context) error {
	t.dir = filepath.Join(t.d.cfg.work, "signet")
	t.home = filepath.Join(t.dir, "publisher")
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	_, err := t.d.output(ctx, t.cmd(t.home, "key", "generate", "root", "--out", filepath.Join(t.dir, "root.pub")))
	return err
}

func (t *signetTool) version(ctx context.Context) string {
	out, _ := t.d.output(ctx, t.cmd(t.home, "version"))
	return strings.TrimSpace(strings.Split(out, "\n")[0])
}

// fill makes repo a repository of size signed tags t1..tN pointing at one
// image, signed with `signet sign --from` in batches of cfg.batch.
func (t *signetTool) fill(ctx context.Context, repo string, size int) (bench.Fill, error) {
	f := bench.Fill{Tags: size}
	if _, err := t.d.output(ctx, t.cmd(t.home, "init", repo, "--root-key", "root")); err != nil {
		return f, err
	}
	img, err := pushImage(ctx, repo+":base")
	if err != nil {
		return f, err
	}
	tags := make([]string, size)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i+1)
	}
	path := strings.TrimPrefix(repo, t.d.proxy.Addr()+"/")
	start := time.Now()
	if err := putTags(ctx, t.d.cfg.registry, path, img, tags); err != nil {
		return f, err
	}
	f.PutTags = time.Since(start)
	batch := t.d.cfg.batch
	if batch <= 0 {
		batch = size
	}
	for lo := 0; lo < size; lo += batch {
		hi := min(lo+batch, size)
		var b strings.Builder
		for _, tag := range tags[lo:hi] {
			fmt.Fprintf(&b, "%s:%s\n", repo, tag)
		}
		file := filepath.Join(t.dir, "tags.txt")
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			return f, err
		}
		logf("%s: signing tags %d..%d in one publish", repo, lo+1, hi)
		s, _, err := bench.Run(ctx, t.d.proxy, t.d.via(t.cmd(t.home, "sign", "--from", file)))
		if err != nil {
			return f, err
		}
		f.Batches++
		f.Sign += s.Wall
		f.SignCPU += s.CPU
		f.SignPeak = max(f.SignPeak, s.MaxRSS)
		f.Requests += s.Counts.Requests
		f.BytesSent += s.Counts.Bytes()
	}
	logf("%s: filled %d tags: put %s, signed %s in %d publishes", repo, size, f.PutTags.Round(time.Millisecond), f.Sign.Round(time.Millisecond), f.Batches)
	return f, nil
}

func (t *signetTool) measure(ctx context.Context, repo string, size int) ([]bench.Result, error) {
	img, err := pushImage(ctx, repo+":extra-image")
	if err != nil {
		return nil, err
	}
	path := strings.TrimPrefix(repo, t.d.proxy.Addr()+"/")
	sign, err := t.d.measure(ctx, "signet", bench.OpSign, size,
		func(i int) error {
			return putTags(ctx, t.d.cfg.registry, path, img, []string{t.d.name("extra", i)})
		},
		func(i int) bench.Command { return t.cmd(t.home, "sign", repo+":"+t.d.name("extra", i)) })
	if err != nil {
		return nil, err
	}

	// The consumer's trust dir holds only the pinned first root.
	root, err := firstRoot(ctx, repo)
	if err != nil {
		return nil, err
	}
	rootFile := filepath.Join(t.dir, "root.json")
	if err := os.WriteFile(rootFile, root, 0o600); err != nil {
		return nil, err
	}
	pinned := filepath.Join(t.dir, "consumer-pinned")
	os.RemoveAll(pinned)
	if _, err := t.d.output(ctx, t.cmd(pinned, "trust", "pin", repo, "--root", rootFile)); err != nil {
		return nil, err
	}
	target := fmt.Sprintf("%s:t%d", repo, (size+1)/2)
	cold := filepath.Join(t.dir, "consumer-cold")
	verifyCold, err := t.d.measure(ctx, "signet", bench.OpVerifyCold, size,
		func(int) error { return copyDir(ctx, pinned, cold) },
		func(int) bench.Command { return t.cmd(cold, "verify", target) })
	if err != nil {
		return nil, err
	}
	warm := filepath.Join(t.dir, "consumer-warm")
	if err := copyDir(ctx, pinned, warm); err != nil {
		return nil, err
	}
	if _, err := t.d.output(ctx, t.cmd(warm, "verify", target)); err != nil {
		return nil, err
	}
	verifyWarm, err := t.d.measure(ctx, "signet", bench.OpVerifyWarm, size, nil,
		func(int) bench.Command { return t.cmd(warm, "verify", target) })
	if err != nil {
		return nil, err
	}
	return []bench.Result{sign, verifyCold, verifyWarm}, nil
}

// peerMeasure signs a new image per run (so every signature is of its own
// digest, as a release would be), then verifies the last one runs times.
func peerMeasure(ctx context.Context, d *driver, name, repo string, size int, sign, verify func(ref string) bench.Command) ([]bench.Result, error) {
	ref := func(i int) string { return repo + ":" + d.name(name, i) }
	s, err := d.measure(ctx, name, bench.OpSign, size,
		func(i int) error { _, err := pushImage(ctx, ref(i)); return err },
		func(i int) bench.Command { return sign(ref(i)) })
	if err != nil {
		return nil, err
	}
	v, err := d.measure(ctx, name, bench.OpVerify, size, nil,
		func(int) bench.Command { return verify(ref(d.cfg.runs - 1)) })
	if err != nil {
		return nil, err
	}
	return []bench.Result{s, v}, nil
}

// cosignTool is cosign with a key pair, no transparency log and an empty
// trusted root, so it never leaves the machine.
type cosignTool struct {
	d   *driver
	dir string
}

func (t *cosignTool) name() string { return "cosign" }

func (t *cosignTool) cmd(args ...string) bench.Command {
	return bench.Command{Path: t.d.cfg.cosign, Args: args, Dir: t.dir,
		Env: t.d.env(t.dir, "COSIGN_PASSWORD="+passphrase, "COSIGN_YES=true")}
}

func (t *cosignTool) setup(ctx context.Context) error {
	t.dir = filepath.Join(t.d.cfg.work, "cosign")
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	// A trusted root with nothing in it: verification by key needs none,
	// and without one cosign fetches Sigstore's from the internet.
	empty := `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`
	if err := os.WriteFile(filepath.Join(t.dir, "trusted_root.json"), []byte(empty), 0o600); err != nil {
		return err
	}
	_, err := t.d.output(ctx, t.cmd("generate-key-pair"))
	return err
}

func (t *cosignTool) version(ctx context.Context) string {
	out, _ := t.d.output(ctx, t.cmd("version"))
	return "cosign " + strings.TrimSpace(strings.TrimPrefix(firstLine(out, "GitVersion:"), "GitVersion:"))
}

func (t *cosignTool) measure(ctx context.Context, repo string, size int) ([]bench.Result, error) {
	return peerMeasure(ctx, t.d, "cosign", repo, size,
		func(ref string) bench.Command {
			return t.cmd("sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-http-registry", "--trusted-root", "trusted_root.json", "-y", ref)
		},
		func(ref string) bench.Command {
			return t.cmd("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", "--trusted-root", "trusted_root.json", ref)
		})
}

// notationTool is notation with a test certificate from `notation cert
// generate-test` and a trust policy that trusts it for every registry.
type notationTool struct {
	d   *driver
	dir string
}

func (t *notationTool) name() string { return "notation" }

func (t *notationTool) cmd(args ...string) bench.Command {
	return bench.Command{Path: t.d.cfg.notation, Args: args, Dir: t.dir,
		Env: t.d.env(t.dir, "XDG_CONFIG_HOME="+filepath.Join(t.dir, "config"))}
}

const notationPolicy = `{"version": "1.0", "trustPolicies": [{"name": "bench", "registryScopes": ["*"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:bench.example"], "trustedIdentities": ["*"]}]}
`

func (t *notationTool) setup(ctx context.Context) error {
	t.dir = filepath.Join(t.d.cfg.work, "notation")
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	if _, err := t.d.output(ctx, t.cmd("cert", "generate-test", "--default", "bench.example")); err != nil {
		return err
	}
	policy := filepath.Join(t.dir, "policy.json")
	if err := os.WriteFile(policy, []byte(notationPolicy), 0o600); err != nil {
		return err
	}
	_, err := t.d.output(ctx, t.cmd("policy", "import", "--force", policy))
	return err
}

func (t *notationTool) version(ctx context.Context) string {
	out, _ := t.d.output(ctx, t.cmd("version"))
	return "notation " + strings.TrimSpace(strings.TrimPrefix(firstLine(out, "Version:"), "Version:"))
}

func (t *notationTool) measure(ctx context.Context, repo string, size int) ([]bench.Result, error) {
	return peerMeasure(ctx, t.d, "notation", repo, size,
		func(ref string) bench.Command { return t.cmd("sign", "--insecure-registry", ref) },
		func(ref string) bench.Command { return t.cmd("verify", "--insecure-registry", ref) })
}
