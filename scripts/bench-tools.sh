#!/usr/bin/env bash
# Installs the peers that make bench measures signet against, once, into
# ${SIGNET_TOOLS:-$HOME/.cache/signet-tools}/bin:
#   cosign v2.6.5    go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
#   notation v1.3.2  built from its module in the module cache (go install
#                    @version needs the proxy's version list, which some
#                    proxies refuse for notation)
# Prints the bin directory on stdout. Skips a tool whose binary is there.
set -euo pipefail
tools=${SIGNET_TOOLS:-$HOME/.cache/signet-tools}
bin="$tools/bin"
mkdir -p "$bin"

if [ ! -x "$bin/cosign" ]; then
  echo "bench-tools: installing cosign v2.6.5 (a few minutes, once)" >&2
  GOBIN="$bin" go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5 >&2
fi

if [ ! -x "$bin/notation" ]; then
  echo "bench-tools: installing notation v1.3.2 (once)" >&2
  mod=github.com/notaryproject/notation
  dir=$(cd /tmp && go mod download -json "$mod@v1.3.2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "bench-tools: go mod download $mod@v1.3.2 gave no directory" >&2; exit 1; }
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X $mod/internal/version.BuildMetadata= -X $mod/internal/version.GitCommit=001cc919603c1dc16c6aad387c94b4209cb9c901" \
    -o "$bin/notation.tmp" ./cmd/notation) >&2
  mv "$bin/notation.tmp" "$bin/notation"
fi
echo "$bin"
