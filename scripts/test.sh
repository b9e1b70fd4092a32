#!/usr/bin/env bash
# Runs every test of signet: starts the services the tests need (a
# distribution registry on loopback, pcscd with the vpcd driver and the
# virtual YubiKey, a Notary server, tuf-js, etcd and kube-apiserver), runs
# go test (signet's module, then tests/kube) and the fuzz smoke runs, and
# stops what it started, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d /tmp/signet-test.XXXXXX)
export SIGNET_TEST_WORK="$work"
cleanup() {
  set +e
  for f in "$root"/scripts/lib/*.sh; do
    svc=$(basename "$f" .sh)
    declare -F "stop_$svc" >/dev/null && "stop_$svc"
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Each scripts/lib/NAME.sh defines start_NAME and stop_NAME; start_NAME
# exports the environment its tests read (SIGNET_TEST_*).
for f in "$root"/scripts/lib/*.sh; do
  # shellcheck source=/dev/null
  . "$f"
done
for f in "$root"/scripts/lib/*.sh; do
  svc=$(basename "$f" .sh)
  echo "test: starting $svc" >&2
  "start_$svc"
done

# Tests that need a service fail, instead of skipping, when it is missing.
export SIGNET_TEST_REQUIRE_SERVICES=1

go vet ./...
# The static build's packages, tests included, must compile too (piv-go is
# cgo outside Windows: its users carry the piv build tags).
CGO_ENABLED=0 go vet ./...
go test -count=1 -timeout 30m ./... 2>&1 | tee "$work/go-test.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

# The admission webhook against the real kube-apiserver: a module of its
# own (tests/kube), so that signet's go.mod does not carry Kubernetes.
(
  cd tests/kube
  go vet ./...
  go test -count=1 -timeout 15m ./...
) 2>&1 | tee "$work/go-test-kube.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

# Fuzz smoke runs: every fuzz target, briefly.
"$root/scripts/fuzz.sh" "${FUZZTIME:-10s}"
