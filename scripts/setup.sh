#!/usr/bin/env bash
# Sets up everything agentbox needs on a fresh Debian 12 machine, idempotently and quickly when
# already done: Debian packages, npm dependencies, the `agentbox` command on PATH, a current runsc
# built from gVisor's Go module.
# With --for-tests it also prepares what the test suite uses (Kubernetes control-plane binaries,
# the E2B SDKs, the Python agent-sandbox client, helm and the shipped templates), all cached
# under ~/.cache/agentbox.
set -euo pipefail
cd "$(dirname "$0")/.."
FOR_TESTS=0
[[ "${1:-}" == "--for-tests" ]] && FOR_TESTS=1

step() { printf '\n==> %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "agentbox needs root (network namespaces, nftables, overlay mounts, cgroups); run this as root." >&2
  exit 1
fi

mapfile -t PACKAGES < <(grep -v '^\s*#' scripts/system-packages.txt | grep -v '^\s*$')
MISSING=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
if ((${#MISSING[@]})); then
  step "installing Debian packages: ${MISSING[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}"
fi

# Slow steps that want different things (the CPU for Go builds; the network and the disk for
# packages, SDKs and template images) run side by side in lanes: a fresh machine sets up in
# minutes less. Each lane's lines are marked with its name; a lane stops at its first failure,
# and setup fails once every lane has ended, naming the failed ones.
LANES=()
lane() {
  local name=$1
  shift
  ("$@" 2>&1 | sed -u "s/^/[$name] /") &
  LANES+=("$!:$name")
}
join_lanes() {
  local l failed=()
  for l in "${LANES[@]}"; do wait "${l%%:*}" || failed+=("${l#*:}"); done
  LANES=()
  if ((${#failed[@]})); then
    echo "setup: failed in lane(s) ${failed[*]}: see the lines marked with their names above" >&2
    exit 1
  fi
}

node_side() {
  local lock_hash
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f node_modules/.agentbox-lock-hash || "$(cat node_modules/.agentbox-lock-hash)" != "$lock_hash" ]]; then
    step "installing npm dependencies"
    npm ci --no-audit --no-fund
    echo "$lock_hash" > node_modules/.agentbox-lock-hash
  fi
  # The `agentbox` command that `agentbox up` and the docs refer to: this checkout's CLI.
  if [[ "$(readlink -f /usr/local/bin/agentbox 2>/dev/null)" != "$PWD/bin/agentbox.mjs" ]]; then
    step "linking /usr/local/bin/agentbox to $PWD/bin/agentbox.mjs"
    ln -sfn "$PWD/bin/agentbox.mjs" /usr/local/bin/agentbox
  fi
  # The web console that `agentbox up` serves at /ui (docs/console.md), bundled from src/console.
  step "web console"
  node scripts/build-console.mjs
}

gvisor() {
  step "runsc (gVisor)"
  bash scripts/build-runsc.sh
}

lane runsc gvisor
lane npm node_side
join_lanes

# Each one prepares a suite the README claims; without it those tests could not run. The Go
# builds (Kubernetes binaries, a node's containerd, helm) take the CPU; the rest mostly wait on
# downloads, except the template images, which need runsc (built above).
GO_BUILT=(scripts/k8s-env.sh scripts/build-helm.sh)
FETCHED=(scripts/k8s-pyclient.sh scripts/s3-server.sh scripts/e2b-sdks.sh scripts/opensandbox-sdks.sh scripts/python-sdk.sh scripts/cli-shells.sh scripts/console-browser.sh scripts/shipped-templates.sh)

prerequisites() {
  local s
  for s in "$@"; do
    step "test prerequisites: $s"
    case "$s" in
      scripts/k8s-env.sh) bash "$s" build ;;
      *) bash "$s" ;;
    esac
  done
}

if ((FOR_TESTS)); then
  for s in "${GO_BUILT[@]}" "${FETCHED[@]}"; do
    if [[ ! -f "$s" ]]; then
      echo "setup: $s is missing from this checkout; the tests it prepares could not run." >&2
      exit 1
    fi
  done
  lane go-builds prerequisites "${GO_BUILT[@]}"
  lane fetches prerequisites "${FETCHED[@]}"
  join_lanes
fi
step "setup done"
