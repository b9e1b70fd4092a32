# Shell helpers for services on 127.0.0.1, sourced by scripts/lib/*.sh and
# scripts/demo.sh. They use bash's /dev/tcp only, so nothing else needs
# installing.

# loopback_free_port FROM TO [SKIP]: prints a port in FROM..TO that nothing
# listens on (a connect test), other than SKIP.
loopback_free_port() {
  local p
  for ((p = $1; p <= $2; p++)); do
    [ "$p" = "${3:-}" ] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port in $1..$2 on 127.0.0.1" >&2
  return 1
}

# loopback_http_status PORT PATH: prints the HTTP status of GET PATH on
# 127.0.0.1:PORT, or nothing when nothing answers within 2 seconds.
loopback_http_status() {
  local line=""
  line=$( (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    timeout 2 head -n 1 <&3
  ) 2>/dev/null) || true
  line=${line#HTTP/* }
  echo "${line%% *}"
}

# loopback_stop PIDFILE: stops the process PIDFILE names (TERM, then KILL
# after 10 s) and removes PIDFILE. Nothing to do without PIDFILE.
loopback_stop() {
  local pid i
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  if kill "$pid" 2>/dev/null; then
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
