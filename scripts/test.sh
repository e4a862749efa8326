#!/usr/bin/env bash
# The test command: install augcli with its test tools and the translate extra (for the back
# translation tests) into .venv, Debian's chromium for the browser tests, lint, then run pytest.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh test,translate
# The browser tests open the preview and the report in Debian's headless Chromium: installed here
# when missing and this runs as root; otherwise those tests are skipped and say why.
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
      >/dev/null 2>&1 || echo "test.sh: could not install chromium; the browser tests will be skipped"
  else
    echo "test.sh: chromium is missing and this is not root; the browser tests will be skipped"
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
