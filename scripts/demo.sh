#!/usr/bin/env bash
# The main job on the shipped data: install augcli into .venv and run each shipped recipe on its
# part of sample_data/ into out/<modality>/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh report  # report: `augcli preview` and `run --report` work right after
.venv/bin/augcli run configs/images.yaml sample_data/shapes out/images --overwrite "$@"
.venv/bin/augcli run configs/detection.yaml sample_data/detection out/detection --overwrite "$@"
.venv/bin/augcli run configs/pose.yaml sample_data/pose out/pose --overwrite "$@"
.venv/bin/augcli run configs/audio.yaml sample_data/audio out/audio --overwrite "$@"
.venv/bin/augcli run configs/text.yaml sample_data/text out/text --overwrite "$@"
.venv/bin/augcli run configs/tabular.yaml sample_data/tabular out/tabular --overwrite "$@"
echo "outputs and their manifest.csv are in $(pwd)/out/{images,detection,pose,audio,text,tabular}"
