#!/usr/bin/env bash
# Installs the official OpenSandbox SDKs the compatibility suite (test/opensandbox) drives, each
# version in its own directory under ~/.cache/agentbox/opensandbox-sdks/, and writes manifest.json
# naming them. Idempotent: a directory whose install finished (marked by .done) is reused.
#   npm @alibaba-group/opensandbox: the oldest published release (0.1.6; every release so far is
#   on the 0.1 line, so there is no older minor) and the latest;
#   PyPI opensandbox: the newest 1.1.x and the newest of the older 0.1 line, one virtualenv each;
#   an agent framework's backend over that SDK, pinned: PyPI agent-sandbox-backends (the lightest
#   of the OpenSandbox backends for agent frameworks: opensandbox, pydantic, pathspec; no model
#   client), in its own virtualenv (test/opensandbox/framework.test.ts).
set -euo pipefail
ROOT="${AGENTBOX_OPENSANDBOX_SDKS:-$HOME/.cache/agentbox/opensandbox-sdks}"
PKG=@alibaba-group/opensandbox
mkdir -p "$ROOT"

JS_VERSIONS=$(npm view "$PKG" versions --json 2>/dev/null | python3 -c '
import json, sys
vs = [v for v in json.load(sys.stdin) if "-" not in v]
key = lambda v: tuple(int(x) for x in v.split("."))
vs.sort(key=key)
print(vs[0], vs[-1])')

PY_VERSIONS=$(python3 -m pip index versions opensandbox 2>/dev/null | sed -n 's/^Available versions: //p' | python3 -c '
import sys
vs = [v.strip() for v in sys.stdin.read().split(",") if v.strip()]
key = lambda v: tuple(int(x) for x in v.split("."))
newest = lambda line: max((v for v in vs if v.startswith(line + ".")), key=key)
print(newest("0.1"), newest("1.1"))')

JS=()
for v in $JS_VERSIONS; do
  dir="$ROOT/js-$v"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && echo '{"name":"opensandbox-sdk-scratch","private":true,"type":"module"}' > package.json \
      && npm install --no-audit --no-fund --loglevel=error "$PKG@$v" >/dev/null)
    touch "$dir/.done"
  fi
  JS+=("$dir")
done

# A virtualenv at $1 with the pinned requirement $2, reused once its install finished.
venv_with() {
  if [ ! -f "$1/.done" ]; then
    rm -rf "$1"
    python3 -m venv "$1"
    "$1/bin/pip" install --quiet --disable-pip-version-check "$2"
    touch "$1/.done"
  fi
}

PY=()
for v in $PY_VERSIONS; do
  venv_with "$ROOT/py-$v" "opensandbox==$v"
  PY+=("$ROOT/py-$v")
done

FRAMEWORK=agent-sandbox-backends FRAMEWORK_VERSION=0.1.0
FW="$ROOT/framework-$FRAMEWORK-$FRAMEWORK_VERSION"
venv_with "$FW" "$FRAMEWORK==$FRAMEWORK_VERSION"

python3 - "$ROOT/manifest.json" "$FRAMEWORK" "$FW" "${#JS[@]}" "${JS[@]}" "${PY[@]}" <<'PY'
import json, os, sys
out, fw_name, fw_dir, njs, *dirs = sys.argv[1:]
js, py = dirs[:int(njs)], dirs[int(njs):]
ver = lambda d: d.rsplit("-", 1)[1]
json.dump({
    "js": [{"version": ver(d), "dir": d} for d in js],
    "python": [{"version": ver(d), "dir": d, "python": os.path.join(d, "bin", "python")} for d in py],
    "frameworks": [{"name": fw_name, "version": ver(fw_dir), "dir": fw_dir, "python": os.path.join(fw_dir, "bin", "python")}],
}, open(out + ".tmp", "w"), indent=2)
os.replace(out + ".tmp", out)
PY
echo "OpenSandbox SDKs ready: $ROOT/manifest.json"
