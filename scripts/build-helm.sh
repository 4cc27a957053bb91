#!/usr/bin/env bash
# Builds helm from its Go module (helm.sh/helm/v3/cmd/helm, pinned) into
# ~/.cache/agentbox/helm/<version>/helm, for the test that renders the chart in deploy/helm and
# applies it to the local kube-apiserver (test/claims/deploy-manifests.test.ts). Debian 12 has
# no helm package. Idempotent: a finished build is reused.
set -euo pipefail
VERSION="${AGENTBOX_HELM_VERSION:-v3.22.0}"
CACHE="${AGENTBOX_CACHE:-$HOME/.cache/agentbox}"
OUT="$CACHE/helm/$VERSION"
if [[ -x "$OUT/helm" ]]; then
  echo "helm $VERSION: cached at $OUT/helm"
  exit 0
fi
mkdir -p "$OUT"
echo "building helm $VERSION from helm.sh/helm/v3 (a few minutes the first time)…"
GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" CGO_ENABLED=0 GOBIN="$OUT.tmp" GOFLAGS=-mod=mod \
  go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$VERSION"
mv "$OUT.tmp/helm" "$OUT/helm" && rmdir "$OUT.tmp"
echo "helm $VERSION: built at $OUT/helm"
