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
  *Filling the repositories* says what that cost. Then the driver flushes
  the filesystem (sync) and waits 3s, so that the writeback of the fill (a
  file per tag in the registry's storage) does not fall into the
  measurements.
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
  peak memory (max RSS) come from the child's rusage, taken by a small
  helper process that starts it (Linux counts the parent's memory at the
  fork into a child's max RSS, so without the helper every child would look
  as big as the driver; the helper's own, about 7MB, is the floor). Tables show the median
  of the runs; the JSON (docs/benchmarks.json) has every run.
- Sizes are configurable: ` + "`BENCH_SIZES=\"10 1000\" BENCH_RUNS=3 make bench`" + `; a size whose
  filling would take longer than the step limit (` + "`BENCH_STEP_LIMIT`" + `, default
  10m, estimated from the previous size) is skipped and noted below.

## Baseline: signet before hashed bins

Recorded once by this benchmark on 2026-11-27 (same machine, load average
about 11, commit da2e323, before tuf: hashed bins, 5fac417), when every tag
was in one targets file, so a sign re-signed and re-uploaded all of it and a
cold verify downloaded all of it; the runs below "This run" are what signet
does now.

| tags | sign wall | sign bytes | verify-cold wall | verify-cold bytes | verify-warm wall | fill: sign --from |
|---:|---:|---:|---:|---:|---:|---:|
| 10 | 633ms | 27KB | 44.1ms | 10.3KB | 22.2ms | 678ms |
| 1000 | 622ms | 397KB | 83.9ms | 195KB | 143ms | 2.53s |
| 10000 | 1.30s | 3.8MB | 493ms | 1.9MB | 442ms | 22.0s |
| 100000 | - | - | - | - | - | failed: targets.json of 18.9MB is over signet's 16MiB limit for one metadata file |

So without bins signet could not hold 100,000 tags at all, and at 10,000
a cold verify downloaded 1.9MB and a warm one spent half a second of CPU
re-reading the cached targets file.

## Where signet's time goes, and why some goals are not met

- **sign**: about 200ms of CPU is the one scrypt derivation that unlocks the
  keystore (N=2^16, r=8, p=1: twice cosign's N=2^15; notation's key file is
  not encrypted at all); it runs on the second core while the tag and the
  trust data are read, but those reads take only a few milliseconds on
  loopback, so little of it is hidden. About 300ms more is waiting on
  purpose: after moving the ` + "`_tuf`" + ` tag, signet reads it back twice, each
  time at least 150ms later, to catch another publisher that overwrote it
  (registries have no compare-and-swap on tags; see docs/storage.md). cosign
  and notation have no shared, signed index to keep consistent: each
  signature is its own artifact, so they need neither the wait nor the
  snapshot and timestamp signatures signet adds. Without the wait and with
  cosign's scrypt cost, signet's sign would be about as fast as cosign's; it
  cannot come within 1.2x of an unencrypted key. Its requests: the tag, the
  ` + "`_tuf`" + ` manifest (If-None-Match), two per new blob (bin, snapshot,
  timestamp: distribution has no single-request upload), the check before
  the move, the move and the two read-backs.
- **verify-cold**: the top-level files are read in parallel and the tag's
  bin as soon as ` + "`_bins.json`" + ` has arrived, and the tag is resolved
  meanwhile; what grows is CPU: go-tuf parses the one bin the tag is in and
  encodes it again canonically to check its signature, and with 256 bins a
  bin holds about 400 tags at 100,000 (the snapshot lists bins by version
  only, 8KB). The 10-tag figure is the noisiest of all (18 to 30ms on this
  machine from run to run), so the ratio swings: measured apart with
  ` + "`perf stat`" + `, 21 runs each on a quiet machine, a cold verify took 18.1ms at 10
  tags and 39.2ms at 100,000 (2.2x; CPU 10.4 and 29.5ms), before signet
  set ` + "`GOGC=400`" + ` (which took about a quarter off the CPU of a cold verify
  at 100,000 tags, where collecting the parser's garbage had weighed most). More bins do not
  help: with ` + "`init --bins 1024`" + ` the smaller bin (18KB) is outweighed by a
  manifest and a snapshot four times as long, and the same measurement gave
  54.2ms (CPU 37.2ms) at 100,000 tags. A cold verify needs 7 requests (the tag, the
  manifest, timestamp, snapshot, targets, ` + "`_bins`" + `, one bin) against
  notation's 6.
- **verify-warm**: the manifest is asked for with If-None-Match (a 304 when
  nothing changed) and the tag meanwhile: two requests, nothing downloaded.
  The TUF update is not run again either: the trust dir remembers what the
  last successful update concluded for this manifest digest and these
  trusted files, until the earliest expiry (docs/usage.md), so a warm
  verify costs the same at every size.
`
