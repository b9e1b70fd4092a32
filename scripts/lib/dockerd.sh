# shellcheck shell=bash
# Starts a docker daemon of the tests' own (Debian's docker.io) on a unix
# socket under $SIGNET_TEST_WORK/dockerd, with no network set-up (no bridge,
# no iptables), its own data and exec roots, and the containerd it starts
# itself:
#   SIGNET_TEST_DOCKER_HOST=unix://$SIGNET_TEST_WORK/dockerd/docker.sock
# The tests point DOCKER_HOST at it; the machine's own docker daemon, if
# any, is never touched. dockerd treats registries on 127.0.0.0/8 as
# insecure, so it pulls from and pushes to $SIGNET_TEST_REGISTRY over plain
# HTTP. Needs root (dockerd does).
# Sourced by scripts/test.sh, which calls start_dockerd and stop_dockerd.
# By hand:
#   . scripts/lib/dockerd.sh; export SIGNET_TEST_WORK=$(mktemp -d); start_dockerd

# _dockerd_start DIR [DRIVER]: starts dockerd under DIR (with the storage
# driver DRIVER, else dockerd's choice) and waits up to 30 s until it
# answers; returns 1 when it exited or did not answer.
_dockerd_start() {
  local dir=$1 driver=${2:-} args deadline
  mkdir -p "$dir/data" "$dir/exec"
  args=(--bridge=none --iptables=false --ip6tables=false
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid"
        -H "unix://$dir/docker.sock")
  [ -n "$driver" ] && args+=(--storage-driver "$driver")
  dockerd "${args[@]}" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -S "$dir/docker.sock" ] &&
      timeout 5 docker --host "unix://$dir/docker.sock" version --format '{{.Server.Version}}' >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_dockerd() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  command -v dockerd >/dev/null || {
    echo "dockerd: dockerd not installed (docker.io; scripts/deps.sh installs it)" >&2
    return 1
  }
  command -v docker >/dev/null || {
    echo "dockerd: no docker command line (docker.io; scripts/deps.sh installs it)" >&2
    return 1
  }
  local dir="$SIGNET_TEST_WORK/dockerd" started=$SECONDS
  if ! _dockerd_start "$dir"; then
    # overlay2 does not work everywhere (inside some containers, on some
    # file systems): vfs always does, slower.
    echo "dockerd: did not start with its default storage driver; trying vfs. Its log:" >&2
    tail -n 5 "$dir/log" >&2
    stop_dockerd
    rm -rf "$dir"
    _dockerd_start "$dir" vfs || {
      echo "dockerd: did not start; log:" >&2
      cat "$dir/log" >&2
      stop_dockerd
      return 1
    }
  fi
  echo "dockerd: ready in $((SECONDS - started))s on unix://$dir/docker.sock" >&2
  export SIGNET_TEST_DOCKER_HOST="unix://$dir/docker.sock"
}

stop_dockerd() {
  local dir="${SIGNET_TEST_WORK:-/nonexistent}/dockerd" pid i
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    # dockerd stops the containerd it started and unmounts its layers on
    # SIGTERM; give it 20 s.
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
  fi
  # A dockerd killed with -9 leaves its containerd behind.
  if [ -f "$dir/exec/containerd/containerd.pid" ]; then
    pid=$(cat "$dir/exec/containerd/containerd.pid")
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    rm -f "$dir/exec/containerd/containerd.pid"
  fi
  unset SIGNET_TEST_DOCKER_HOST
  return 0
}
