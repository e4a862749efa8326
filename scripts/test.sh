#!/usr/bin/env bash
# The test command: install augcli with its test tools and the translate extra (for the back
# translation tests) into .venv, lint, then run pytest.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh test,translate
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
