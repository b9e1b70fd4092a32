# Starts a real Kubernetes API server for the admission webhook tests
# (tests/kube): Debian's etcd (etcd-server) and kube-apiserver v1.37.2, built
# from the Go module proxy by scripts/kube-tools.sh and cached in
# ~/.cache/signet-tools, on loopback under $SIGNET_TEST_WORK/kube. No
# controller manager, scheduler or kubelet: the API server stores Pods and
# Deployments, runs admission (webhooks included) and nothing more.
#   SIGNET_TEST_KUBE_APISERVER=https://127.0.0.1:PORT   the API server
#   SIGNET_TEST_KUBE_CA=FILE            the CA of its serving certificate
#   SIGNET_TEST_KUBE_CLIENT_CERT=FILE   a client certificate in system:masters
#   SIGNET_TEST_KUBE_CLIENT_KEY=FILE    and its key
# The certificates are made here with openssl (a throwaway CA, P-256 keys);
# authorization is RBAC, as in a cluster, which system:masters passes.
# Sourced by scripts/test.sh, which calls start_kube and stop_kube.
# By hand:
#   . scripts/lib/kube.sh; export SIGNET_TEST_WORK=$(mktemp -d); start_kube

. "$(dirname "${BASH_SOURCE[0]}")/../loopback.sh"

# _kube_certs DIR: a CA, the API server's serving certificate for
# 127.0.0.1, an admin client certificate and the service account key.
_kube_certs() {
  local d=$1
  (
    set -e
    cd "$d"
    umask 077
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key
    openssl req -x509 -new -key ca.key -days 2 -subj /CN=signet-test-kube-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -out ca.crt 2>/dev/null
    # leaf NAME SUBJECT EXTENSIONS
    leaf() {
      key "$1.key"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
        -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver /CN=kube-apiserver \
      "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
    leaf admin "/O=system:masters/CN=signet-test-admin" "extendedKeyUsage=clientAuth"
    key sa.key
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

# _kube_wait NAME PIDFILE LOG SECONDS CHECK...: runs CHECK until it
# succeeds, the process dies or SECONDS pass.
_kube_wait() {
  local name=$1 pidfile=$2 log=$3 limit=$4 deadline=$((SECONDS + $4))
  shift 4
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "kube: $name exited; log:" >&2
      tail -n 40 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "kube: $name not ready within ${limit}s; log:" >&2
  tail -n 40 "$log" >&2
  return 1
}

start_kube() {
  : "${SIGNET_TEST_WORK:?SIGNET_TEST_WORK must be set}"
  local here bin dir eport epeer aport start tool
  for tool in etcd openssl curl; do
    command -v "$tool" >/dev/null || {
      echo "kube: $tool not installed (scripts/deps.sh installs it)" >&2
      return 1
    }
  done
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  bin=$("$here/kube-tools.sh") || {
    echo "kube: building kube-apiserver failed" >&2
    return 1
  }
  dir="$SIGNET_TEST_WORK/kube"
  mkdir -p "$dir/pki"
  install -d -m 700 "$dir/etcd"
  _kube_certs "$dir/pki" || { echo "kube: making the certificates failed" >&2; return 1; }

  start=$SECONDS
  eport=$(loopback_free_port 4600 4699) || return 1
  epeer=$(loopback_free_port 4600 4699 "$eport") || return 1
  etcd --name signet-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
    --listen-peer-urls "http://127.0.0.1:$epeer" --initial-advertise-peer-urls "http://127.0.0.1:$epeer" \
    --initial-cluster "signet-test=http://127.0.0.1:$epeer" \
    --logger zap --log-level warn >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  _kube_wait etcd "$dir/etcd.pid" "$dir/etcd.log" 30 \
    curl -fsS --max-time 2 "http://127.0.0.1:$eport/health" || return 1
  echo "kube: etcd ready on 127.0.0.1:$eport after $((SECONDS - start))s" >&2

  start=$SECONDS
  aport=$(loopback_free_port 6440 6499) || return 1
  "$bin/kube-apiserver" \
    --bind-address=127.0.0.1 --secure-port="$aport" --advertise-address=127.0.0.1 \
    --etcd-servers="http://127.0.0.1:$eport" \
    --tls-cert-file="$dir/pki/apiserver.crt" --tls-private-key-file="$dir/pki/apiserver.key" \
    --client-ca-file="$dir/pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$dir/pki/sa.pub" \
    --service-account-signing-key-file="$dir/pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/24 \
    --authorization-mode=RBAC --endpoint-reconciler-type=none \
    --cert-dir="$dir/certs" \
    >"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/apiserver.pid"
  _kube_wait kube-apiserver "$dir/apiserver.pid" "$dir/apiserver.log" 120 \
    curl -fsS --max-time 5 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
    "https://127.0.0.1:$aport/readyz" || return 1
  echo "kube: kube-apiserver ready on 127.0.0.1:$aport after $((SECONDS - start))s" >&2

  export SIGNET_TEST_KUBE_APISERVER="https://127.0.0.1:$aport"
  export SIGNET_TEST_KUBE_CA="$dir/pki/ca.crt"
  export SIGNET_TEST_KUBE_CLIENT_CERT="$dir/pki/admin.crt"
  export SIGNET_TEST_KUBE_CLIENT_KEY="$dir/pki/admin.key"
}

stop_kube() {
  local dir="${SIGNET_TEST_WORK:-/nonexistent}/kube"
  # The API server first: it keeps calling etcd until it ends.
  loopback_stop "$dir/apiserver.pid"
  loopback_stop "$dir/etcd.pid"
  unset SIGNET_TEST_KUBE_APISERVER SIGNET_TEST_KUBE_CA \
    SIGNET_TEST_KUBE_CLIENT_CERT SIGNET_TEST_KUBE_CLIENT_KEY
  return 0
}
