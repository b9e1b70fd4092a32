# Starts a Notary v1 server (notary-server v0.7.0, memory storage, local
# signing service, plain HTTP on loopback) for the import tests, under
# $SIGNET_TEST_WORK/notary, installing it first with scripts/notary-tools.sh
# (cached across runs in ~/.cache/signet-tools):
#   SIGNET_TEST_NOTARY=http://127.0.0.1:PORT   the server
#   SIGNET_TEST_NOTARY_BIN_DIR=DIR             holds notary-server and the notary client
# Sourced by scripts/test.sh, which calls start_notary and stop_notary.
# By hand:
#   . scripts/lib/notary.sh; export SIGNET_TEST_WORK=$(mktemp -d); start_notary

# _notary_free_port FROM TO: a loopback port nothing listens on.
_notary_free_port() {
  local p
  for ((p = $1; p <= $2; p++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "notary: no free port in $1..$2" >&2
  return 1
}

# _notary_healthy PORT: true when /_notary_server/health answers 200.
_notary_healthy() {
  local line=""
  line=$( (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /_notary_server/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    timeout 2 head -n 1 <&3
  ) 2>/dev/null) || true
  case "$line" in "HTTP/"*" 200"*) return 0 ;; esac
  return 1
}

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
  port=$(_notary_free_port 4500 4599) || return 1
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
    if _notary_healthy "$port"; then
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
