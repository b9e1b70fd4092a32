#!/usr/bin/env bash
# make bench: signet against cosign and notation on a fresh local
# distribution registry, for repositories of BENCH_SIZES signed tags.
# Writes docs/benchmarks.md, docs/benchmarks.png and docs/benchmarks.json
# and prints the table. Not part of make test.
#   BENCH_SIZES="10 1000 10000 100000"  signed tags per repository
#   BENCH_RUNS=5                        runs per measurement (medians)
#   BENCH_BATCH=0                       tags per publish when filling (0: all)
#   BENCH_STEP_LIMIT=10m                skip sizes whose filling would take longer
#   BENCH_PEERS=1                       0: signet only (no cosign, no notation)
#   BENCH_OUT=docs                      where the report goes
#   BENCH_REQUEST_LOG=FILE              log every registry request, by command
#   BENCH_WAN_DELAY=30ms                measure again with every request held
#                                       this long (the WAN profile); 0: loopback only
# To redo docs/benchmarks.md and the plot from docs/benchmarks.json alone:
#   go run ./tools/bench/cmd/bench -render docs/benchmarks.json -markdown docs/benchmarks.md -png docs/benchmarks.png
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

go build -o bin/signet ./cmd/signet
go build -o bin/bench ./tools/bench/cmd/bench

peers=()
if [ "${BENCH_PEERS:-1}" != 0 ]; then
  tools=$(scripts/bench-tools.sh)
  peers=(-cosign "$tools/cosign" -notation "$tools/notation")
fi

. scripts/lib/registry.sh
SIGNET_TEST_WORK=$(mktemp -d /tmp/signet-bench.XXXXXX)
export SIGNET_TEST_WORK
cleanup() {
  stop_registry
  rm -rf "$SIGNET_TEST_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_registry

out=${BENCH_OUT:-docs}
mkdir -p "$out"
cmd="make bench"
for v in BENCH_WAN_DELAY BENCH_STEP_LIMIT BENCH_BATCH BENCH_RUNS BENCH_SIZES; do
  [ -n "${!v:-}" ] && cmd="$v=\"${!v}\" $cmd"
done
"$root/bin/bench" \
  -registry "$SIGNET_TEST_REGISTRY" \
  -signet "$root/bin/signet" "${peers[@]}" \
  -sizes "${BENCH_SIZES:-10 1000 10000 100000}" \
  -runs "${BENCH_RUNS:-5}" \
  -batch "${BENCH_BATCH:-0}" \
  -step-limit "${BENCH_STEP_LIMIT:-10m}" \
  -work "$SIGNET_TEST_WORK/bench" \
  -request-log "${BENCH_REQUEST_LOG:-}" \
  -wan-delay "${BENCH_WAN_DELAY:-30ms}" \
  -command "$cmd" \
  -revision "$(git describe --always --dirty 2>/dev/null || echo unknown)" \
  -markdown "$out/benchmarks.md" -png "$out/benchmarks.png" -json "$out/benchmarks.json"
