#!/usr/bin/env bash
# Builds bin/signet and bin/pivsim. With a C compiler and the PC/SC headers
# (libpcsclite-dev) signet has YubiKey support. When they are missing and
# this user may install packages (root, or sudo, with apt-get), the build
# part of scripts/deps.sh installs them first; otherwise, or when that
# fails, signet is built without cgo and without YubiKey support, and says
# so (docs/install.md).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=${BIN:-bin}

cgo_ready() {
  command -v "${CC:-gcc}" >/dev/null 2>&1 && pkg-config --exists libpcsclite 2>/dev/null
}
can_install() {
  command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }
}

cgo=1
if [ "${CGO_ENABLED:-}" = 0 ]; then
  cgo=0
elif ! cgo_ready; then
  if can_install; then
    ./scripts/deps.sh build || echo "build: installing the PC/SC build packages failed" >&2
  fi
  cgo_ready || cgo=0
fi
if [ "$cgo" = 0 ] && [ "${CGO_ENABLED:-}" != 0 ]; then
  echo "build: no C compiler or PC/SC headers (libpcsclite-dev): building signet without YubiKey support" >&2
fi

CGO_ENABLED=$cgo "$GO" build -o "$BIN/signet" ./cmd/signet
CGO_ENABLED=0 "$GO" build -o "$BIN/pivsim" ./cmd/pivsim
