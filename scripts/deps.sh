#!/usr/bin/env bash
# Installs what signet's build and tests need on a fresh Debian machine, and
# nothing that is already there. Safe to run again.
#
#   scripts/deps.sh          everything make test needs
#   scripts/deps.sh build    only what the build with YubiKey support needs
#                            (a C compiler, pkg-config, the PC/SC headers)
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(gcc libc6-dev pkg-config libpcsclite-dev)
pkgs=("${build_pkgs[@]}" pcscd vsmartcard-vpcd docker-registry
      yubico-piv-tool yubikey-manager opensc apache2-utils ca-certificates
      etcd-server openssl curl)
[ "${1:-}" = build ] && pkgs=("${build_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = build ] && exit 0

# Debian starts pcscd through systemd socket activation; on machines without
# systemd nothing starts it, and the test script runs its own.
command -v pcscd >/dev/null || { echo "deps: pcscd missing after install" >&2; exit 1; }

if [ -f tests/tufjs/package-lock.json ] && [ ! -d tests/tufjs/node_modules/tuf-js ]; then
  echo "deps: npm ci in tests/tufjs" >&2
  (cd tests/tufjs && npm ci --no-audit --no-fund --silent)
fi

go mod download
(cd tests/kube && go mod download)

# kube-apiserver for tests/kube, built once into ~/.cache/signet-tools
# (minutes on an empty cache; nothing when it is there).
scripts/kube-tools.sh >/dev/null
