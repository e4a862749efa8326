#!/usr/bin/env bash
# Create .venv (once) and install augcli into it with the extras named in $1 (e.g. "test").
# Sourced by the other scripts; needs only python3 (3.11+) with pip and venv.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras=${1:-}
target="."
[ -n "$extras" ] && target=".[$extras]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
