#!/usr/bin/env bash
# Builds a current runsc (gVisor) from the gvisor.dev/gvisor Go module, pinned to a commit of
# its `go` branch, into ~/.cache/agentbox/runsc/<version>/ and records its sha256 there. The
# engine's default gvisor runtime class points at this file (file:// asset, verified by sha256).
# Idempotent: a finished build is reused.
set -euo pipefail
VERSION="${RUNSC_VERSION:-v0.0.0-20260905035102-160fafc42237}"
CACHE="${AGENTBOX_CACHE:-$HOME/.cache/agentbox}"
OUT="$CACHE/runsc/$VERSION"
if [[ -x "$OUT/runsc" && -f "$OUT/runsc.sha256" ]]; then
  echo "runsc $VERSION: cached at $OUT/runsc"
  exit 0
fi
mkdir -p "$OUT"
echo "building runsc $VERSION from gvisor.dev/gvisor (about a minute)…"
GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" CGO_ENABLED=0 GOBIN="$OUT" GOFLAGS=-mod=mod \
  go install "gvisor.dev/gvisor/runsc@$VERSION"
(cd "$OUT" && sha256sum runsc | cut -d' ' -f1 > runsc.sha256)
echo "runsc $VERSION: built at $OUT/runsc (sha256 $(cat "$OUT/runsc.sha256"))"
