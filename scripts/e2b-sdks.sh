#!/usr/bin/env bash
# Installs the official E2B SDKs the conformance suite (test/e2b) drives, each version in its own
# directory under ~/.cache/agentbox/e2b-sdks/, and writes manifest.json naming them. Idempotent:
# a directory whose install finished (marked by .done) is reused. Needs npm and python3 (venv).
#   npm e2b: oldest 2.0.x, 2.7.x, 2.50.x and latest; npm @e2b/code-interpreter latest;
#   PyPI e2b + e2b-code-interpreter latest, in one virtualenv.
set -euo pipefail
ROOT="${AGENTBOX_E2B_SDKS:-$HOME/.cache/agentbox/e2b-sdks}"
mkdir -p "$ROOT"

# The newest release of an npm package on a given line ("2.0" → 2.0.x), or the latest.
npm_pick() {
  local pkg="$1" line="$2"
  if [ -z "$line" ]; then npm view "$pkg" version 2>/dev/null; return; fi
  npm view "$pkg" versions --json 2>/dev/null | python3 -c '
import json, sys
line = sys.argv[1]
vs = [v for v in json.load(sys.stdin) if v.startswith(line + ".") and "-" not in v]
key = lambda v: tuple(int(x) for x in v.split("."))
print(sorted(vs, key=key)[0 if sys.argv[2] == "oldest" else -1])' "$line" "$3"
}

npm_install() {
  local pkg="$1" ver="$2"
  local dir="$ROOT/js-${pkg#@e2b/}-$ver"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && echo '{"name":"e2b-sdk-scratch","private":true,"type":"module"}' > package.json \
      && npm install --no-audit --no-fund --loglevel=error "$pkg@$ver" >/dev/null)
    touch "$dir/.done"
  fi
  echo "$dir"
}

E2B_OLDEST_20=$(npm_pick e2b 2.0 oldest)
E2B_27=$(npm_pick e2b 2.7 newest)
E2B_250=$(npm_pick e2b 2.50 newest)
E2B_LATEST=$(npm_pick e2b "")
CI_LATEST=$(npm_pick @e2b/code-interpreter "")

JS=()
for v in "$E2B_OLDEST_20" "$E2B_27" "$E2B_250" "$E2B_LATEST"; do JS+=("$(npm_install e2b "$v")"); done
CI_DIR=$(npm_install @e2b/code-interpreter "$CI_LATEST")

PY_E2B=$(python3 -m pip index versions e2b 2>/dev/null | sed -n 's/^e2b (\(.*\))$/\1/p')
PY_CI=$(python3 -m pip index versions e2b-code-interpreter 2>/dev/null | sed -n 's/^e2b-code-interpreter (\(.*\))$/\1/p')
PY_DIR="$ROOT/py-e2b-$PY_E2B-ci-$PY_CI"
if [ ! -f "$PY_DIR/.done" ]; then
  rm -rf "$PY_DIR"
  python3 -m venv "$PY_DIR"
  "$PY_DIR/bin/pip" install --quiet --disable-pip-version-check "e2b==$PY_E2B" "e2b-code-interpreter==$PY_CI"
  touch "$PY_DIR/.done"
fi

# Each npm e2b entry names the line it stands for; test/e2b/conformance.test.ts checks that
# every line the docs claim is there.
python3 - "$ROOT/manifest.json" "$CI_DIR" "$PY_DIR" "${JS[@]}" <<'PY'
import json, os, sys
out, ci, py, *js = sys.argv[1:]
def ver(d): return d.rsplit("-", 1)[1]
lines = ["2.0", "2.7", "2.50", "latest"]
json.dump({
    "js": [{"line": line, "version": ver(d), "dir": d} for line, d in zip(lines, js)],
    "codeInterpreter": {"version": ver(ci), "dir": ci},
    "python": {"dir": py, "python": os.path.join(py, "bin", "python")},
}, open(out + ".tmp", "w"), indent=2)
os.replace(out + ".tmp", out)
PY
echo "E2B SDKs ready: $ROOT/manifest.json"
