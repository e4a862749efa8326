"""Oriented boxes (YOLO-OBB, DOTA): read, moved by every geometric and mixing step as four corners,
written as the minimum-area rectangle of what is left; checked against the pixels they enclose."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.image.labels import obb
from augcli.image.labels.shapes import Box
from tests.test_cli import invoke, read_manifest

COLOURS = [(230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20)]
BACKGROUND = 128
W, H = 128, 96


def _corners(cx: float, cy: float, w: float, h: float, degrees: float) -> np.ndarray:
    angle = math.radians(degrees)
    along, across = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])
    centre = np.array([cx, cy])
    signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
    return np.array([centre + sx * w / 2 * along + sy * h / 2 * across for sx, sy in signs])


def _inside(cx: float, cy: float, w: float, h: float, degrees: float) -> np.ndarray:
    """The pixels whose centres lie in the rotated rectangle (exactly the labelled shape)."""
    angle = math.radians(degrees)
    y, x = np.mgrid[0:H, 0:W] + 0.5
    along = (x - cx) * math.cos(angle) + (y - cy) * math.sin(angle)
    across = -(x - cx) * math.sin(angle) + (y - cy) * math.cos(angle)
    return (np.abs(along) <= w / 2) & (np.abs(across) <= h / 2)


def _dataset(root: Path, fmt: str) -> Path:
    """Rotated solid rectangles, one colour per class, labelled in `fmt` (yolo_obb or dota)."""
    scenes = [
        [(0, 40, 40, 40, 18, 30), (1, 90, 60, 30, 20, -20)],
        [(2, 60, 45, 50, 24, 60), (3, 25, 75, 20, 12, 10)],
        [(1, 70, 30, 44, 16, 135), (0, 30, 70, 24, 24, 45)],
        [(3, 64, 48, 60, 30, 5)],
    ]
    for index, objects in enumerate(scenes):
        pixels = np.full((H, W, 3), BACKGROUND, np.uint8)
        lines = []
        for label, cx, cy, w, h, degrees in objects:
            corners = _corners(cx, cy, w, h, degrees)
            pixels[_inside(cx, cy, w, h, degrees)] = COLOURS[label][::-1]
            if fmt == "yolo_obb":
                lines.append(f"{label} " + " ".join(f"{x / W:.6f} {y / H:.6f}" for x, y in corners))
            else:
                lines.append(" ".join(f"{x:.2f} {y:.2f}" for x, y in corners) + f" c{label} 0")
        (root / "images").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / f"s{index}.png"), pixels)
        folder = root / "labels"
        folder.mkdir(exist_ok=True)
        header = ["imagesource:GoogleEarth", "gsd:0.5"] if fmt == "dota" else []
        (folder / f"s{index}.txt").write_text("\n".join(header + lines) + "\n")
    if fmt == "yolo_obb":
        (root / "data.yaml").write_text("train: images\nval: images\nnames: [a, b, c, d]\n")
    return root


def _read(label_file: Path, fmt: str, width: int, height: int) -> list[tuple[int, np.ndarray]]:
    found = []
    for line in label_file.read_text().splitlines():
        fields = line.split()
        if fmt == "dota":
            if ":" in fields[0]:
                continue
            found.append((int(fields[8][1:]), np.array(fields[:8], float).reshape(4, 2)))
        else:
            found.append((int(fields[0]), np.array(fields[1:], float).reshape(4, 2) * (width, height)))
    return found


def _check(out: Path, fmt: str) -> int:
    """Every written OBB's corners lie within 1.5 px of the minimum-area rectangle of the visible
    pixels of its colour; every visible object has one."""
    checked = 0
    for image in sorted((out / "images").glob("*_aug*.png")):
        pixels = cv2.imread(str(image))[:, :, ::-1].astype(int)
        height, width = pixels.shape[:2]
        boxes = _read(out / "labels" / f"{image.stem}.txt", fmt, width, height)
        for label, colour in enumerate(COLOURS):
            mine = np.abs(pixels - colour).max(axis=2) < 40
            ours = [corners for lab, corners in boxes if lab == label]
            count, blobs, stats, _ = cv2.connectedComponentsWithStats(mine.astype(np.uint8))
            visible = [b for b in range(1, count) if stats[b, cv2.CC_STAT_AREA] > 12]
            assert ours or not visible, (image.name, label)  # a visible object has a box
            if len(visible) != 1 or len(ours) != 1 or count - 1 > len(visible):
                continue  # several pieces of one colour (a sliver a paste left): which corners are whose is not known
            rows, cols = np.nonzero(blobs == visible[0])
            area = cv2.contourArea(ours[0].astype(np.float32))
            if len(rows) < 0.95 * area:
                continue  # a paste cut it into an L: the rectangle keeps its own angle (checked below)
            edge = ours[0][1] - ours[0][0]
            tilt = abs(math.degrees(math.atan2(edge[1], edge[0]))) % 90
            if 0.05 < min(tilt, 90 - tilt) < 3:
                continue  # nearly upright: the pixels' staircase reads as upright, no reference
            points = np.column_stack([cols + 0.5, rows + 0.5]).astype(np.float32)
            (cx, cy), (w, h), angle = cv2.minAreaRect(points)
            theirs = cv2.boxPoints(((cx, cy), (w + 1, h + 1), angle))  # pixel centres -> pixel edges
            theirs = np.clip(theirs, 0, (width, height))  # an object cut by the border: kept inside
            distances = np.linalg.norm(ours[0][:, None, :] - theirs[None, :, :], axis=2).min(axis=1)
            assert distances.max() <= 1.5, (image.name, label, ours[0].round(1).tolist(), theirs.round(1).tolist())
            checked += 1
    return checked


CHAINS = {
    "geometric": "[{rotate: {degrees: 40, interpolation: nearest}}, hflip, "
    "{scale: {factor: [0.8, 1.1], interpolation: nearest}}]",
    "mixing": "[mosaic, {rot90: {}}, {translate: {x: 0.1, y: 0.1}}]",
    "paste": "[{copy_paste: {objects: [1, 2], scale: [0.8, 1.0], flip: 0.5}}, "
    "{rotate: {degrees: 15, interpolation: nearest}}]",
}


@pytest.mark.parametrize("fmt", ["yolo_obb", "dota"])
@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_oriented_boxes_follow_their_rectangles(tmp_path, fmt, chain):
    data = _dataset(tmp_path / "in", fmt)
    path = "" if fmt == "yolo_obb" else ", path: labels"
    images = "" if fmt == "yolo_obb" else "  images: images\n"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"seed: 4\ncopies: 4\nkeep_original: false\nimage:\n{images}  annotations: {{format: {fmt}{path}}}\n"
        f"  boxes: {{min_visibility: 0.3}}\n  output: {{format: png}}\n  transforms: {CHAINS[chain]}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    assert _check(out, fmt) >= 10
    if fmt == "dota":  # the header lines travel with every copy
        first = next((out / "labels").glob("*_aug0.txt")).read_text().splitlines()
        assert first[:2] == ["imagesource:GoogleEarth", "gsd:0.5"]


def test_a_perspective_step_gives_the_minimum_area_rectangle_of_the_moved_corners():
    square = Box(10.0, 10.0, 30.0, 20.0, 0, ((10.0, 10.0, 30.0, 10.0, 30.0, 20.0, 10.0, 20.0),), outline=True)
    assert sorted(obb.rectangle(square, 64, 64)) == [(10.0, 10.0), (10.0, 20.0), (30.0, 10.0), (30.0, 20.0)]
    trapezium = Box(0, 0, 40, 20, 0, ((10.0, 10.0, 30.0, 10.0, 40.0, 20.0, 0.0, 20.0),), outline=True)
    corners = np.array(obb.rectangle(trapezium, 64, 64))
    edges = np.linalg.norm(corners - np.roll(corners, 1, axis=0), axis=1)
    assert sorted(edges.round(3).tolist()) == [10.0, 10.0, 40.0, 40.0]  # the 40 x 10 box around it
    outside = Box(0, 0, 20, 20, 0, ((-10.0, 5.0, 10.0, 5.0, 10.0, 15.0, -10.0, 15.0),), outline=True)
    assert min(x for x, _ in obb.rectangle(outside, 64, 64)) == 0.0  # kept inside the picture


def test_a_yolo_obb_file_round_trips():
    boxes = [Box(0, 0, 0, 0, 2, ((8.0, 4.0, 24.0, 4.0, 24.0, 12.0, 8.0, 12.0),), outline=True)]
    text = obb.write_yolo(boxes, 32, 16).decode()
    assert text.startswith("2 ") and text.endswith("\n")
    values = [float(v) for v in text.split()[1:]]
    corners = sorted(zip(values[0::2], values[1::2], strict=True))
    assert corners == [(0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)]


def test_manifest_and_plan_count_dota_classes(tmp_path):
    data = _dataset(tmp_path / "in", "dota")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "copies: 1\nimage:\n  images: images\n  annotations: {format: dota, path: labels}\n  balance: {by: object}\n"
        "  transforms: [hflip]\n"
    )
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "c3 2 ->" in result.output  # classes are DOTA's names
    assert {r["output"] for r in read_manifest(tmp_path / "out")} >= {"labels/s0_aug0.txt", "images/s0_aug0.png"}


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("ultralytics") is None,
    reason="ultralytics' dataset checks import torch",
)
def test_ultralytics_reads_every_oriented_copy(tmp_path):
    from tests.test_ultralytics import assert_clean, ultralytics_report

    data = _dataset(tmp_path / "in", "yolo_obb")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "copies: 2\nimage:\n  annotations: {format: yolo_obb}\n  transforms: [mosaic, {rotate: {degrees: 30}}]\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    report = ultralytics_report(out / "data.yaml", "obb", tmp_path)
    assert_clean(report, {"train": 12, "val": 12})


def test_an_oriented_box_cut_by_a_paste_keeps_its_angle():
    from augcli.image.mix import targets

    corners = _corners(40, 40, 40, 20, 30)
    box = obb._box(corners.reshape(-1).tolist(), 0)
    cover = np.zeros((96, 128), bool)
    cover[:, 45:] = True  # the right part is covered
    cut = targets.occluded(box, cover, 0.0)
    (flat,) = cut.polygons
    moved = np.asarray(flat).reshape(4, 2)
    angle = math.degrees(math.atan2(*(moved[1] - moved[0])[::-1]))
    assert abs(angle - 30) < 1e-6  # the same orientation
    length, width = np.linalg.norm(moved[1] - moved[0]), np.linalg.norm(moved[3] - moved[0])
    assert width == pytest.approx(20, abs=1.5) and 20 < length < 35  # shorter along the cut axis only
    seen = _inside(40, 40, 40, 20, 30) & ~cover
    rows, cols = np.nonzero(seen)
    outline = moved.astype(np.float32)
    inside = [cv2.pointPolygonTest(outline, (c + 0.5, r + 0.5), True) for r, c in zip(rows, cols, strict=True)]
    assert min(inside) >= -0.01 and sorted(inside)[:3][0] < 1.0  # every seen pixel inside, a side touching one
