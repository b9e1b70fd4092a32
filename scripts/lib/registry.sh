# Starts two real distribution registries (Debian's docker-registry 2.8) on
# loopback for the tests, under $SIGNET_TEST_WORK/registry:
#   SIGNET_TEST_REGISTRY=127.0.0.1:PORT        no auth, deletes enabled
#   SIGNET_TEST_REGISTRY_AUTH=127.0.0.1:PORT2  htpasswd (bcrypt) basic auth,
#     user SIGNET_TEST_REGISTRY_USER, password SIGNET_TEST_REGISTRY_PASSWORD
# Sourced by scripts/test.sh, which calls start_registry and stop_registry.
# By hand:
#   . scripts/lib/registry.sh; export SIGNET_TEST_WORK=$(mktemp -d); start_registry

. "$(dirname "${BASH_SOURCE[0]}")/../loopback.sh"

# _registry_start NAME PORT [HTPASSWD]: writes NAME's config, starts it and
# waits up to 20 s for /v2/ to answer (200, or 401 with auth).
_registry_start() {
  local name=$1 port=$2 htpasswd=${3:-} dir="$SIGNET_TEST_WORK/registry/$1"
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "  accesslog:"
    echo "    disabled: true"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: signet-test-$RANDOM$RANDOM"
    if [ -n "$htpasswd" ]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: signet-test"
      echo "    path: $htpasswd"
    fi
  } >"$dir/config.yml"
  # The races of internal/app send it thousands of requests, and its
  # garbage collector is a good part of its CPU: GOGC=400 trades memory
  # (a few hundred MB at most) for about 15% of that CPU.
  GOGC=400 docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"

  local want=200 code deadline=$((SECONDS + 20))
  [ -n "$htpasswd" ] && want=401
  while [ "$SECONDS" -lt "$deadline" ]; do
    code=$(loopback_http_status "$port" /v2/)
    [ "$code" = "$want" ] && return 0
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "registry: $name exited; log:" >&2
      cat "$dir/log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "registry: $name did not answer on 127.0.0.1:$port within 20s; log:" >&2
  cat "$dir/log" >&2
  return 1
}

start_registry() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  command -v docker-registry >/dev/null || {
    echo "registry: docker-registry not installed (scripts/deps.sh installs it)" >&2
    return 1
  }
  command -v htpasswd >/dev/null || {
    echo "registry: htpasswd not installed (apache2-utils; scripts/deps.sh installs it)" >&2
    return 1
  }

  local port port2 pw
  port=$(loopback_free_port 5100 5199) || return 1
  _registry_start plain "$port" || return 1

  port2=$(loopback_free_port 5100 5199 "$port") || return 1
  pw="pw-$RANDOM$RANDOM$RANDOM"
  mkdir -p "$SIGNET_TEST_WORK/registry/auth"
  htpasswd -Bbn signet "$pw" >"$SIGNET_TEST_WORK/registry/auth/htpasswd" || return 1
  _registry_start auth "$port2" "$SIGNET_TEST_WORK/registry/auth/htpasswd" || return 1

  export SIGNET_TEST_REGISTRY="127.0.0.1:$port"
  export SIGNET_TEST_REGISTRY_AUTH="127.0.0.1:$port2"
  export SIGNET_TEST_REGISTRY_USER=signet
  export SIGNET_TEST_REGISTRY_PASSWORD="$pw"
}

stop_registry() {
  local name pidfile pid i
  for name in plain auth; do
    pidfile="${SIGNET_TEST_WORK:-/nonexistent}/registry/$name/pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  unset SIGNET_TEST_REGISTRY SIGNET_TEST_REGISTRY_AUTH \
    SIGNET_TEST_REGISTRY_USER SIGNET_TEST_REGISTRY_PASSWORD
  return 0
}
