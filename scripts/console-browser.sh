#!/usr/bin/env bash
# The browser the web console's test (test/console) drives: Debian's chromium, run headless by
# playwright-core (an npm devDependency) through its executablePath. Playwright's own browser
# download is not used: it fetches from outside the package registries. Idempotent: an installed
# chromium is kept; prints the binary's path last.
set -euo pipefail
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  echo "installing Debian's chromium (headless browser for test/console)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
command -v chromium
