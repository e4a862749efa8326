#!/usr/bin/env bash
# Refresh constraints.txt: the versions of every package the tests passed with. Builds a scratch
# venv with no constraints (what the index offers today), installs what scripts/setup_venv.sh
# installs (torch as TORCH_SPEC names it, augcli with every extra, the ultralytics it pins without
# its dependencies) and writes what pip chose. Then run `bash scripts/test.sh` and commit both.
#   bash scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$PYTHON" -m venv "$scratch/venv"
pip_install() { "$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
# shellcheck disable=SC2086  # TORCH_SPEC may carry options (--index-url ...), as in setup_venv.sh
pip_install ${TORCH_SPEC:-torch==2.13.0}
pip_install -e ".[test,translate,report,dask,s3,parquet]"
# The ultralytics setup_venv.sh installs for the test extra (its pin is read from there, so the two
# never differ), without its dependencies: they would pull torchvision and a CUDA torch.
ultralytics=$(grep -o 'ultralytics==[0-9][0-9.]*' scripts/setup_venv.sh | head -n 1)
[ -n "$ultralytics" ] || { echo "lock.sh: no ultralytics==VERSION in scripts/setup_venv.sh" >&2; exit 1; }
pip_install --no-deps "$ultralytics"
{
  echo "# The versions the test suite passed with (scripts/lock.sh wrote this; scripts/setup_venv.sh uses it)."
  echo "# torch is pinned without a local label: 2.13.0 matches the CPU build (2.13.0+cpu) where one is on disk."
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable | sed -E 's/^(torch==[0-9.]+)\+[a-z0-9]+$/\1/'
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages pinned"
"$PYTHON" -m venv "$scratch/dvc"
"$scratch/dvc/bin/python" -m pip install --quiet --disable-pip-version-check dvc
{
  echo "# The DVC the tests run (in .venv-dvc, apart from augcli's: its dependencies would pin augcli's); scripts/lock.sh refreshes it."
  "$scratch/dvc/bin/python" -m pip freeze
} > constraints-dvc.txt
