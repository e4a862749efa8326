"""Mosaic, mixup, cutmix and copy_paste: pixels and every target follow, partners are part of
the recipe's determinism, and a changed partner remakes exactly the copies that used it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.core.partners import Ring, visited_are_current
from augcli.image.labels.shapes import Box
from augcli.image.mix import kernels, targets
from tests.test_cli import invoke, read_manifest, tree_digest

# one colour per object class, far apart, on a grey background
COLOURS = [(230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20), (230, 20, 230), (20, 230, 230)]
BACKGROUND = 128


def _scene(path: Path, objects: list[tuple[int, int, int, int, int]], size=(96, 72)) -> None:
    """A grey picture with solid rectangles (class, x0, y0, x1, y1 in pixel edges) and its YOLO labels."""
    width, height = size
    pixels = np.full((height, width, 3), BACKGROUND, np.uint8)
    lines = []
    for label, x0, y0, x1, y1 in objects:
        pixels[y0:y1, x0:x1] = COLOURS[label]
        cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
        lines.append(f"{label} {cx:.6f} {cy:.6f} {(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), pixels[:, :, ::-1])
    label_path = Path(str(path).replace("/images/", "/labels/")).with_suffix(".txt")
    label_path.parent.mkdir(parents=True, exist_ok=True)
    label_path.write_text("\n".join(lines) + "\n")


def _yolo_dataset(root: Path) -> Path:
    scenes = [
        [(0, 8, 8, 40, 30), (1, 50, 30, 90, 66)],
        [(2, 10, 40, 44, 70), (3, 60, 4, 92, 28)],
        [(4, 30, 20, 70, 52)],
        [(5, 4, 4, 30, 30), (0, 60, 40, 94, 70)],
        [(1, 20, 10, 80, 60)],
    ]
    for index, objects in enumerate(scenes):
        _scene(root / "images" / f"s{index}.png", objects)
    (root / "classes.txt").write_text("\n".join(f"c{i}" for i in range(len(COLOURS))) + "\n")
    return root


def _of_colour(pixels: np.ndarray, label: int) -> np.ndarray:
    return np.abs(pixels.astype(int) - COLOURS[label]).max(axis=2) < 40


def _read_boxes(label_file: Path, width: int, height: int) -> list[tuple[int, float, float, float, float]]:
    boxes = []
    for line in label_file.read_text().splitlines():
        label, cx, cy, w, h = line.split()[:5]
        cx, cy, w, h = float(cx) * width, float(cy) * height, float(w) * width, float(h) * height
        boxes.append((int(label), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return boxes


def _touch(box, window) -> bool:
    return box[0] < window[2] + 1 and box[2] > window[0] - 1 and box[1] < window[3] + 1 and box[3] > window[1] - 1


def _check_boxes_hug_pixels(out: Path) -> int:
    """Every written box is within 1 px of the visible pixels of its colour inside it, and every
    visible object (a blob of more than a few pixels) lies in a box of its class. Returns boxes seen."""
    seen = 0
    for image in sorted((out / "images").glob("*_aug*.png")):
        pixels = cv2.imread(str(image))[:, :, ::-1]
        height, width = pixels.shape[:2]
        boxes = _read_boxes(out / "labels" / f"{image.stem}.txt", width, height)
        for label in range(len(COLOURS)):
            colour = _of_colour(pixels, label)
            covered = np.zeros_like(colour)
            ours = [box[1:] for box in boxes if box[0] == label]
            for x0, y0, x1, y1 in ours:
                left, top = max(int(np.floor(x0)) - 1, 0), max(int(np.floor(y0)) - 1, 0)
                right, bottom = min(int(np.ceil(x1)) + 1, width), min(int(np.ceil(y1)) + 1, height)
                covered[top:bottom, left:right] = True
                near = [o for o in ours if o != (x0, y0, x1, y1) and _touch(o, (left, top, right, bottom))]
                if near:
                    continue  # two objects of one colour touch: which pixels are whose is not known
                seen += 1
                rows, cols = np.nonzero(colour[top:bottom, left:right])
                assert len(rows), f"{image.name}: box {label} {x0:.1f},{y0:.1f},{x1:.1f},{y1:.1f} is empty"
                tight = (left + cols.min(), top + rows.min(), left + cols.max() + 1, top + rows.max() + 1)
                assert np.allclose(tight, (x0, y0, x1, y1), atol=1.01), f"{image.name} {label}: {tight}"
            count, blobs, stats, _ = cv2.connectedComponentsWithStats(colour.astype(np.uint8))
            for blob in range(1, count):
                if stats[blob, cv2.CC_STAT_AREA] > 6:
                    assert covered[blobs == blob].all(), f"{image.name}: a visible object of class {label} has no box"
    return seen


RECIPES = {
    "mosaic": "    - mosaic: {size: [96, 128]}\n    - hflip: {p: 0.5}\n",
    "mosaic3": "    - mosaic: {grid: 3, jitter: 0.2}\n    - translate: {x: 0.1, y: 0.1}\n",
    "cutmix": "    - cutmix: {alpha: 1.0}\n    - scale: {factor: [0.8, 1.2], interpolation: nearest}\n",
    "chain": "    - one_of:\n        transforms: [mosaic, cutmix]\n    - vflip: {p: 0.5}\n    - cutmix\n",
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_box_hugs_the_visible_pixels_of_its_object(tmp_path, name):
    data = _yolo_dataset(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 5\ncopies: 4\nkeep_original: false\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  output: {format: png}\n  transforms:\n" + RECIPES[name].replace("{}", "{}")
    )
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert _check_boxes_hug_pixels(tmp_path / "out") > 20


def test_mixup_keeps_both_pictures_boxes_and_blends_by_the_recorded_weight(tmp_path):
    data = _yolo_dataset(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 2\nkeep_original: false\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  output: {format: png}\n  transforms:\n    - mixup: {alpha: 8, fit: stretch}\n"
    )
    assert invoke("run", recipe, data, tmp_path / "out").exit_code == 0
    for row in read_manifest(tmp_path / "out"):
        if row["kind"] != "copy" or not row["output"].endswith(".png"):
            continue
        (step,) = json.loads(row["transforms"])
        weight, (partner,) = step["params"]["weight"], step["params"]["partners"]
        assert 0.5 <= weight <= 1.0
        ours = cv2.imread(str(data / row["source"])).astype(float)
        theirs = cv2.imread(str(data / partner["path"])).astype(float)
        made = cv2.imread(str(tmp_path / "out" / row["output"])).astype(float)
        assert np.abs(made - (weight * ours + (1 - weight) * theirs)).max() <= 1.0
        label = lambda p: sorted(Path(p).read_text().splitlines())  # noqa: E731
        written = label(tmp_path / "out" / row["output"].replace("images/", "labels/").replace(".png", ".txt"))
        own = label(data / row["source"].replace("images/", "labels/").replace(".png", ".txt"))
        other = label(data / partner["path"].replace("images/", "labels/").replace(".png", ".txt"))
        assert [line.split()[0] for line in written] == sorted(line.split()[0] for line in own + other)


def _class_folders(root: Path, count: int = 3) -> Path:
    for name, colour in (("cat", (200, 40, 40)), ("dog", (40, 200, 40)), ("fox", (40, 40, 200))):
        for i in range(count):
            pixels = np.zeros((40, 60, 3), np.uint8)
            pixels[:] = colour
            pixels[i, i] = (i * 50) % 256  # every file differs
            (root / name).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / name / f"{i}.png"), pixels)
    return root


def _soft_labels(out: Path) -> dict[str, dict[str, float]]:
    with open(out / "soft_labels.csv", newline="") as handle:
        return {row.pop("path"): {k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)}


def test_soft_labels_sum_to_one_and_match_the_blend(tmp_path):
    data = _class_folders(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\ncopies: 3\nimage:\n  transforms:\n    - mixup: {alpha: 1.0}\n")
    assert invoke("run", recipe, data, tmp_path / "out").exit_code == 0
    soft = _soft_labels(tmp_path / "out")
    rows = {row["output"]: row for row in read_manifest(tmp_path / "out") if row["kind"] == "copy"}
    assert set(soft) == set(rows)
    for output, weights in soft.items():
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-5)
        (step,) = json.loads(rows[output]["transforms"])
        own, other = output.split("/")[0], step["params"]["partners"][0]["path"].split("/")[0]
        weight = step["params"]["weight"]
        expected = {own: weight} if own == other else {own: weight, other: 1 - weight}
        if own == other:
            expected[own] = 1.0
        for name, value in weights.items():
            assert value == pytest.approx(expected.get(name, 0.0), abs=1e-5)
        assert max(weights, key=weights.get) == own  # the copy lies in the folder of its larger share


def test_cutmix_soft_label_is_the_pasted_area(tmp_path):
    data = _class_folders(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 4\ncopies: 2\nkeep_original: false\nimage:\n  transforms:\n    - cutmix\n")
    assert invoke("run", recipe, data, tmp_path / "out").exit_code == 0
    soft = _soft_labels(tmp_path / "out")
    for row in read_manifest(tmp_path / "out"):
        if row["kind"] != "copy":
            continue
        (step,) = json.loads(row["transforms"])
        x0, y0, x1, y1 = step["params"]["box"]
        share = (x1 - x0) * (y1 - y0) / (60 * 40)
        own = row["output"].split("/")[0]
        if not step["params"]["partners"]:
            continue
        other = step["params"]["partners"][0]["path"].split("/")[0]
        if other != own:
            assert soft[row["output"]][other] == pytest.approx(share, abs=1e-5)
            assert soft[row["output"]][own] == pytest.approx(1 - share, abs=1e-5)
        made = cv2.imread(str(tmp_path / "out" / row["output"]))
        partner = cv2.imread(str(data / step["params"]["partners"][0]["path"]))
        assert np.array_equal(made[y0:y1, x0:x1], partner[y0:y1, x0:x1])  # same size: the same place


def test_same_bytes_for_workers_and_shards_and_a_changed_partner_remakes_exactly_its_users(tmp_path):
    data = _class_folders(tmp_path / "in", 4)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 9\ncopies: 2\nimage:\n  transforms:\n    - mosaic\n    - rotate: {degrees: 10}\n")
    one, two = tmp_path / "one", tmp_path / "two"
    assert invoke("run", recipe, data, one, "--workers", "1").exit_code == 0
    assert invoke("run", recipe, data, two, "--workers", "2").exit_code == 0
    assert tree_digest(one) == tree_digest(two)
    sharded = tmp_path / "sharded"
    for index in range(2):
        assert invoke("run", recipe, data, sharded, "--shard", f"{index}/2").exit_code == 0
    assert invoke("merge", sharded).exit_code == 0
    assert tree_digest(sharded) == tree_digest(one)

    changed = "dog/1.png"
    users = {
        row["output"]
        for row in read_manifest(one)
        if row["source"] == changed or f'"path":"{changed}"' in row["transforms"]
    }
    assert len(users) > 3
    stamps = {p: p.stat().st_mtime_ns for p in one.rglob("*.png")}
    pixels = cv2.imread(str(data / changed))
    pixels[10:20, 10:20] = 255
    cv2.imwrite(str(data / changed), pixels)
    result = invoke("run", recipe, data, one)
    assert result.exit_code == 0, result.output
    rewritten = {p.relative_to(one).as_posix() for p, stamp in stamps.items() if p.stat().st_mtime_ns != stamp}
    assert rewritten == users
    assert "0 made" in invoke("run", recipe, data, one).output


def test_adding_an_input_keeps_almost_every_partner(tmp_path):
    names = [f"c/{i}.png" for i in range(200)]
    before = Ring(3, names)
    after = Ring(3, [*names, "c/new.png"])
    moved = sum(before.draw(n, k, 3) != after.draw(n, k, 3) for n in names for k in range(2))
    assert moved <= 2 * (2 * 3 + 2)  # only the inputs just before it on the ring: copies x (slots + fallbacks)

    def firsts(ring, name, copy):
        return [slot[0] for slot in ring.draw(name, copy, 3)]

    taken = [f for n in names for k in range(2) for f in firsts(before, n, k)]
    gone = max(set(taken), key=taken.count)  # the input most copies took
    removed = Ring(3, [n for n in names if n != gone])
    rest = [n for n in names if n != gone]
    users = {(n, k) for n in rest for k in range(2) if gone in firsts(before, n, k)}
    changed = {(n, k) for n in rest for k in range(2) if firsts(before, n, k) != firsts(removed, n, k)}
    # the copies that took it take another, and later copies of those same inputs shift by one;
    # every other input keeps its partners
    assert users and users <= changed and {n for n, _ in changed} == {n for n, _ in users}


def test_partners_are_never_the_input_itself_nor_repeated_nor_from_another_split(tmp_path):
    ring = Ring(1, ["a.png", "b.png", "c.png", "d.png"])
    drawn = ring.draw("a.png", 0, 3)
    firsts = [slot[0] for slot in drawn]
    assert "a.png" not in firsts and len(set(firsts)) == 3
    assert Ring(1, ["only.png"]).draw("only.png", 0, 2) == (("only.png",), ("only.png",))
    data = tmp_path / "in"
    for split in ("train", "val"):
        for i in range(3):
            (data / split / "c").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(data / split / "c" / f"{i}.png"), np.full((20, 20, 3), 10 * i, np.uint8))
    for i in range(3):  # passed through, in the same split and folder: never a partner
        cv2.imwrite(str(data / "train" / "c" / f"keep{i}.png"), np.full((20, 20, 3), 200, np.uint8))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 3\nimage:\n  passthrough: ['val/**', 'train/c/keep*']\n  transforms: [mosaic]\n")
    assert invoke("run", recipe, data, tmp_path / "out").exit_code == 0
    taken = set()
    for row in read_manifest(tmp_path / "out"):
        if row["kind"] == "copy":
            (step,) = json.loads(row["transforms"])
            taken |= {partner["path"] for partner in step["params"]["partners"]}
    assert taken == {f"train/c/{i}.png" for i in range(3)}


def test_visited_partners_are_current_only_with_the_same_path_and_bytes():
    drawn = (("b", "c", "d"), ("c", "d", "e"))
    hashes = {"b": "1", "c": "2", "d": "3"}
    assert visited_are_current([[0, "b", "1"]], drawn, hashes)
    assert not visited_are_current([[0, "b", "9"]], drawn, hashes)  # b changed
    assert not visited_are_current([[0, "c", "2"]], drawn, hashes)  # slot 0 now takes b first
    assert visited_are_current([[1, "c", "2"], [0, "b", "1"]], drawn, hashes)
    assert not visited_are_current([[5, "c", "2"]], drawn, hashes)


def test_replay_makes_a_mixed_copy_again(tmp_path):
    data = _yolo_dataset(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 3\ncopies: 2\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  transforms:\n    - mosaic\n    - copy_paste: {p: 0}\n    - cutmix\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    result = invoke("replay", out, "--all")
    assert result.exit_code == 0, result.output


def test_occluded_box_shrinks_to_its_visible_part_or_goes():
    box = Box(10.0, 10.0, 30.0, 20.0, 0)
    cover = np.zeros((40, 40), bool)
    cover[:, 20:] = True  # the right half of the box is covered
    shrunk = targets.occluded(box, cover, 0.0)
    assert (shrunk.x0, shrunk.y0, shrunk.x1, shrunk.y1) == (10.0, 10.0, 20.0, 20.0)
    assert targets.occluded(box, cover, 0.6) is None  # half is seen: under 0.6
    cover[:] = False
    cover[12:15, 12:15] = True  # a hole inside: the box stays as it is
    kept = targets.occluded(box, cover, 0.0)
    assert (kept.x0, kept.y0, kept.x1, kept.y1) == (10.0, 10.0, 30.0, 20.0)


def test_polygons_under_a_paste_stay_valid():
    square = Box(10.0, 10.0, 30.0, 30.0, 0, polygons=((10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0),))
    cover = np.zeros((40, 40), bool)
    cover[15:25, 15:25] = True  # a hole in the middle: the outline is traced around it
    moved = targets.occluded(square, cover, 0.0)
    for flat in moved.polygons:
        points = np.asarray(flat).reshape(-1, 2)
        assert len(points) >= 3 and (points >= 0).all() and (points <= 40).all()
    cover[:] = False
    cover[:, 20:] = True
    (half,) = targets.occluded(square, cover, 0.0).polygons
    raster = kernels.polygon_raster((half,), (40, 40))
    assert raster[10:30, 10:20].all() and not raster[:, 20:].any()


def test_conform_matches_depth_and_channels():
    grey16 = np.full((4, 4), 65535, np.uint16)
    rgb = np.zeros((4, 4, 3), np.uint8)
    assert kernels.conform(grey16, rgb).shape == (4, 4, 3) and kernels.conform(grey16, rgb).max() == 255
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert kernels.conform(rgb, rgba)[:, :, 3].min() == 255


def test_copy_paste_needs_object_shapes(tmp_path):
    data = _class_folders(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("image:\n  transforms: [copy_paste]\n")
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 2 and "copy_paste" in result.output and not (tmp_path / "out").exists()


def test_copy_paste_pastes_segments_that_cover_what_lies_under_them(tmp_path):
    data = tmp_path / "in"
    for index in range(4):
        width, height = 80, 60
        pixels = np.full((height, width, 3), BACKGROUND, np.uint8)
        label = index % len(COLOURS)
        triangle = np.array([[10 + index * 5, 50], [40 + index * 5, 50], [25 + index * 5, 10]])
        cv2.fillPoly(pixels, [triangle], COLOURS[label][::-1])
        (data / "images").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(data / "images" / f"t{index}.png"), pixels)
        flat = " ".join(f"{x / width:.6f} {y / height:.6f}" for x, y in triangle + 0.5)
        (data / "labels").mkdir(exist_ok=True)
        (data / "labels" / f"t{index}.txt").write_text(f"{label} {flat}\n")
    (data / "classes.txt").write_text("\n".join(f"c{i}" for i in range(len(COLOURS))) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 1\ncopies: 3\nkeep_original: false\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  transforms:\n    - copy_paste: {partners: 2, objects: 1, scale: [0.8, 1.0]}\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    pasted = 0
    for row in read_manifest(out):
        if not row["output"].endswith(".png"):
            continue
        (step,) = json.loads(row["transforms"])
        pasted += sum(len(p["objects"]) for p in step["params"]["partners"])
        segments = (out / row["output"].replace("images/", "labels/").replace(".png", ".txt")).read_text().splitlines()
        for line in segments:
            values = [float(v) for v in line.split()[1:]]
            points = np.asarray(values).reshape(-1, 2)
            assert len(points) >= 3 and (points >= 0).all() and (points <= 1).all()
    assert pasted >= 6


def test_balance_by_object_brings_a_twenty_to_one_imbalance_to_two_to_one(tmp_path):
    data = tmp_path / "in"
    for index in range(40):
        objects = [(0, 4 + index % 30, 6, 30 + index % 30, 30)]
        if index in (7, 23):
            objects.append((1, 50, 36, 80, 64))
        _scene(data / "images" / f"p{index:02d}.png", objects)
    (data / "classes.txt").write_text("\n".join(f"c{i}" for i in range(len(COLOURS))) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 1\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  output: {format: png}\n  balance: {by: object}\n  transforms: [hflip]\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    assert "balance by object" in result.output and "; 1 2 -> 40" in result.output
    counts = {0: 0, 1: 0}
    labels = sorted((out / "labels").glob("*.txt"))
    for label in labels:
        for line in label.read_text().splitlines():
            counts[int(line.split()[0])] += 1
    assert len(labels) <= 40 * 2.5  # the originals and at most 1.5x as many pictures added
    assert counts[0] <= 2 * counts[1], counts  # 20:1 in INPUT, 2:1 or better in OUTPUT
    assert _check_boxes_hug_pixels(out) > 60
    rows = [row for row in read_manifest(out) if row["kind"] == "copy" and row["output"].endswith(".png")]
    pasted = [json.loads(row["transforms"])[-1] for row in rows]
    assert sum(len(p["params"]["partners"]) for p in pasted if p["name"] == "object_balance") == 36
    assert {entry["path"] for p in pasted for entry in p["params"].get("partners", [])} <= {
        "images/p07.png",
        "images/p23.png",
    }
    assert invoke("replay", out, "--all").exit_code == 0
    assert "0 made" in invoke("run", recipe, data, out).output


def test_every_visible_keypoint_stays_on_its_dot(tmp_path):
    data = tmp_path / "in"
    dot = (250, 250, 0)
    width, height = 96, 72
    for index in range(5):
        pixels = np.full((height, width, 3), BACKGROUND, np.uint8)
        x0, y0, x1, y1 = 10 + 8 * index, 10, 50 + 8 * index, 60
        pixels[y0:y1, x0:x1] = COLOURS[0]
        points = [(x0 + 8, y0 + 10), (x1 - 8, y1 - 12)]
        for x, y in points:
            pixels[y - 2 : y + 3, x - 2 : x + 3] = dot
        (data / "images").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(data / "images" / f"k{index}.png"), pixels[:, :, ::-1])
        cx, cy, w, h = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height
        box = f"{cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
        kpts = " ".join(f"{(x + 0.5) / width:.6f} {(y + 0.5) / height:.6f} 2" for x, y in points)
        (data / "labels").mkdir(exist_ok=True)
        (data / "labels" / f"k{index}.txt").write_text(f"0 {box} {kpts}\n")
    (data / "data.yaml").write_text("train: images\nnames: [person]\nkpt_shape: [2, 3]\nflip_idx: [1, 0]\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 3\ncopies: 6\nkeep_original: false\nimage:\n  annotations: {format: yolo}\n  output: {format: png}\n"
        "  transforms: [mosaic, {hflip: {p: 0.5}}, {cutmix: {alpha: 2}}]\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    checked = hidden = 0
    for image in sorted((out / "images").glob("*.png")):
        pixels = cv2.imread(str(image))[:, :, ::-1].astype(int)
        on_dot = np.abs(pixels - dot).max(axis=2) < 40
        for line in (out / "labels" / f"{image.stem}.txt").read_text().splitlines():
            values = [float(v) for v in line.split()[5:]]
            for x, y, visible in zip(values[0::3], values[1::3], values[2::3], strict=True):
                col, row = int(x * width), int(y * height)
                if visible == 2:
                    assert on_dot[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2].any(), (image.name, x, y)
                    checked += 1
                elif visible == 1:
                    hidden += 1
    assert checked > 30 and hidden > 0


def test_masks_follow_their_pixels_through_every_mix(tmp_path):
    data = _yolo_dataset(tmp_path / "in")
    for image in sorted((data / "images").glob("*.png")):
        pixels = cv2.imread(str(image))[:, :, ::-1]
        mask = np.zeros(pixels.shape[:2], np.uint8)
        for label in range(len(COLOURS)):
            mask[_of_colour(pixels, label)] = label + 1
        (data / "masks").mkdir(exist_ok=True)
        cv2.imwrite(str(data / "masks" / image.name), mask)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 8\ncopies: 4\nkeep_original: false\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  masks: {path: masks}\n  output: {format: png}\n"
        "  transforms: [mosaic, {copy_paste: {objects: 2}}, {mixup: {p: 0}}, cutmix, {hflip: {p: 0.5}}]\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    for image in sorted((out / "images").glob("*.png")):
        pixels = cv2.imread(str(image))[:, :, ::-1]
        mask = cv2.imread(str(out / "masks" / image.name), cv2.IMREAD_UNCHANGED)
        for label in range(len(COLOURS)):
            colour = _of_colour(pixels, label)
            inner = cv2.erode(colour.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # edges resample
            assert (mask[inner] == label + 1).all(), (image.name, label)
        assert (mask[np.abs(pixels.astype(int) - BACKGROUND).max(axis=2) < 10] == 0).mean() > 0.97


def test_a_tiles_boxes_by_arithmetic_are_the_boxes_the_shape_path_gives():
    """targets.placed moves bare boxes through a tile's scale and shift by arithmetic; it must agree
    with shapes.move (into the cell, then onto the canvas) to the last bit that matters."""
    from augcli.image import geometry
    from augcli.image.labels import shapes

    rng = np.random.default_rng(0)
    for _ in range(500):
        x0, y0 = rng.uniform(-20, 600, 2)
        w, h = rng.uniform(0.5, 200, 2)
        box = Box(x0, y0, x0 + w, y0 + h, 1)
        cell = (37, 12, 37 + int(rng.integers(50, 400)), 12 + int(rng.integers(50, 400)))
        size = (cell[2] - cell[0], cell[3] - cell[1])
        matrix = kernels.cover_matrix((640, 480), size, tuple(rng.random(2)))
        fast = targets.placed([box], matrix, cell, (800, 800), False)
        inside = [shapes.move(box, matrix, size, False)]
        slow = [shapes.move(b, geometry.translation(*cell[:2]), (800, 800), False) for b in inside if b.area > 0]
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow, strict=True):
            ours, theirs = [a.x0, a.y0, a.x1, a.y1, *a.unclipped], [b.x0, b.y0, b.x1, b.y1, *b.unclipped]
            assert np.allclose(ours, theirs, atol=1e-9)


def _users(out: Path, partner: str) -> set[str]:
    """The outputs made from `partner`: its own and those whose records name it (label files too)."""
    return {
        row["output"]
        for row in read_manifest(out)
        if row["source"] == partner or f'"path":"{partner}"' in row["transforms"]
    }


def _rewritten(out: Path, stamps: dict[Path, int]) -> set[str]:
    return {p.relative_to(out).as_posix() for p, stamp in stamps.items() if p.stat().st_mtime_ns != stamp}


def test_a_partners_changed_label_remakes_exactly_the_copies_that_took_its_boxes(tmp_path):
    data = _yolo_dataset(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 6\ncopies: 2\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n  transforms: [mosaic]\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    users = {u for u in _users(out, "images/s2.png") if u.startswith(("images/", "labels/"))}
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    label = data / "labels" / "s2.txt"
    label.write_text(label.read_text().replace("4 ", "3 "))  # the image is the same; its object's class is not
    assert invoke("run", recipe, data, out).exit_code == 0
    rewritten = _rewritten(out, stamps) - {"manifest.csv"}
    assert rewritten == users and any("_aug" in u and not u.startswith("images/s2") for u in users)


def test_a_partner_that_cannot_be_read_gives_way_to_the_next_and_a_rerun_is_current(tmp_path):
    data = _class_folders(tmp_path / "in", 4)
    (data / "cat" / "broken.png").write_bytes(b"not a picture")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 2\ncopies: 3\nimage:\n  transforms: [mosaic]\n")
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "--allow-failures")
    assert result.exit_code == 0 and "broken.png" in result.output  # it fails alone
    taken = [
        json.loads(row["transforms"])[0]["params"]["partners"] for row in read_manifest(out) if row["kind"] == "copy"
    ]
    assert taken and all(p["path"] != "cat/broken.png" for partners in taken for p in partners)
    state = json.loads((out / ".augcli-state.json").read_text())
    tried = [entry for record in state["units"].values() for entry in record.get("partners", [])]
    assert any(path == "cat/broken.png" for _, path, _ in tried)  # it was tried, and is remembered as such
    again = invoke("run", recipe, data, out, "--allow-failures")
    assert "0 made" in again.output or "1 failed" in again.output
    assert not any("_aug" in line for line in again.output.splitlines() if "made" in line and "0 made" not in line)


def test_a_copied_mixed_set_is_current_and_a_removed_partner_remakes_its_users(tmp_path):
    data = _class_folders(tmp_path / "in", 4)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 4\ncopies: 2\nimage:\n  transforms: [mixup]\n")
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    moved_in, moved_out = tmp_path / "elsewhere" / "in", tmp_path / "elsewhere" / "out"
    shutil.copytree(data, moved_in)  # new inodes and times: content decides
    shutil.copytree(out, moved_out)
    assert invoke("run", recipe, moved_in, moved_out, "--check").exit_code == 0
    users = _users(moved_out, "dog/2.png") - {"dog/2.png"}
    stamps = {p: p.stat().st_mtime_ns for p in moved_out.rglob("*.png")}
    (moved_in / "dog" / "2.png").unlink()
    assert invoke("run", recipe, moved_in, moved_out).exit_code == 0
    kept = {p: s for p, s in stamps.items() if p.exists()}
    rewritten = _rewritten(moved_out, kept)
    # the copies that took it are remade, and later copies of the same inputs (their ring window
    # moved by one); every other input's copies stay as they were
    others = {u for u in users if not u.startswith("dog/2")}  # its own copies are gone with it
    assert not any((moved_out / u).exists() for u in users - others)
    assert others and others <= rewritten
    assert {u.split("_aug")[0] for u in rewritten} == {u.split("_aug")[0] for u in others}


def test_an_edited_soft_label_entry_in_the_state_is_left_out_not_fatal():
    from augcli.image import soft_labels

    entries = [("a/1_aug0.png", {"shares": {"a": 0.7, "b": 0.3}}), ("a/2_aug0.png", {"shares": {"a": "x"}})]
    entries += [("a/3_aug0.png", {"shares": {"a": float("nan")}}), ("a/4_aug0.png", {"shares": ["a"]})]
    ((name, data),) = soft_labels.finish(entries)
    assert name == "soft_labels.csv" and data.decode() == "path,a,b\na/1_aug0.png,0.7,0.3\n"


def test_the_api_renders_a_mixed_copy_as_the_run_made_it(tmp_path):
    import augcli

    data = _class_folders(tmp_path / "in", 3)
    text = "seed: 8\ncopies: 2\nimage:\n  transforms: [mosaic, cutmix]\n"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(text)
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    pipeline = augcli.parse_recipe(text).pipeline("image")
    with pytest.raises(ValueError, match="input_root"):
        pipeline.render(data / "dog" / "1.png", 1)
    assert pipeline.render("dog/1.png", 1, input_root=data) == (out / "dog" / "1_aug1.png").read_bytes()
