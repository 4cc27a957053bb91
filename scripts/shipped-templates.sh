#!/usr/bin/env bash
# The shipped templates, built once into ~/.cache/agentbox/layers for the test suite
# (scripts/shipped-templates.ts says why); seconds when the recipes did not change.
# bash scripts/shipped-templates.sh
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx scripts/shipped-templates.ts "$@"
