# A real Kubernetes node beside the control plane of scripts/k8s-env.sh (sourced by it, not run
# alone): kube-scheduler and kubelet from the same k8s.io/kubernetes version, containerd 2.x with
# its CRI plugin, gVisor's containerd shim (runsc) and Debian's runc, CNI from Debian's
# containernetworking-plugins on a bridge without NAT, Rancher's local-path-provisioner for
# dynamic PersistentVolumes, and images imported into containerd without a registry.
#
# Every path lives under $ROOT/node and every port and name is derived from the instance's
# settings, so a second instance (AGENTBOX_K8S_HOME + ports) cannot clash with the first. Only
# one node should run on a machine at a time: the kubelet manages the host's pod cgroups.
#
# Its scheduler is named agentbox-real-node and schedules only pods that ask for it
# (spec.schedulerName): the tests that play the kubelet through the API share the API server, and
# their pods must stay untouched (a scheduler would write PodScheduled=False over their status, a
# kubelet would run them).

CONTAINERD_VERSION="${AGENTBOX_CONTAINERD_VERSION:-v2.4.2}"
LOCAL_PATH_VERSION="${AGENTBOX_LOCAL_PATH_VERSION:-v0.0.30}"
# The shim must come from the same gVisor commit as runsc: one pin, in build-runsc.sh.
GVISOR_VERSION="$(sed -n 's/^VERSION="\${RUNSC_VERSION:-\(.*\)}"$/\1/p' "$(dirname "${BASH_SOURCE[0]}")/build-runsc.sh")"
CACHE="${AGENTBOX_CACHE:-$HOME/.cache/agentbox}"
RUNSC="$CACHE/runsc/$GVISOR_VERSION/runsc"
NODE_BIN="$ROOT/node-bin"
NODE="$ROOT/node"
NODE_NAME="${AGENTBOX_K8S_NODE_NAME:-agentbox-node}"
KUBELET_PORT="${AGENTBOX_K8S_KUBELET_PORT:-10250}"
KUBELET_HEALTHZ_PORT="${AGENTBOX_K8S_KUBELET_HEALTHZ_PORT:-10248}"
# Clear of the test networks (10.100-107.x), the engine's 10.213.0.0/16 and the services' 10.0.0.0/24.
POD_SUBNET="${AGENTBOX_K8S_POD_SUBNET:-10.244.$((API_PORT % 256)).0/24}"
POD_GATEWAY="${POD_SUBNET%.0/24}.1"
BRIDGE="abk$API_PORT"
CTR_SOCK="$NODE/containerd/containerd.sock"
SCHEDULER_NAME=agentbox-real-node
PAUSE_IMAGE="agentbox.local/pause:3.10"
GUEST_IMAGE="agentbox.local/guest:0.1.0"
NODE_COMPONENTS=(kube-scheduler containerd kubelet local-path-provisioner)
# Memory hibernation (docs/kubernetes-hibernation.md): the shim runs agentbox's runsc wrapper,
# which restores a pod granted a snapshot under SNAPSHOTS (the node agent's directory).
RUNSC_WRAPPER="$NODE/runsc-wrapper"
SNAPSHOTS="$NODE/snapshots"

node_enabled() { [[ "${AGENTBOX_K8S_NODE:-1}" != 0 ]]; }

go_install() { # dir, packages…: a Go module's commands, built into dir (cached in ~/.cache/agentbox/go)
  local dir="$1"; shift
  mkdir -p "$dir"
  GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$dir" \
    go install -trimpath -ldflags "-s -w" -tags "no_btrfs no_devmapper no_zfs" "$@"
}

timed() { # what, command…: runs it and reports how long it took
  local what="$1" t0=$SECONDS; shift
  log "building $what…"
  "$@"
  log "built $what in $((SECONDS - t0))s"
}

build_node() {
  local pkg missing=()
  for pkg in runc iptables containernetworking-plugins busybox-static gcc libc6-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} from apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [[ ! -x "$RUNSC" ]]; then bash "$(dirname "${BASH_SOURCE[0]}")/build-runsc.sh"; fi
  local ctd="$NODE_BIN/containerd/$CONTAINERD_VERSION" shim="$NODE_BIN/gvisor-shim/$GVISOR_VERSION"
  local lpp="$NODE_BIN/local-path-provisioner/$LOCAL_PATH_VERSION"
  [[ -x "$ctd/containerd-shim-runc-v2" ]] || timed "containerd $CONTAINERD_VERSION" go_install "$ctd" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  [[ -x "$shim/containerd-shim-runsc-v1" ]] || timed "gVisor's containerd shim $GVISOR_VERSION" build_shim "$shim"
  [[ -x "$lpp/local-path-provisioner" ]] || timed "local-path-provisioner $LOCAL_PATH_VERSION" go_install "$lpp" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION"
  # The pod sandbox's pause process, from the k8s.io/kubernetes module's own source.
  if [[ ! -x "$NODE_BIN/pause/$K8S_VERSION/pause" ]]; then
    local src
    src="$(cd "$ROOT/$K8S_VERSION/src" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
    mkdir -p "$NODE_BIN/pause/$K8S_VERSION"
    gcc -Os -Wall -Werror -static -DVERSION="$K8S_VERSION" -o "$NODE_BIN/pause/$K8S_VERSION/pause" "$src"
  fi
}

# One change to the shim (the rest is the published module, hard-linked from the module cache):
# it sets its serving process's oom_score_adj to -999, which needs CAP_SYS_RESOURCE, and gives
# up when refused. Hosts without that capability (VMs and containers such as this development
# machine) could then run no gVisor pod; the patched shim keeps the score it inherited, as
# containerd's own shims do in user namespaces.
build_shim() { # out dir
  local src="$1/src" mod
  mod="$(GOMODCACHE="$CACHE/go/mod" GOFLAGS=-mod=mod go mod download -json "gvisor.dev/gvisor@$GVISOR_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  rm -rf "$src" && mkdir -p "$src" && cp -al "$mod" "$src/gvisor" && chmod -R u+w "$src/gvisor"
  local file="$src/gvisor/pkg/shim/v1/manager.go"
  sed 's/\(if err := sys.SetOOMScore(cmd.Process.Pid, oomScoreMax); err != nil\) {/\1 \&\& !os.IsPermission(err) {/' "$mod/pkg/shim/v1/manager.go" >"$file.new"
  grep -q 'oomScoreMax); err != nil && !os.IsPermission(err) {' "$file.new" || { log "gVisor's shim source changed; update build_shim"; exit 1; }
  rm "$file" && mv "$file.new" "$file"
  cp "$mod/go.sum" "$src/go.sum"
  printf 'module agentbox.local/shimbuild\n\ngo 1.24\n\nrequire gvisor.dev/gvisor %s\n\nreplace gvisor.dev/gvisor => ./gvisor\n' "$GVISOR_VERSION" >"$src/go.mod"
  (cd "$src" && GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w" -o "$1/containerd-shim-runsc-v1" gvisor.dev/gvisor/shim)
  rm -rf "$src"
}

# Binaries by role, for the functions below.
ctd_bin() { echo "$NODE_BIN/containerd/$CONTAINERD_VERSION/$1"; }
ctr() { "$(ctd_bin ctr)" --address "$CTR_SOCK" --namespace k8s.io "$@"; }

node_pki() {
  [[ -f "$PKI/kubelet-serving.crt" && -f "$PKI/kubelet.crt" && -f "$PKI/apiserver-kubelet-client.crt" ]] && return
  (
    cd "$PKI"
    sign() { # name, subject, ext
      openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      echo "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    }
    # The Node authorizer recognises a kubelet by this name and group.
    sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
    sign kubelet-serving "/CN=$NODE_NAME" "subjectAltName=IP:$POD_GATEWAY,IP:127.0.0.1,DNS:$NODE_NAME
extendedKeyUsage=serverAuth"
    # What the API server shows the kubelet for exec, logs and port-forward.
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  )
}

node_config() {
  mkdir -p "$NODE"/{containerd,cni/net.d,cni/ipam,kubelet,pods-logs,local-pv,runsc-logs,snapshots}
  # The kubelet listens on the bridge's address (not loopback: a kubelet refuses a loopback node
  # IP); created here so the kubelet can bind before the first pod makes the CNI create it.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$POD_GATEWAY/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  cat >"$NODE/cni/net.d/10-agentbox.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "agentbox-k8s",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$NODE/cni/ipam", "ranges": [[{ "subnet": "$POD_SUBNET", "gateway": "$POD_GATEWAY" }]] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  # The shim reads runsc.toml at each pod's start. Restore: the wrapper as its runsc, and
  # restore-spec-validation relaxed, since every new pod's spec differs from the checkpointed
  # one (the shim writes the pod UID into it); the node agent verifies each snapshot instead. The
  # flag must be in the sandbox's config at create: on `restore` alone it has no effect.
  node "$(dirname "${BASH_SOURCE[0]}")/../bin/agentbox.mjs" node wrapper --runsc "$RUNSC" --snapshots "$SNAPSHOTS" >"$RUNSC_WRAPPER.new"
  chmod 755 "$RUNSC_WRAPPER.new" && mv -f "$RUNSC_WRAPPER.new" "$RUNSC_WRAPPER"
  cat >"$NODE/containerd/runsc.toml" <<EOF
binary_name = "$RUNSC_WRAPPER"
root = "$NODE/containerd/runsc"
log_path = "$NODE/runsc-logs/%ID%/shim.log"
[runsc_config]
  platform = "systrap"
  restore-spec-validation = "warning"
EOF
  # Config version 3 is containerd 2.x's. Sockets, state, the CRI stream server (random port)
  # and the runtimes' roots are all this instance's own; NRI (a fixed /var/run socket) is off.
  cat >"$NODE/containerd/config.toml" <<EOF
version = 3
root = "$NODE/containerd/root"
state = "$NODE/containerd/state"
disabled_plugins = ["io.containerd.nri.v1.nri"]
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[plugins.'io.containerd.internal.v1.opt']
  path = "$NODE/containerd/opt"
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"
[plugins.'io.containerd.cri.v1.runtime']
  # Pod network namespaces under our state dir, not /var/run/netns: the teardown finds them there.
  netns_mounts_under_state_dir = true
  # Pod sandboxes ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE; hosts without it
  # (this development VM) then fail every pod. Clamped to containerd's own score instead.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$NODE/containerd/runc"
        SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runsc]
      runtime_type = "io.containerd.runsc.v1"
      # agentbox.dev/restore-from reaches every container's OCI spec, where the wrapper reads it.
      pod_annotations = ["agentbox.dev/*"]
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runsc.options]
        TypeUrl = "io.containerd.runsc.v1.options"
        ConfigPath = "$NODE/containerd/runsc.toml"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$NODE/cni/net.d"
EOF
  cat >"$NODE/kubelet/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: agentbox-local
  cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: kubelet
  user: {client-certificate: "$PKI/kubelet.crt", client-key: "$PKI/kubelet.key"}
contexts:
- name: kubelet
  context: {cluster: agentbox-local, user: kubelet}
current-context: kubelet
EOF
  # Settings for a shared development machine: cgroupfs like containerd's runc, swap allowed,
  # eviction and image GC only at the very edge of the disk (a small disk must not evict the
  # imported images), no static pods, webhook authorization of the API server's requests.
  cat >"$NODE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: "$POD_GATEWAY"
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: "unix://$CTR_SOCK"
failSwapOn: false
podLogsDir: "$NODE/pods-logs"
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
resolvConf: /etc/resolv.conf
maxPods: 110
EOF
  cat >"$NODE/local-path.json" <<EOF
{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$NODE/local-pv"]}]}
EOF
  # Its helper pod makes and removes the volume directories on the node, as root, with runc.
  cat >"$NODE/local-path-helper.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: helper-pod}
spec:
  securityContext: {runAsUser: 0}
  containers:
  - name: helper-pod
    image: agentbox.local/busybox:latest
    imagePullPolicy: IfNotPresent
EOF
}

node_up() {
  node_pki
  node_config
  export PATH="$NODE_BIN/containerd/$CONTAINERD_VERSION:$NODE_BIN/gvisor-shim/$GVISOR_VERSION:$PATH"
  # containerd reads its config only at start: one started with another config is restarted
  # (pods keep running: their shims outlive containerd).
  local config_sum
  config_sum="$(sha256sum "$NODE/containerd/config.toml" | cut -d' ' -f1)"
  if alive containerd && [[ "$(cat "$RUN/containerd.config-sha256" 2>/dev/null)" != "$config_sum" ]]; then
    log "restarting containerd: its config changed"
    stop containerd
  fi
  start containerd "$(ctd_bin containerd)" --config "$NODE/containerd/config.toml"
  echo "$config_sum" >"$RUN/containerd.config-sha256"
  wait_for containerd 30 ctr version
  cat >"$NODE/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "$KUBECONFIG_OUT"}
leaderElection: {leaderElect: false}
profiles:
- schedulerName: $SCHEDULER_NAME
EOF
  start kube-scheduler "$BIN/kube-scheduler" --config "$NODE/scheduler.yaml" \
    --authentication-kubeconfig "$KUBECONFIG_OUT" --authorization-kubeconfig "$KUBECONFIG_OUT" \
    --bind-address 127.0.0.1 --secure-port 0
  start kubelet "$BIN/kubelet" --config "$NODE/kubelet/config.yaml" --kubeconfig "$NODE/kubelet/kubeconfig" \
    --root-dir "$NODE/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$POD_GATEWAY" \
    --node-labels agentbox.dev/real-node=true
  kctl() { kubectl --kubeconfig "$KUBECONFIG_OUT" "$@"; }
  kctl apply -f - >/dev/null <<EOF
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: runc}
handler: runc
---
apiVersion: v1
kind: Namespace
metadata: {name: local-path-storage}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: local-path-provisioner-service-account, namespace: local-path-storage}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: local-path-config, namespace: local-path-storage}
data:
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF
  start local-path-provisioner "$NODE_BIN/local-path-provisioner/$LOCAL_PATH_VERSION/local-path-provisioner" \
    --debug start --kubeconfig "$KUBECONFIG_OUT" --namespace local-path-storage \
    --config "$NODE/local-path.json" --helper-pod-file "$NODE/local-path-helper.yaml" \
    --service-account-name local-path-provisioner-service-account
  wait_for "node $NODE_NAME Ready" 120 node_ready
  local c
  for c in "${NODE_COMPONENTS[@]}"; do alive "$c" || { log "$c exited; see $RUN/$c.log"; exit 1; }; done
  grep -qx "$PAUSE_IMAGE" <<<"$(ctr images ls -q)" || log "node ready; import its images next: bash scripts/k8s-env.sh images"
}

node_ready() {
  [[ "$(kubectl --kubeconfig "$KUBECONFIG_OUT" get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# Every template shipped in templates/ as agentbox.local/<name>:latest, the pause image and the
# guest image (busybox plus the guest bundle under /agentbox), exported by the agentbox CLI into
# OCI archives under $ROOT/images and imported into the node's containerd. An image already there
# is kept while what it is made from is unchanged (its template recipe; for the guest image, the
# guest's sources), unless --force: the tags never change, so a stale guest would go unnoticed.
images() {
  alive containerd || { log "containerd is not running: start the node first (bash scripts/k8s-env.sh up)"; exit 1; }
  local force=0 repo out present t0=$SECONDS name
  [[ "${1:-}" == --force ]] && force=1
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  out="$ROOT/images"
  present="$(ctr images ls -q)"
  # Templates are built in a home of their own, not in a server's.
  export AGENTBOX_HOME="$ROOT/agentbox-home"
  agentbox() { node "$repo/bin/agentbox.mjs" "$@"; }
  fingerprint() { find "$@" -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1; }
  import_image() { # ref, archive name, fingerprint of its sources, exporter command…
    local ref="$1" file="$out/$2.tar" stamp="$out/$2.sources" sources="$3" t=$SECONDS; shift 3
    if ((!force)) && grep -qx "$ref" <<<"$present" && [[ "$(cat "$stamp" 2>/dev/null)" == "$sources" ]]; then return; fi
    log "image $ref: exporting…"
    "$@" "$file" >/dev/null
    log "image $ref: importing $(du -h "$file" | cut -f1)…"
    ctr images import "$file" >/dev/null
    echo "$sources" >"$stamp"
    log "image $ref: done in $((SECONDS - t))s"
  }
  mkdir -p "$out/pause-rootfs"
  local recipe
  for recipe in "$repo"/templates/*.yaml; do
    name="$(sed -n 's/^name: *//p' "$recipe")"
    import_image "agentbox.local/$name:latest" "$name" "$(fingerprint "$recipe")" agentbox template export "$name" --oci
  done
  import_image "$GUEST_IMAGE" guest "$(fingerprint "$repo/templates/busybox.yaml" "$repo/src/guest" "$repo/src/api")" \
    agentbox template export busybox --with-guest --ref "$GUEST_IMAGE" --oci
  cp "$NODE_BIN/pause/$K8S_VERSION/pause" "$out/pause-rootfs/pause"
  import_image "$PAUSE_IMAGE" pause "$(fingerprint "$out/pause-rootfs/pause")" node --import tsx "$repo/scripts/k8s-pause-image.ts" "$out/pause-rootfs" "$PAUSE_IMAGE"
  log "images ready in $((SECONDS - t0))s"
}

node_down() {
  local name pid root id
  for name in local-path-provisioner kubelet kube-scheduler containerd; do stop "$name"; done
  # Shims outlive containerd by design; ours are the ones serving our socket. Then every pod
  # sandbox and container through the runtimes' own state directories (runsc: the gVisor sandbox
  # and its gofer go with it).
  for pid in $(grep -l -s -F -- "$CTR_SOCK" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    kill -9 "$pid" 2>/dev/null || true
  done
  root="$NODE/containerd/runsc/k8s.io"
  for id in $("$RUNSC" --root "$root" list -quiet 2>/dev/null); do "$RUNSC" --root "$root" delete -force "$id" >/dev/null 2>&1 || true; done
  root="$NODE/containerd/runc/k8s.io"
  for id in $(runc --root "$root" list -q 2>/dev/null); do runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true; done
  # Mounts under the node's directory (rootfs, volumes, pod network namespaces), deepest first; a
  # namespace's veth goes with it, its addresses with the IPAM store.
  awk -v p="$NODE/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$NODE/cni/ipam" "$NODE/containerd/state"
  ip link del "$BRIDGE" 2>/dev/null || true
}
