# shellcheck shell=bash
# pcscd with the vpcd reader driver and two virtual YubiKeys (cmd/pivsim),
# for tests. Sourced by scripts/test.sh, which calls start_pcsc before the
# tests and stop_pcsc after. Needs root (a private mount namespace, see
# below) and the Debian packages pcscd, vsmartcard-vpcd and opensc.
#
# The test pcscd runs beside the system's, which is never stopped (a
# developer's own YubiKey stays usable): pcscd 1.9.9 always listens on
# /run/pcscd/pcscd.comm, so it runs in a mount namespace of its own where
# /run/pcscd is $SIGNET_TEST_WORK/pcsc/run, and the tests' clients find its
# socket there through PCSCLITE_CSOCK_NAME (read by libpcsclite). In that
# namespace pcscd's USB driver folder is empty, so it never opens a real
# reader; its only reader is vpcd, on a free port pair of its own, so two
# runs can share a machine.
#
# start_pcsc exports:
#   PCSCLITE_CSOCK_NAME           the test pcscd's socket, for every client
#   SIGNET_TEST_PCSC=1
#   SIGNET_TEST_PIVSIM_CTL        control server of pivsim (127.0.0.1:PORT)
#   SIGNET_TEST_PIVSIM_SERIAL     serial of the first card
#   SIGNET_TEST_PIVSIM_SERIAL2    serial of the second card
#   SIGNET_TEST_PIVSIM_READER     PC/SC reader name of the first card
#   SIGNET_TEST_PIVSIM_READER2    PC/SC reader name of the second card
#   SIGNET_TEST_PIVSIM_LOCK       lock file tests flock before using the cards
#   SIGNET_TEST_PIVSIM_BIN        the pivsim binary
#   SIGNET_TEST_ATTESTATION_CA    PEM file with both cards' attestation CAs

. "$(dirname "${BASH_SOURCE[0]}")/../loopback.sh"

_pcsc_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_pcsc_reader_name="Yubico YubiKey CCID pivsim"
# pcscd's compiled-in folders (pcscd --version: ipcdir, usbdropdir).
_pcsc_ipcdir=/run/pcscd
_pcsc_dropdir=/usr/lib/pcsc/drivers

_pcsc_fail() {
  echo "pcsc: $*" >&2
  [ -n "${_pcsc_dir:-}" ] && for f in "$_pcsc_dir"/pcscd.log "$_pcsc_dir"/pivsim.err; do
    [ -s "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }
  done
  stop_pcsc
  return 1
}

# _pcsc_cards_present prints how many pivsim readers hold a card.
_pcsc_cards_present() {
  opensc-tool --list-readers 2>/dev/null | grep -c "Yes.*$_pcsc_reader_name" || true
}

# _pcsc_free_port_pair prints a port P such that P and P+1 are free (vpcd
# listens on both), starting at a random place so that runs side by side
# seldom try the same one.
_pcsc_free_port_pair() {
  local p from=$((35963 + RANDOM % 400))
  for ((p = from; p < from + 200; p += 2)); do
    if [ "$(loopback_free_port "$p" "$p" 2>/dev/null)" = "$p" ] &&
      [ "$(loopback_free_port $((p + 1)) $((p + 1)) 2>/dev/null)" = $((p + 1)) ]; then
      echo "$p"
      return 0
    fi
  done
  echo "pcsc: no free port pair for vpcd near $from" >&2
  return 1
}

start_pcsc() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  local d="$SIGNET_TEST_WORK/pcsc"
  _pcsc_dir=$d
  mkdir -p "$d/reader.conf.d" "$d/bin" "$d/run" "$d/drivers" "$d/no-usb-drivers"
  for c in pcscd opensc-tool unshare mount; do
    command -v "$c" >/dev/null || { _pcsc_fail "$c not installed (scripts/deps.sh)"; return 1; }
  done
  local driver=$_pcsc_dropdir/serial/libifdvpcd.so
  [ -e "$driver" ] || { _pcsc_fail "$driver missing: install vsmartcard-vpcd"; return 1; }
  # The drop folder is hidden in pcscd's namespace: the driver is loaded
  # from a copy.
  cp "$driver" "$d/drivers/" || { _pcsc_fail "copying $driver"; return 1; }

  # vpcd listens on the port in DEVICENAME (and the next one for its
  # second slot); the cards dial in. The name makes the readers look like
  # a YubiKey's to ykman, yubico-piv-tool and anything that looks for
  # "YubiKey".
  local port hex
  port=$(_pcsc_free_port_pair) || { _pcsc_fail "no free port for vpcd"; return 1; }
  hex=$(printf '0x%X' "$port")
  cat >"$d/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "$_pcsc_reader_name"
DEVICENAME   /dev/null:$hex
LIBPATH      $d/drivers/libifdvpcd.so
CHANNELID    $hex
CONF

  # A private mount namespace: /run/pcscd is ours, the USB drivers are
  # gone. Nothing of the system's pcscd is touched (mkdir -p is a no-op
  # where pcscd is installed).
  mkdir -p "$_pcsc_ipcdir" "$_pcsc_dropdir"
  unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" "$2" && mount --bind "$3" "$4" && exec pcscd -f -c "$5"' \
    pcscd-ns "$d/run" "$_pcsc_ipcdir" "$d/no-usb-drivers" "$_pcsc_dropdir" "$d/reader.conf.d" \
    >"$d/pcscd.log" 2>&1 &
  _pcsc_pcscd_pid=$!
  echo "$_pcsc_pcscd_pid" >"$d/pcscd.pid"
  export PCSCLITE_CSOCK_NAME="$d/run/pcscd.comm"

  (cd "$_pcsc_root" && go build -o "$d/bin/pivsim" ./cmd/pivsim) ||
    { _pcsc_fail "building pivsim failed"; return 1; }

  local i
  for i in $(seq 100); do
    [ -S "$PCSCLITE_CSOCK_NAME" ] && break
    kill -0 "$_pcsc_pcscd_pid" 2>/dev/null || { _pcsc_fail "pcscd exited"; return 1; }
    sleep 0.1
  done
  [ -S "$PCSCLITE_CSOCK_NAME" ] || { _pcsc_fail "pcscd did not create $PCSCLITE_CSOCK_NAME"; return 1; }

  local serial1=${SIGNET_TEST_PIVSIM_SERIAL:-31000001} serial2=${SIGNET_TEST_PIVSIM_SERIAL2:-31000002}
  "$d/bin/pivsim" --state "$d/card1.json" --serial "$serial1" \
    --second-state "$d/card2.json" --second-serial "$serial2" \
    --addr "127.0.0.1:$port" --second-addr "127.0.0.1:$((port + 1))" \
    --ctl 127.0.0.1:0 --ctl-file "$d/ctl.addr" \
    >"$d/pivsim.out" 2>"$d/pivsim.err" &
  _pcsc_pivsim_pid=$!
  echo "$_pcsc_pivsim_pid" >"$d/pivsim.pid"

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
  echo "pcsc: pcscd ($PCSCLITE_CSOCK_NAME, vpcd on $port) and two virtual YubiKeys ($serial1, $serial2) ready; control at $SIGNET_TEST_PIVSIM_CTL" >&2
}

stop_pcsc() {
  local pid f
  for f in pivsim pcscd; do
    pid=
    [ -n "${_pcsc_dir:-}" ] && [ -f "$_pcsc_dir/$f.pid" ] && pid=$(cat "$_pcsc_dir/$f.pid")
    [ -n "$pid" ] || continue
    # A process group of its own under scripts/test.sh (set -m): the
    # group, else the process.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || { rm -f "$_pcsc_dir/$f.pid"; continue; }
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$_pcsc_dir/$f.pid"
  done
  _pcsc_pivsim_pid= _pcsc_pcscd_pid=
  unset PCSCLITE_CSOCK_NAME SIGNET_TEST_PCSC SIGNET_TEST_PIVSIM_CTL SIGNET_TEST_PIVSIM_SERIAL SIGNET_TEST_PIVSIM_SERIAL2 \
    SIGNET_TEST_PIVSIM_READER SIGNET_TEST_PIVSIM_READER2 SIGNET_TEST_PIVSIM_LOCK \
    SIGNET_TEST_PIVSIM_BIN SIGNET_TEST_ATTESTATION_CA
  return 0
}
