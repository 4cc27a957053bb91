#!/usr/bin/env bash
# Builds a current runsc (gVisor) from the gvisor.dev/gvisor Go module, pinned to a commit of
# its `go` branch, into ~/.cache/agentbox/runsc/<version>/ and records its sha256 there. The
# engine's default gvisor runtime class points at this file (file:// asset, verified by sha256).
#
# The build embeds precompiled seccomp programs, as gVisor's own (Bazel) releases do: a plain
# `go install` gets empty stubs, and every sandbox start and restore then compiles its seccomp
# filters from scratch (tens of milliseconds each). scripts/runsc-seccomp/main.go writes the
# programs into a writable copy of the module, and runsc is built from that copy.
#
# The copy also gets the files of scripts/runsc-main/ in runsc's main package: additions that
# change no upstream line (sentry_gc.go: no garbage collection in the sentry's first second,
# then its free heap back to the host).
# Idempotent: a finished build of the same recipe is reused.
set -euo pipefail
VERSION="${RUNSC_VERSION:-v0.0.0-20260905035102-160fafc42237}"
# Bump when the way runsc is built changes, so cached builds of the old recipe are replaced.
RECIPE="precompiled-seccomp-5,sentry-gc-1"
CACHE="${AGENTBOX_CACHE:-$HOME/.cache/agentbox}"
OUT="$CACHE/runsc/$VERSION"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -x "$OUT/runsc" && -f "$OUT/runsc.sha256" && "$(cat "$OUT/recipe" 2>/dev/null)" == "$RECIPE" ]]; then
  echo "runsc $VERSION: cached at $OUT/runsc"
  exit 0
fi
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" CGO_ENABLED=0 GOFLAGS=-mod=mod
WORK="$CACHE/runsc-build"
rm -rf "$WORK" && mkdir -p "$WORK" "$OUT"
echo "runsc $VERSION: fetching gvisor.dev/gvisor…"
SRC="$(go mod download -json "gvisor.dev/gvisor@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
cp -r "$SRC" "$WORK/gvisor" && chmod -R u+w "$WORK/gvisor"
cp "$HERE/runsc-seccomp/main.go" "$WORK/"
cp "$HERE"/runsc-main/*.go "$WORK/gvisor/runsc/"
(
  cd "$WORK"
  go mod init agentbox.local/runsc-build >/dev/null 2>&1
  go mod edit -require="gvisor.dev/gvisor@$VERSION" -replace=gvisor.dev/gvisor=./gvisor
  go mod tidy
  echo "runsc $VERSION: precompiling seccomp programs (about a minute)…"
  go build -o runsc-seccomp .
  # As PID 1 of a PID namespace, as the sentry runs: see scripts/runsc-seccomp/main.go.
  unshare --pid --fork ./runsc-seccomp ./gvisor
  echo "runsc $VERSION: building runsc (about two minutes)…"
  # -trimpath and no build id: the binary, and so its sha256 pin, does not depend on where it
  # was built (the build id hashes the build directory).
  go build -trimpath -ldflags=-buildid= -o "$OUT/runsc.new" gvisor.dev/gvisor/runsc
)
mv "$OUT/runsc.new" "$OUT/runsc"
(cd "$OUT" && sha256sum runsc | cut -d' ' -f1 > runsc.sha256)
echo "$RECIPE" > "$OUT/recipe"
rm -rf "$WORK"
echo "runsc $VERSION: built at $OUT/runsc (sha256 $(cat "$OUT/runsc.sha256"))"
