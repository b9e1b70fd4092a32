#!/usr/bin/env bash
# Runs every test of signet: starts the services the tests need (two
# distribution registries on loopback, a pcscd of its own beside the
# system's with the vpcd driver and two virtual YubiKeys, a notary-server,
# tuf-js, a dockerd on a unix socket of its own, etcd and kube-apiserver),
# runs go vet (while the services start) and go test (signet's module and
# tests/kube side by side), and stops
# what it started, whatever happens: on success, failure, Ctrl-C or
# SIGTERM. The fuzz targets run with their seed
# corpora as ordinary tests; `make fuzz` fuzzes them.
#
#   scripts/test.sh            everything
#   scripts/test.sh --serve    start the services, print their environment
#                              and wait until interrupted (for go test by hand)
set -euo pipefail
# Every background job (service, go test) in a process group of its own,
# so that stopping one stops all its children.
set -m
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d /tmp/signet-test.XXXXXX)
export SIGNET_TEST_WORK="$work"
_fg=
cleanup() {
  set +e
  trap - INT TERM
  local p stops=()
  for p in $_fg; do
    kill -TERM -- "-$p" 2>/dev/null
  done
  # The services stop side by side: each stop_NAME waits for its own.
  for f in "$root"/scripts/lib/*.sh; do
    svc=$(basename "$f" .sh)
    if declare -F "stop_$svc" >/dev/null; then
      "stop_$svc" &
      stops+=("$!")
    fi
  done
  [ "${#stops[@]}" -eq 0 ] || wait "${stops[@]}"
  # Whatever a service script started and did not stop.
  local j
  for j in $(jobs -p); do
    kill -TERM -- "-$j" 2>/dev/null || kill -TERM "$j" 2>/dev/null
  done
  sleep 0.2
  for j in $(jobs -p); do
    kill -KILL -- "-$j" 2>/dev/null || kill -KILL "$j" 2>/dev/null
  done
  rm -rf "$work"
}
# bash runs a trap only between commands: long steps run in the
# background under wait_for, whose wait a signal interrupts.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for CMD...: runs CMD in its own process group and waits for it.
wait_for() {
  "$@" &
  _fg=$!
  local status=0
  wait "$_fg" || status=$?
  _fg=
  return "$status"
}

# wait_all PID...: waits for every one of the background jobs PID (each in
# its own process group), returns the first failure's status.
wait_all() {
  _fg="$*"
  local status=0 p s
  for p in "$@"; do
    s=0
    wait "$p" || s=$?
    [ "$status" -ne 0 ] || status=$s
  done
  _fg=
  return "$status"
}

# Each scripts/lib/NAME.sh defines start_NAME and stop_NAME; start_NAME
# exports the environment its tests read (SIGNET_TEST_*).
for f in "$root"/scripts/lib/*.sh; do
  # shellcheck source=/dev/null
  . "$f"
done
# go vet needs no service: it runs while they start. The static build's
# packages, tests included, must compile too (piv-go is cgo outside
# Windows: its users carry the piv build tags).
if [ "${1:-}" != "--serve" ]; then
  { go vet ./... && CGO_ENABLED=0 go vet ./...; } &
  vet=$!
fi
for f in "$root"/scripts/lib/*.sh; do
  svc=$(basename "$f" .sh)
  echo "test: starting $svc" >&2
  "start_$svc"
done

# Tests that need a service fail, instead of skipping, when it is missing.
export SIGNET_TEST_REQUIRE_SERVICES=1

if [ "${1:-}" = "--serve" ]; then
  # Quoted for the shell: some values (reader names) hold spaces.
  while IFS= read -r var; do
    printf 'export %s=%q\n' "$var" "${!var}"
  done < <(compgen -e | grep -E '^(SIGNET_TEST_|PCSCLITE_CSOCK_NAME$)')
  echo "test: services ready; Ctrl-C or SIGTERM stops them" >&2
  while :; do wait_for sleep 3600; done
fi

wait_all "$vet"
# Most tests wait on loopback servers, subprocesses or the cards rather
# than on the CPU: four at a time per package. Beside them, the admission
# webhook against the real kube-apiserver: a module of its own
# (tests/kube), so that signet's go.mod does not carry Kubernetes.
go test -count=1 -timeout 30m -parallel 4 ./... &
unit=$!
(cd tests/kube && go vet ./... && go test -count=1 -timeout 15m ./...) &
kube=$!
wait_all "$unit" "$kube"
