# shellcheck shell=bash
# The tuf-js check: an independent TUF client (tests/tufjs/verify.mjs) that
# tuf/tuftest/tufjs runs against what signet publishes. Nothing runs in the
# background; start_tufjs only makes sure tuf-js is installed and exports
# SIGNET_TEST_TUFJS, the absolute path of the script.

start_tufjs() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/tufjs" && pwd)" || {
    echo "tufjs: tests/tufjs not found" >&2; return 1; }
  command -v node >/dev/null || { echo "tufjs: node is not installed (need node >= 20.17)" >&2; return 1; }
  command -v npm >/dev/null || { echo "tufjs: npm is not installed" >&2; return 1; }
  if [ ! -d "$dir/node_modules/tuf-js" ]; then
    echo "tufjs: npm ci in tests/tufjs" >&2
    (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --silent) || {
      echo "tufjs: npm ci failed in $dir" >&2; return 1; }
  fi
  # Bounded self-check: the script loads tuf-js and answers a usage error.
  local out
  out=$(cd "$dir" && timeout 20 node verify.mjs 2>&1) || true
  case "$out" in
    *'"ok":false'*) ;;
    *) echo "tufjs: verify.mjs does not run: $out" >&2; return 1 ;;
  esac
  export SIGNET_TEST_TUFJS="$dir/verify.mjs"
}

stop_tufjs() {
  :
}
