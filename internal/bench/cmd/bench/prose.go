package main

// prose is the fixed part of docs/benchmarks.md.
const prose = `What a command costs as a repository grows, for signet and for the tools
users would pick instead (cosign and notation, key-based and offline), all
against one local distribution registry in the same run: on loopback, and
in a WAN profile where every request is held as if the registry were a
round trip away.

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
- **WAN profile**: after the loopback runs of a size, the proxy holds every
  request for a fixed delay before forwarding it (` + "`BENCH_WAN_DELAY`" + `,
  default 30ms; 0 leaves the profile out) and every tool is measured again.
  On loopback a request costs about a millisecond and CPU decides; against
  a real registry each costs tens of milliseconds and what decides is how
  many follow one another. The proxy notes when each request arrived and
  when its answer was written; a command's *requests in a row* (its
  critical path) is the longest run of its requests each sent after the
  one before it was answered, which the delay makes unambiguous (requests
  sent together overlap). The WAN runs sign tags of their own.
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

## Where signet's time goes

- **sign**: about 200ms of CPU is the one scrypt derivation that unlocks the
  keystore (N=2^16, r=8, p=1: twice cosign's N=2^15; notation's key file is
  not encrypted at all). It starts with the command and runs on the second
  core while the tag and the trust data are read (a CI job's
  ` + "`SIGNET_KEY`" + ` bundle the same way); once the change is known to apply,
  the upload sessions of the publish are opened meanwhile too. After it:
  the new files go up in one round trip, with the check of the ` + "`_tuf`" + ` tag
  alongside, then the move of the tag, a wait, and one read-back. The wait
  catches another publisher that overwrote the move (registries have no
  compare-and-swap on tags; docs/storage.md): 4 times the slowest request
  of this publish, at least 100ms and at most 10s, so about 100ms on
  loopback and about 130ms in the WAN profile. Its requests: the tag, the
  ` + "`_tuf`" + ` manifest (If-None-Match), two per new blob (bin, snapshot,
  timestamp: distribution has no single-request upload; the sessions are
  opened early), the check, the move and the read-back; in a row: the tag,
  the manifest, the sessions, the uploads with the check, the move, the
  read-back (the first three hidden behind the derivation). cosign and
  notation have no shared, signed index to keep consistent: each signature
  is its own artifact, so they need neither the wait nor the snapshot and
  timestamp signatures signet adds; notation's unencrypted key makes its
  sign cheaper than any encrypted key can be.
- **verify-cold**: the ` + "`_tuf`" + ` manifest and the tag are read together,
  then timestamp, snapshot, targets and ` + "`_bins`" + ` together, then the tag's
  bin as soon as ` + "`_bins.json`" + ` has arrived: 3 requests in a row with bins,
  2 without. A profile of 40 cold verifies at 100,000 tags after this
  change (` + "`perf record -g`" + ` of ` + "`signet verify`" + ` from a fresh home on the
  distribution registry; 28ms of CPU each on a loaded machine) puts no
  single part first: go-tuf's parsing and canonical re-encoding of the
  metadata about 20% (the snapshot, with its 258 entries, 13%; the 400-tag
  bin, which dominated before the snapshot listed bins by version only,
  about 3%), writing files into the signet home about 21% (the metadata
  cache, go-tuf's trust dir, its fsync, the manifest cache), the 261-layer
  manifest's parse 5%, and the Go runtime (start, scheduler, collector)
  about 30%. The snapshot grows with the bins and the bin with the tags per
  bin, so neither more nor fewer bins help (with 1,024 bins a cold verify
  was slower; with 64, a bin would hold about 1,600 tags, some 280KB,
  nearly the whole 300KB budget of a cold verify). What would remove the rest: a TUF client that parses the
  snapshot once (go-tuf reads every entry twice, into the struct and into a
  map of unknown fields, and encodes the whole signed part again to check
  the signature), and a cold verify that writes each file once (the blob
  cache and go-tuf's trust dir hold the same bytes).
- **verify-warm**: the manifest is asked for with If-None-Match (a 304 when
  nothing changed) and the tag meanwhile: two requests, one round trip,
  nothing downloaded. The TUF update is not run again either: the trust dir
  remembers what the last successful update concluded for this manifest
  digest and these trusted files, until the earliest expiry
  (docs/usage.md), so a warm verify costs the same at every size.
- **Small metadata inside the manifest** (OCI descriptors' ` + "`data`" + ` field),
  measured and not adopted: at 100,000 tags the files a cold verify reads
  before the bin (timestamp 0.5KB, snapshot 8.0KB, targets 1.0KB, ` + "`_bins`" + `
  0.9KB) would add 13.9KB of base64 to a 51.7KB manifest (+27%) that every
  publish puts and every cold verify reads, to save one round trip of a
  cold verify (3 in a row become 2; 30ms in the WAN profile) and nothing of
  a warm verify or a sign, which must still upload each file as its own
  layer for tuf-js and other readers. Choosing what to carry needs TUF
  knowledge the registry layer does not have (carrying every small file
  would carry the 256 bins too, about 0.9KB each at 1,000 tags), and a
  registry that predates OCI 1.1 may refuse the field. The goals are met
  without it.
`
