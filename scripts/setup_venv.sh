#!/usr/bin/env bash
# Create .venv (once) and install augcli into it with the extras named in $1 (e.g. "test,translate"),
# at the versions in constraints.txt (the ones the tests passed with; scripts/lock.sh refreshes it),
# so a fresh machine gets the same set whatever the index has published since.
# Sourced by the other scripts; needs only python3 (3.11+) with pip and venv.
# The translate extra needs torch: TORCH_SPEC picks it (default torch==2.13.0). Where a CPU build of
# 2.13.0 lies on disk (these machines) pip takes it; from PyPI on an ordinary Linux machine that pin
# is the CUDA build (several GB): for the CPU build set
#   TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras=${1:-}
pip_install() { .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt "$@"; }
if [[ "$extras" == *translate* ]] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # shellcheck disable=SC2086  # TORCH_SPEC may carry options (--index-url ...)
  pip_install ${TORCH_SPEC:-torch==2.13.0}
fi
target="."
[ -n "$extras" ] && target=".[$extras]"
pip_install -e "$target"
# The test extra checks outputs with ultralytics' own dataset code (tests/test_ultralytics.py).
# Installed without its dependencies: they would pull torchvision and a CUDA torch of several GB,
# and its dataset code needs only what augcli and the test extra already install.
if [[ "$extras" == *test* ]] && ! .venv/bin/python -m pip show --quiet ultralytics 2>/dev/null; then
  pip_install --no-deps "ultralytics==8.4.190"
fi
# An editable install leaves augcli's modules uncompiled, and where PYTHONDONTWRITEBYTECODE is set
# (containers, CI) every `augcli` process and worker compiles them again: about 0.09 s of each
# start-up here. Compile them once, as a wheel install does (stale files are recompiled, not used).
.venv/bin/python -m compileall -q augcli >/dev/null
