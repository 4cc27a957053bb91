#!/usr/bin/env bash
# A local S3-compatible server for the tests of the node agent's object store (issue 14 §3):
# moto's server mode from PyPI, in a venv cached under ~/.cache/agentbox.
#   bash scripts/s3-server.sh  →  ~/.cache/agentbox/s3/venv/bin/moto_server
set -euo pipefail
VERSION="${AGENTBOX_MOTO_VERSION:-5.2.5}"
VENV="${AGENTBOX_S3_SERVER:-$HOME/.cache/agentbox/s3}/venv"
if [[ -x "$VENV/bin/moto_server" ]] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
echo "s3-server: installing moto[server]==$VERSION into $VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "moto[server]==$VERSION"
echo "s3-server: ready: $VENV/bin/moto_server"
