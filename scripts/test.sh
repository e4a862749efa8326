#!/usr/bin/env bash
# The test command: install augcli with its test tools and the translate extra (for the back
# translation tests) into .venv at the locked versions, lint, then run pytest.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh test,translate
# The browser tests open the preview and the report in Debian's headless Chromium, and three text
# tests check the shipped vocabulary against Debian's WordNet files. System packages are installed
# only when asked (AUGCLI_INSTALL_SYSTEM=1, as CI sets it, as root); otherwise those tests are
# skipped and this names the command that installs them.
missing=()
{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || missing+=(chromium chromium-driver)
[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${AUGCLI_INSTALL_SYSTEM:-0}" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's ${missing[*]} (AUGCLI_INSTALL_SYSTEM=1)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
      >/dev/null 2>&1 || echo "test.sh: could not install ${missing[*]}; the tests that need them will be skipped"
  else
    echo "test.sh: ${missing[*]} missing, so the tests that need them will be skipped; to run them:"
    echo "  sudo apt-get install ${missing[*]}   (or AUGCLI_INSTALL_SYSTEM=1 bash scripts/test.sh as root)"
  fi
fi
# DVC for the data-version-tool tests, in a venv of its own (its dependencies are not augcli's).
if [ ! -x .venv-dvc/bin/dvc ]; then
  { "${PYTHON:-python3}" -m venv .venv-dvc && .venv-dvc/bin/python -m pip install --quiet --disable-pip-version-check \
      -c constraints-dvc.txt dvc; } || echo "test.sh: could not install DVC into .venv-dvc; the DVC test will be skipped"
fi
export AUGCLI_TEST_DVC="$PWD/.venv-dvc/bin/dvc"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
