"""augcli's output passes ultralytics' own dataset checks, with no warning: check_det_dataset and a
YOLODataset for detect, segment and pose, each split found, no label missing or corrupt."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import invoke
from tests.test_layouts import ultralytics_dataset

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("torch") is None or importlib.util.find_spec("ultralytics") is None:
    pytest.skip("ultralytics' dataset checks import torch: install the test extra with torch", allow_module_level=True)


def ultralytics_report(data_yaml: Path, task: str, tmp_path: Path) -> dict:
    env = dict(os.environ, YOLO_CONFIG_DIR=str(tmp_path / "ultralytics"), YOLO_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ultralytics_check.py"), str(data_yaml), task],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_clean(report: dict, images: dict[str, int]) -> None:
    assert report["warnings"] == []
    for split, count in images.items():
        found = report[split]
        assert (found["images"], found["found"], found["missing"], found["corrupt"]) == (count, count, 0, 0), found
        assert found["msgs"] == []


@pytest.mark.parametrize(
    ("recipe", "sample", "task", "images"),
    [
        ("detection.yaml", "detection", "detect", {"train": 20, "val": 2}),
        ("pose.yaml", "pose", "pose", {"train": 16, "val": 1}),
    ],
)
def test_shipped_samples_pass_ultralytics_checks(tmp_path, recipe, sample, task, images):
    out = tmp_path / "out"
    result = invoke("run", ROOT / "configs" / recipe, ROOT / "sample_data" / sample, out)
    assert result.exit_code == 0, result.output
    report = ultralytics_report(out / "data.yaml", task, tmp_path)
    assert_clean(report, images)
    assert report["paths"] == [str(out / "images" / "train"), str(out / "images" / "val")]  # OUTPUT, not INPUT
    if task == "pose":
        assert report["kpt_shape"] == [5, 3] and report["train"]["keypoints"] == [[1, 5, 3]]
        assert "keypoints" in report["train"]["item"]


def segment_dataset(root: Path, outline) -> Path:
    """The two-object dataset with each box's label rewritten as a YOLO segment, `outline(x0, y0,
    x1, y1)` giving its points (normalised)."""
    data = ultralytics_dataset(root, data_yaml="train: images/train\nval: images/val\nnames: [r, g]\n")
    for label in (data / "labels").rglob("*.txt"):
        lines = []
        for line in label.read_text().splitlines():
            c, cx, cy, w, h = (float(v) for v in line.split())
            points = outline(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            lines.append(" ".join([str(int(c)), *(f"{v:.6f}" for v in points)]))
        label.write_text("\n".join(lines) + "\n")
    return data


@pytest.mark.parametrize(
    ("outline", "steps"),
    [
        (  # rectangles through single-picture steps
            lambda x0, y0, x1, y1: [x0, y0, x1, y0, x1, y1, x0, y1],
            "[hflip, {rotate: {degrees: 20}}, {random_resized_crop: {scale: [0.6, 1], size: [48, 64]}}]",
        ),
        (  # triangles through mixing steps
            lambda x0, y0, x1, y1: [x0, y1, x1, y1, (x0 + x1) / 2, y0],
            "[mosaic, {copy_paste: {objects: [1, 2]}}, {rotate: {degrees: 10}}, cutmix]",
        ),
    ],
)
def test_segment_labels_pass_ultralytics_checks(tmp_path, outline, steps):
    data = segment_dataset(tmp_path / "data", outline)
    recipe = tmp_path / "seg.yaml"
    recipe.write_text(
        f"copies: 3\nimage:\n  annotations: {{format: yolo}}\n  passthrough: [val/**]\n  transforms: {steps}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    report = ultralytics_report(out / "data.yaml", "segment", tmp_path)
    assert_clean(report, {"train": 12, "val": 3})
    assert report["train"]["segments"] == report["train"]["instances"] > 12


@pytest.mark.parametrize(
    ("sample", "task", "steps", "images"),
    [
        ("detection", "detect", "[mosaic, {cutmix: {alpha: 1}}, hflip]", {"train": 20, "val": 2}),
        ("pose", "pose", "[{mosaic: {size: [320, 320]}}, hflip, {mixup: {alpha: 8}}]", {"train": 16, "val": 1}),
    ],
)
def test_mixed_copies_pass_ultralytics_checks(tmp_path, sample, task, steps, images):
    """Mosaic, cutmix and mixup copies of the shipped samples: every label loads, keypoints included."""
    recipe = (ROOT / "configs" / f"{sample}.yaml").read_text()
    head, _, _ = recipe.partition("  transforms:")
    file = tmp_path / "mixed.yaml"
    file.write_text(f"{head}  transforms: {steps}\n")
    out = tmp_path / "out"
    result = invoke("run", file, ROOT / "sample_data" / sample, out)
    assert result.exit_code == 0, result.output
    assert_clean(ultralytics_report(out / "data.yaml", task, tmp_path), images)
