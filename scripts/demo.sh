#!/usr/bin/env bash
# The main job on the shipped data: install augcli into .venv and augment sample_data into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh
.venv/bin/augcli run configs/images.yaml sample_data out --overwrite "$@"
echo "outputs and manifest.csv are in $(pwd)/out"
