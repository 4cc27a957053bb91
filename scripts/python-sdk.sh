#!/usr/bin/env bash
# A virtualenv with the Python SDK (sdk/python, installed editable) and pytest, for
# test/sdk-python: bash scripts/python-sdk.sh  →  ~/.cache/agentbox/python-sdk/venv/bin/python
# Idempotent: reinstalls only when sdk/python/pyproject.toml or this checkout's path changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${AGENTBOX_PYTHON_SDK_HOME:-$HOME/.cache/agentbox/python-sdk}/venv"
STAMP="$(sha256sum sdk/python/pyproject.toml | cut -d' ' -f1) $PWD"
if [[ -x "$VENV/bin/python" && -f "$VENV/.agentbox-stamp" && "$(cat "$VENV/.agentbox-stamp")" == "$STAMP" ]]; then
  echo "Python SDK venv up to date: $VENV"
  exit 0
fi
echo "creating $VENV with the Python SDK (editable) and pytest"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e "sdk/python[test]"
echo "$STAMP" > "$VENV/.agentbox-stamp"
echo "Python SDK venv ready: $VENV"
