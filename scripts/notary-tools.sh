#!/usr/bin/env bash
# Installs the Notary v1 server and client (v0.7.0, built from source with
# the machine's Go) that signet's import tests run against, and prints the
# directory holding them. Skips the build when both binaries are there.
#   scripts/notary-tools.sh [DIR]
# DIR defaults to $SIGNET_TOOLS_DIR/notary-v0.7.0, where SIGNET_TOOLS_DIR
# defaults to ~/.cache/signet-tools. A clean cache downloads the modules
# from the Go module proxy and builds both in about half a minute.
set -euo pipefail
version=v0.7.0
dir=${1:-${SIGNET_TOOLS_DIR:-$HOME/.cache/signet-tools}/notary-$version}
if [ -x "$dir/notary-server" ] && [ -x "$dir/notary" ]; then
  echo "$dir"
  exit 0
fi
command -v go >/dev/null || { echo "notary-tools: go is not on PATH" >&2; exit 1; }
mkdir -p "$dir"
echo "notary-tools: building notary-server and notary $version into $dir" >&2
# GOFLAGS/GOWORK from the caller must not apply to a module outside signet.
GOBIN="$dir" GOWORK=off GOFLAGS=-buildvcs=false go install \
  "github.com/theupdateframework/notary/cmd/notary-server@$version" \
  "github.com/theupdateframework/notary/cmd/notary@$version" >&2
echo "$dir"
