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

LOCK_HASH=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.agentbox-lock-hash || "$(cat node_modules/.agentbox-lock-hash)" != "$LOCK_HASH" ]]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund
  echo "$LOCK_HASH" > node_modules/.agentbox-lock-hash
fi

# The `agentbox` command that `agentbox up` and the docs refer to: this checkout's CLI. A setup
# for the tests (which run bin/agentbox.mjs itself) takes the name only when it leads nowhere, so
# testing a throwaway clone does not leave the user's command pointing into it.
LINKED=$(readlink -f /usr/local/bin/agentbox 2>/dev/null || true)
if [[ "$LINKED" != "$PWD/bin/agentbox.mjs" ]] && { ((FOR_TESTS == 0)) || [[ ! -f "$LINKED" ]]; }; then
  step "linking /usr/local/bin/agentbox to $PWD/bin/agentbox.mjs"
  ln -sfn "$PWD/bin/agentbox.mjs" /usr/local/bin/agentbox
fi

step "runsc (gVisor)"
bash scripts/build-runsc.sh

# The web console that `agentbox up` serves at /ui (docs/console.md), bundled from src/console.
step "web console"
node scripts/build-console.mjs

# The guest daemon sandboxes run (crates/guest), built by cargo once per change of its sources.
step "guest daemon (native)"
node --import tsx scripts/build-native-guest.ts

if ((FOR_TESTS)); then
  # The tests run against the native guest (crates/guest), which the test runner and the engine
  # build with Rust's cargo; Debian's Rust is too old for it (it needs 1.88).
  if ! command -v cargo >/dev/null && [[ ! -x "$HOME/.cargo/bin/cargo" ]]; then
    echo "setup: the tests build the native guest (crates/guest) with cargo; install Rust 1.88 or later with rustup (https://rustup.rs)." >&2
    exit 1
  fi
  for s in scripts/k8s-env.sh scripts/k8s-pyclient.sh scripts/s3-server.sh scripts/e2b-sdks.sh scripts/opensandbox-sdks.sh scripts/python-sdk.sh scripts/build-helm.sh scripts/cli-shells.sh scripts/console-browser.sh scripts/shipped-templates.sh; do
    # Each one prepares a suite the README claims; without it those tests could not run.
    if [[ ! -f "$s" ]]; then
      echo "setup: $s is missing from this checkout; the tests it prepares could not run." >&2
      exit 1
    fi
    step "test prerequisites: $s"
    case "$s" in
      scripts/k8s-env.sh) bash "$s" build ;;
      *) bash "$s" ;;
    esac
  done
fi
step "setup done"
