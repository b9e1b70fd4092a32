# Starts a Notary v1 server (notary-server v0.7.0, memory storage, local
# signing service, plain HTTP on loopback) for the import tests, under
# $SIGNET_TEST_WORK/notary, installing it first with scripts/notary-tools.sh
# (cached across runs in ~/.cache/signet-tools):
#   SIGNET_TEST_NOTARY=http://127.0.0.1:PORT   the server
#   SIGNET_TEST_NOTARY_BIN_DIR=DIR             holds notary-server and the notary client
# Sourced by scripts/test.sh, which calls start_notary and stop_notary.
# By hand:
#   . scripts/lib/notary.sh; export SIGNET_TEST_WORK=$(mktemp -d); start_notary

. "$(dirname "${BASH_SOURCE[0]}")/../loopback.sh"

start_notary() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  local here bin dir port deadline
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  bin=$("$here/notary-tools.sh") || {
    echo "notary: installing notary-server and notary failed" >&2
    return 1
  }
  dir="$SIGNET_TEST_WORK/notary"
  mkdir -p "$dir"
  port=$(loopback_free_port 4500 4599) || return 1
  cat >"$dir/server.json" <<JSON
{
  "server": {"http_addr": "127.0.0.1:$port"},
  "trust_service": {"type": "local", "key_algorithm": "ecdsa"},
  "logging": {"level": "warn"},
  "storage": {"backend": "memory"}
}
JSON
  "$bin/notary-server" -config "$dir/server.json" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  deadline=$((SECONDS + 20))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$(loopback_http_status "$port" /_notary_server/health)" = 200 ]; then
      export SIGNET_TEST_NOTARY="http://127.0.0.1:$port"
      export SIGNET_TEST_NOTARY_BIN_DIR="$bin"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "notary: notary-server exited; log:" >&2
      cat "$dir/log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "notary: notary-server did not answer on 127.0.0.1:$port within 20s; log:" >&2
  cat "$dir/log" >&2
  return 1
}

stop_notary() {
  local pidfile pid i
  pidfile="${SIGNET_TEST_WORK:-/nonexistent}/notary/pid"
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
  unset SIGNET_TEST_NOTARY SIGNET_TEST_NOTARY_BIN_DIR
  return 0
}
