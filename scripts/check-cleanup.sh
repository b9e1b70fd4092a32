#!/usr/bin/env bash
# Checks that scripts/test.sh is a good citizen: it starts the services
# (scripts/test.sh --serve), sends the run SIGTERM once they are up, and
# fails if any process the run started is still running, if its work folder
# is left behind, or if a pcscd that was running before (the system's, a
# developer's YubiKey) was stopped. `make check-cleanup`; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d /tmp/signet-cleanup.XXXXXX)
trap 'rm -rf "$out"' EXIT
before=$(pidof pcscd || true)

scripts/test.sh --serve >"$out/env" 2>"$out/log" &
run=$!
deadline=$((SECONDS + 600))
until grep -q "services ready" "$out/log"; do
  if ! kill -0 "$run" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "check-cleanup: scripts/test.sh --serve did not get ready; its log:" >&2
    cat "$out/log" >&2
    kill -TERM "$run" 2>/dev/null || true
    exit 1
  fi
  sleep 0.5
done

# descendants PID: every process below PID.
descendants() {
  local kids k
  kids=$(ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }')
  for k in $kids; do
    echo "$k"
    descendants "$k"
  done
}
started=$(descendants "$run")
work=$(sed -n 's/^export SIGNET_TEST_WORK=//p' "$out/env")
echo "check-cleanup: the run ($run) started: $(echo $started)" >&2
[ -n "$started" ] && [ -d "$work" ] || { echo "check-cleanup: no services or work folder seen" >&2; exit 1; }

kill -TERM "$run"
status=0
wait "$run" || status=$?
[ "$status" = 143 ] || { echo "check-cleanup: scripts/test.sh exited $status on SIGTERM, want 143" >&2; exit 1; }

fail=0
for p in $started; do
  if kill -0 "$p" 2>/dev/null; then
    echo "check-cleanup: left running: $(ps -o pid=,args= -p "$p")" >&2
    fail=1
  fi
done
[ ! -e "$work" ] || { echo "check-cleanup: $work was left behind" >&2; fail=1; }
for p in $before; do
  kill -0 "$p" 2>/dev/null || { echo "check-cleanup: the pcscd that ran before ($p) was stopped" >&2; fail=1; }
done
[ "$fail" = 0 ] && echo "check-cleanup: SIGTERM stopped everything the run started; nothing else was touched" >&2
exit "$fail"
