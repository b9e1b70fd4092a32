package main

// prose is the fixed part of docs/benchmarks.md.
const prose = `What a command costs as a repository grows, for signet and for the tools
users would pick instead (cosign and notation, key-based and offline), all
against one local distribution registry on loopback in the same run.

## Method

- ` + "`make bench`" + ` builds signet, installs cosign v2.6.5 and notation v1.3.2 into
  ` + "`~/.cache/signet-tools/bin`" + ` (scripts/bench-tools.sh, once), starts a
  distribution registry (Debian's docker-registry) and runs the driver,
  internal/bench/cmd/bench. Every tool talks to the registry through a
  counting reverse proxy, which gives the requests and the bytes on the wire
  (both directions, HTTP headers included) of each command.
- For each size N, a repository gets N tags pointing at one image (raw
  manifest PUTs), signed with ` + "`signet sign --from FILE`" + `; the section
  *Filling the repositories* says what that cost.
- **sign**: sign one more tag (a new tag on an image already pushed):
  ` + "`signet sign R:T`" + ` from a publisher home whose software keys are
  encrypted under one passphrase (` + "`SIGNET_PASSPHRASE`" + `), so the time
  includes the passphrase derivation, as cosign's includes its scrypt.
  cosign and notation sign a freshly pushed image per run, by tag.
- **verify-cold**: ` + "`signet verify R:T`" + ` from a fresh ` + "`SIGNET_HOME`" + ` that holds only the
  pinned first root (` + "`signet trust pin`" + `): the whole TUF update.
  **verify-warm**: the same, from the trust dir that one verify left behind.
  cosign and notation keep no local state, so they have one **verify**
  (shown in both the cold and the warm panel of the plot).
- cosign: ` + "`cosign sign --key cosign.key --tlog-upload=false --allow-http-registry --trusted-root EMPTY`" + `
  and ` + "`cosign verify --key cosign.pub --insecure-ignore-tlog --allow-http-registry --trusted-root EMPTY`" + `,
  where EMPTY is a trusted root with nothing in it (without it cosign verify
  fetches Sigstore's TUF root from the internet). notation: a certificate from
  ` + "`notation cert generate-test --default`" + `, a trust policy trusting it, and
  ` + "`notation sign/verify --insecure-registry`" + `. Every tool runs with HTTP_PROXY and
  HTTPS_PROXY set to a canary listener, which counts any attempt to leave
  loopback (Go never proxies loopback, so the registry is reached directly).
- Wall time is measured around the process; CPU time (user + system) and
  peak memory (max RSS) come from the child's rusage. Tables show the median
  of the runs; the JSON (docs/benchmarks.json) has every run.
- Sizes are configurable: ` + "`BENCH_SIZES=\"10 1000\" BENCH_RUNS=3 make bench`" + `; a size whose
  filling would take longer than the step limit (` + "`BENCH_STEP_LIMIT`" + `, default
  10m, estimated from the previous size) is skipped and noted below.

## Baseline

This run is of signet before hashed-bin delegations and before the
content-addressed verify cache (issue 7): every tag is in one targets file,
so a sign re-signs and re-uploads all of it and a cold verify downloads all
of it. The numbers at large sizes are bad on purpose; they are the baseline
the bins must flatten.
`
