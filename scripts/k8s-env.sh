#!/usr/bin/env bash
# Local Kubernetes for the operator tests: a real etcd (Debian's etcd-server), kube-apiserver
# and kube-controller-manager built from the k8s.io/kubernetes Go module at a pinned version, and
# a real node on this machine (scripts/k8s-node.sh: scheduler, kubelet, containerd, gVisor).
#
#   bash scripts/k8s-env.sh [up]    build if needed, start, write the kubeconfig (idempotent)
#   bash scripts/k8s-env.sh build   only build/cache the binaries
#   bash scripts/k8s-env.sh images [--force]  export templates, guest and pause images into the node
#   bash scripts/k8s-env.sh down    stop what `up` started, by the PIDs it recorded
#   bash scripts/k8s-env.sh status
#
# Everything lives under ~/.cache/agentbox/k8s; the kubeconfig is ~/.cache/agentbox/k8s/kubeconfig.
# AGENTBOX_K8S_NODE=0 starts the control plane alone (tests then play the kubelet).
set -euo pipefail

K8S_VERSION="${AGENTBOX_K8S_VERSION:-v1.33.13}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
ROOT="${AGENTBOX_K8S_HOME:-$HOME/.cache/agentbox/k8s}"
BIN="$ROOT/$K8S_VERSION/bin"
RUN="$ROOT/run"
PKI="$ROOT/pki"
KUBECONFIG_OUT="$ROOT/kubeconfig"
# Fixed loopback ports; override when something else already listens there.
ETCD_PORT="${AGENTBOX_K8S_ETCD_PORT:-23790}"
API_PORT="${AGENTBOX_K8S_API_PORT:-16443}"

log() { echo "k8s-env: $*" >&2; }
# shellcheck source=scripts/k8s-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/k8s-node.sh"

ensure_etcd() {
  if command -v etcd >/dev/null 2>&1; then return; fi
  log "installing etcd-server from apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
}

KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

build() {
  ensure_etcd
  build_kube
  if node_enabled; then build_node; fi
}

build_kube() {
  local cmd missing=0 t0=$SECONDS
  for cmd in "${KUBE_COMMANDS[@]}"; do [[ -x "$BIN/$cmd" ]] || missing=1; done
  ((missing)) || return 0
  command -v go >/dev/null || { log "go toolchain missing"; exit 1; }
  local mod="$ROOT/$K8S_VERSION/src"
  mkdir -p "$mod" "$BIN"
  log "building ${KUBE_COMMANDS[*]} $K8S_VERSION (slow, cached afterwards)"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths,
  # which do not exist outside its repository; a consuming module must replace each with the
  # published tag. The list comes from the module's own go.mod.
  local gomod
  rm -f "$mod/go.mod" "$mod/go.sum"
  (cd "$mod" && go mod init agentbox.local/k8sbuild >/dev/null 2>&1)
  gomod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module agentbox.local/k8sbuild"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$gomod"
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
EOF
  (
    cd "$mod"
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go get "k8s.io/kubernetes@$K8S_VERSION"
    GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$BIN/" "${KUBE_COMMANDS[@]/#/k8s.io/kubernetes/cmd/}"
    # The tests drive `kubectl scale`; build it too where the machine has none.
    if ! command -v kubectl >/dev/null 2>&1; then
      GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$BIN/" k8s.io/kubernetes/cmd/kubectl
    fi
  )
  log "built into $BIN in $((SECONDS - t0))s"
}

pki() {
  [[ -f "$PKI/admin.crt" ]] && return
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=agentbox-local-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    cat >apiserver.ext <<EOF
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EOF
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    echo "extendedKeyUsage=clientAuth" >client.ext
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=agentbox-admin" -keyout admin.key -out admin.csr 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

kubeconfig() {
  # Written to a temp file and renamed: tests read it while another process runs `up`.
  cat >"$KUBECONFIG_OUT.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: agentbox-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/admin.crt")
    client-key-data: $(base64 -w0 <"$PKI/admin.key")
contexts:
- name: agentbox-local
  context: {cluster: agentbox-local, user: admin}
current-context: agentbox-local
EOF
  mv -f "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
}

# Alive = the recorded PID runs the expected program (a reused PID after a reboot is not ours).
alive() {
  [[ -f "$RUN/$1.pid" ]] || return 1
  local pid
  pid="$(cat "$RUN/$1.pid")"
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1"
}

# Stops a daemon `start` started, by its recorded PID (TERM, then KILL after 10 s).
stop() {
  local pid i
  [[ -f "$RUN/$1.pid" ]] || return 0
  pid="$(cat "$RUN/$1.pid")"
  if alive "$1"; then
    kill "$pid"
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$RUN/$1.pid"
}

# A daemon started by an older version of this script, without `flag`, is restarted with it.
restart_without() { # name, flag
  if alive "$1" && ! tr '\0' ' ' <"/proc/$(cat "$RUN/$1.pid")/cmdline" | grep -q -- "$2"; then
    log "restarting $1: it runs without $2"
    stop "$1"
  fi
}

start() { # name, then command
  local name="$1"; shift
  alive "$name" && return
  # fd 9 (the lock) must not leak into the daemons, or the next caller would wait forever.
  setsid "$@" >"$RUN/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/$name.pid"
}

wait_for() { # description, seconds, command
  local what="$1" secs="$2"; shift 2
  local i
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  log "$what did not become ready in ${secs}s; see $RUN/*.log"
  return 1
}

up() {
  build
  pki
  node_pki
  mkdir -p "$RUN" "$ROOT/etcd"
  kubeconfig
  start etcd etcd --data-dir "$ROOT/etcd" --name agentbox \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "agentbox=http://127.0.0.1:$((ETCD_PORT + 1))" \
    --quota-backend-bytes 4294967296 --unsafe-no-fsync
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
  # exec, logs and port-forward: the API server calls the kubelet with its own client cert.
  restart_without kube-apiserver --kubelet-client-certificate
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --cert-dir "$PKI" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
    --enable-priority-and-fairness=false --disable-admission-plugins ServiceAccount \
    --endpoint-reconciler-type none \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP
  wait_for kube-apiserver 90 curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz"
  # Controllers the tests rely on: garbage collection (ownerReference cascades, foreground
  # deletion), namespace cleanup, PersistentVolumeClaim binding and the node's lifecycle taints.
  restart_without kube-controller-manager persistentvolume-binder
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$KUBECONFIG_OUT" --authentication-kubeconfig "$KUBECONFIG_OUT" \
    --authorization-kubeconfig "$KUBECONFIG_OUT" --bind-address 127.0.0.1 --secure-port 0 \
    --leader-elect=false --controllers garbagecollector,namespace,serviceaccount-token,persistentvolume-binder,nodelifecycle \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt"
  sleep 1
  alive kube-controller-manager || { log "kube-controller-manager exited; see $RUN/kube-controller-manager.log"; exit 1; }
  if node_enabled; then node_up; fi
  log "ready: KUBECONFIG=$KUBECONFIG_OUT"
}

down() {
  local name
  node_down
  for name in kube-controller-manager kube-apiserver etcd; do stop "$name"; done
  log "stopped"
}

status() {
  local name
  for name in etcd kube-apiserver kube-controller-manager "${NODE_COMPONENTS[@]}"; do
    if alive "$name"; then echo "$name running (pid $(cat "$RUN/$name.pid"))"; else echo "$name stopped"; fi
  done
}

# One caller at a time: parallel test processes all run `up`.
mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9

case "${1:-up}" in
  up) up ;;
  build) build ;;
  images) images "${2:-}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 [up|build|images|down|status]" >&2; exit 2 ;;
esac
