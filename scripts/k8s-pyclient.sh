#!/usr/bin/env bash
# Python venv with the upstream agent-sandbox client (PyPI k8s-agent-sandbox) for the
# compatibility test: bash scripts/k8s-pyclient.sh  →  ~/.cache/agentbox/k8s/venv/bin/python
set -euo pipefail
VERSION="${AGENTBOX_PY_CLIENT_VERSION:-1.0.8}"
VENV="${AGENTBOX_K8S_HOME:-$HOME/.cache/agentbox/k8s}/venv"
if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('k8s-agent-sandbox') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "k8s-agent-sandbox==$VERSION"
