# shellcheck shell=bash
# pcscd with the vpcd reader driver and two virtual YubiKeys (cmd/pivsim),
# for tests. Sourced by scripts/test.sh, which calls start_pcsc before the
# tests and stop_pcsc after. Needs root (pcscd's socket lives in /run/pcscd)
# and the Debian packages pcscd, vsmartcard-vpcd and opensc.
#
# start_pcsc exports:
#   SIGNET_TEST_PCSC=1
#   SIGNET_TEST_PIVSIM_CTL        control server of pivsim (127.0.0.1:PORT)
#   SIGNET_TEST_PIVSIM_SERIAL     serial of the first card
#   SIGNET_TEST_PIVSIM_SERIAL2    serial of the second card
#   SIGNET_TEST_PIVSIM_READER     PC/SC reader name of the first card
#   SIGNET_TEST_PIVSIM_READER2    PC/SC reader name of the second card
#   SIGNET_TEST_PIVSIM_LOCK       lock file tests flock before using the cards
#   SIGNET_TEST_PIVSIM_BIN        the pivsim binary
#   SIGNET_TEST_ATTESTATION_CA    PEM file with both cards' attestation CAs

_pcsc_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_pcsc_reader_name="Yubico YubiKey CCID pivsim"
_pcsc_socket=/run/pcscd/pcscd.comm

_pcsc_fail() {
  echo "pcsc: $*" >&2
  [ -n "${_pcsc_dir:-}" ] && for f in "$_pcsc_dir"/pcscd.log "$_pcsc_dir"/pivsim.err; do
    [ -s "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }
  done
  stop_pcsc
  return 1
}

# _pcsc_stop_others stops a pcscd this script did not start: only one can
# run per machine. Under systemd, Debian starts it by socket activation.
_pcsc_stop_others() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl stop pcscd.socket pcscd.service >/dev/null 2>&1 || true
  fi
  local pids
  pids=$(pidof pcscd 2>/dev/null || true)
  if [ -n "$pids" ]; then
    echo "pcsc: stopping the running pcscd ($pids)" >&2
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
      pidof pcscd >/dev/null 2>&1 || break
      sleep 0.1
    done
  fi
  if pidof pcscd >/dev/null 2>&1; then
    echo "pcsc: pcscd still running" >&2
    return 1
  fi
  rm -f "$_pcsc_socket" /run/pcscd/pcscd.pid
}

# _pcsc_cards_present prints how many pivsim readers hold a card.
_pcsc_cards_present() {
  opensc-tool --list-readers 2>/dev/null | grep -c "Yes.*$_pcsc_reader_name" || true
}

start_pcsc() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  local d="$SIGNET_TEST_WORK/pcsc"
  _pcsc_dir=$d
  mkdir -p "$d/reader.conf.d" "$d/bin"
  for c in pcscd opensc-tool; do
    command -v "$c" >/dev/null || { _pcsc_fail "$c not installed (scripts/deps.sh)"; return 1; }
  done
  local driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
  [ -e "$driver" ] || { _pcsc_fail "$driver missing: install vsmartcard-vpcd"; return 1; }

  # vpcd listens on 0x8C7B = 35963 (and 35964 for its second slot); the
  # cards dial in. The name makes the readers look like a YubiKey's to
  # ykman, yubico-piv-tool and anything that looks for "YubiKey".
  cat >"$d/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "$_pcsc_reader_name"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      $driver
CHANNELID    0x8C7B
CONF

  _pcsc_stop_others || { _pcsc_fail "cannot stop the running pcscd"; return 1; }
  pcscd -f -c "$d/reader.conf.d" >"$d/pcscd.log" 2>&1 &
  _pcsc_pcscd_pid=$!

  (cd "$_pcsc_root" && go build -o "$d/bin/pivsim" ./cmd/pivsim) ||
    { _pcsc_fail "building pivsim failed"; return 1; }

  local i
  for i in $(seq 100); do
    [ -S "$_pcsc_socket" ] && break
    kill -0 "$_pcsc_pcscd_pid" 2>/dev/null || { _pcsc_fail "pcscd exited"; return 1; }
    sleep 0.1
  done
  [ -S "$_pcsc_socket" ] || { _pcsc_fail "pcscd did not create $_pcsc_socket"; return 1; }

  local serial1=${SIGNET_TEST_PIVSIM_SERIAL:-31000001} serial2=${SIGNET_TEST_PIVSIM_SERIAL2:-31000002}
  "$d/bin/pivsim" --state "$d/card1.json" --serial "$serial1" \
    --second-state "$d/card2.json" --second-serial "$serial2" \
    --ctl 127.0.0.1:0 --ctl-file "$d/ctl.addr" \
    >"$d/pivsim.out" 2>"$d/pivsim.err" &
  _pcsc_pivsim_pid=$!

  for i in $(seq 200); do
    if grep -q "pivsim: ready" "$d/pivsim.out" 2>/dev/null && [ "$(_pcsc_cards_present)" -ge 2 ]; then
      break
    fi
    kill -0 "$_pcsc_pivsim_pid" 2>/dev/null || { _pcsc_fail "pivsim exited"; return 1; }
    sleep 0.1
  done
  [ "$(_pcsc_cards_present)" -ge 2 ] || { _pcsc_fail "the virtual cards did not show up in pcscd within 20 s"; return 1; }

  "$d/bin/pivsim" ca --state "$d/card1.json" >"$d/attestation-ca.pem" &&
    "$d/bin/pivsim" ca --state "$d/card2.json" >>"$d/attestation-ca.pem" ||
    { _pcsc_fail "writing the attestation CA failed"; return 1; }
  : >"$d/cards.lock"

  export SIGNET_TEST_PCSC=1
  SIGNET_TEST_PIVSIM_CTL=$(cat "$d/ctl.addr")
  export SIGNET_TEST_PIVSIM_CTL
  export SIGNET_TEST_PIVSIM_SERIAL=$serial1
  export SIGNET_TEST_PIVSIM_SERIAL2=$serial2
  export SIGNET_TEST_PIVSIM_READER="$_pcsc_reader_name 00 00"
  export SIGNET_TEST_PIVSIM_READER2="$_pcsc_reader_name 00 01"
  export SIGNET_TEST_PIVSIM_LOCK="$d/cards.lock"
  export SIGNET_TEST_PIVSIM_BIN="$d/bin/pivsim"
  export SIGNET_TEST_ATTESTATION_CA="$d/attestation-ca.pem"
  echo "pcsc: pcscd and two virtual YubiKeys ($serial1, $serial2) ready; control at $SIGNET_TEST_PIVSIM_CTL" >&2
}

stop_pcsc() {
  local pid
  for pid in "${_pcsc_pivsim_pid:-}" "${_pcsc_pcscd_pid:-}"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  _pcsc_pivsim_pid= _pcsc_pcscd_pid=
  unset SIGNET_TEST_PCSC SIGNET_TEST_PIVSIM_CTL SIGNET_TEST_PIVSIM_SERIAL SIGNET_TEST_PIVSIM_SERIAL2 \
    SIGNET_TEST_PIVSIM_READER SIGNET_TEST_PIVSIM_READER2 SIGNET_TEST_PIVSIM_LOCK \
    SIGNET_TEST_PIVSIM_BIN SIGNET_TEST_ATTESTATION_CA
  return 0
}
