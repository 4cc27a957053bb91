#!/usr/bin/env bash
# What the CLI's tests (test/cli/completion.test.ts, test/cli/service.test.ts) run for real:
# zsh (bash is Debian's) to load `agentbox completion`, and systemd's `systemd-analyze verify`
# to check the unit `agentbox service install` writes. Fast when both are there.
# bash scripts/cli-shells.sh
set -euo pipefail
need=()
command -v zsh >/dev/null || need+=(zsh)
command -v systemd-analyze >/dev/null || need+=(systemd)
if ((${#need[@]})); then
  echo "cli-shells: installing ${need[*]} from apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "cli-shells: $(zsh --version), $(systemd-analyze --version | head -1)"
