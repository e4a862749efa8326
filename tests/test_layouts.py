"""Real dataset layouts: ultralytics' YOLO conventions (label rule, data.yaml, segments, pose),
keypoints through geometric chains, refusals that stop silent label loss, passthrough splits,
class balancing and the manifest columns training code reads."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augcli.build.plan import split_of
from augcli.core.balance import balanced_copies
from augcli.core.globs import tail_matches
from augcli.core.recipe import parse_recipe
from augcli.core.transforms import plan_pipeline
from augcli.image.labels import companions, dataset_yaml, shapes, yolo
from augcli.image.labels.companions import Layout
from augcli.image.labels.shapes import Box
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo
from tests.test_annotations import EXACT, ROTATING, detection_dataset, scene
from tests.test_cli import invoke, read_manifest, tree_digest

ROOT = Path(__file__).resolve().parent.parent
W, H = 64, 48


def write_recipe(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def ultralytics_dataset(root: Path, splits=("train", "val"), per_split: int = 3, data_yaml: str | None = None) -> Path:
    """images/<split>/im<i>.png with two coloured objects, labels/<split>/im<i>.txt, data.yaml."""
    for split in splits:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(per_split):
            pixels, boxes = scene([(4 + i, 6, 14, 10), (36, 24 + i, 20, 12)])
            Image.fromarray(pixels).save(root / "images" / split / f"im{i}.png")
            lines = [
                f"{b.label} {(b.x0 + b.x1) / 2 / W:.6f} {(b.y0 + b.y1) / 2 / H:.6f} "
                f"{b.width / W:.6f} {b.height / H:.6f}"
                for b in boxes
            ]
            (root / "labels" / split / f"im{i}.txt").write_text("\n".join(lines) + "\n")
    text = data_yaml or "path: /somewhere/else\ntrain: images/train\nval: images/val\nnames: [red, green]\n"
    (root / "data.yaml").write_text(text)
    return root


ANNOTATED = "image:\n  annotations: {}\n  transforms: [hflip]\n"
YOLO_RECIPE = "seed: 3\ncopies: 2\nimage:\n  annotations: {format: yolo}\n{extra}  transforms:\n{steps}"
HFLIP = "    - hflip\n"


def yolo_recipe(tmp_path: Path, steps: str = HFLIP, extra: str = "") -> Path:
    return write_recipe(tmp_path, YOLO_RECIPE.replace("{extra}", extra).replace("{steps}", steps))


# --- the ultralytics label rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "label"),
    [
        ("images/a.jpg", "labels/a.txt"),
        ("images/train/a.b.jpg", "labels/train/a.b.txt"),
        ("train/images/a.png", "train/labels/a.txt"),  # Roboflow's export
        ("images/x/images/a.png", "images/x/labels/a.txt"),  # the last images/ folder only
        ("pics/a.png", "pics/a.txt"),  # no images/ folder: beside the image, as ultralytics does
    ],
)
def test_labels_are_found_by_ultralytics_rule(image, label):
    assert companions.ultralytics_label(image) == label
    assert Layout(Path("."), format="yolo").label_path(image) == label


def test_yolo_labels_default_to_ultralytics_layout_and_move(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    out = tmp_path / "out"
    result = invoke("run", yolo_recipe(tmp_path), data, out)
    assert result.exit_code == 0, result.output
    for split in ("train", "val"):
        for i in range(3):
            source = yolo.read(data / "labels" / split / f"im{i}.txt", W, H, 2)[0]
            for k in range(2):
                moved = yolo.read(out / "labels" / split / f"im{i}_aug{k}.txt", W, H, 2)[0]
                expected = [(b.label, W - b.x1, W - b.x0) for b in source]
                assert np.allclose(expected, [(b.label, b.x0, b.x1) for b in moved], atol=1e-4)
    assert not (out / "labels" / "images").exists()


# --- data.yaml ------------------------------------------------------------------------------------


def test_data_yaml_is_rewritten_to_point_at_output(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    out = tmp_path / "out"
    assert invoke("run", yolo_recipe(tmp_path), data, out).exit_code == 0
    written = yaml.safe_load((out / "data.yaml").read_text())
    assert written == {"train": "images/train", "val": "images/val", "names": ["red", "green"]}  # no path: OUTPUT
    assert (out / "data.yaml").read_text().startswith("# Written by augcli")
    rows = {row["output"]: row for row in read_manifest(out)}
    assert rows["data.yaml"]["kind"] == "dataset"
    # where OUTPUT lives does not change its bytes
    other = tmp_path / "elsewhere" / "out2"
    assert invoke("run", yolo_recipe(tmp_path), data, other).exit_code == 0
    assert tree_digest(out) == tree_digest(other)


def test_data_yaml_splits_resolve_against_path_or_the_file_and_stay_inside_input(tmp_path):
    data = ultralytics_dataset(
        tmp_path / "data",
        data_yaml=f"path: {tmp_path / 'data'}\ntrain: {tmp_path / 'data' / 'images' / 'train'}\n"
        "val: [images/val]\ntest: ../outside\nnames: {0: red, 1: green}\n",
    )
    found = dataset_yaml.read(data, "data.yaml")
    assert found.splits == {"train": ("images/train",), "val": ("images/val",)}
    assert found.names == ("red", "green") and found.class_count == 2
    assert any("test: ../outside is not under INPUT" in w for w in found.warnings)
    written = yaml.safe_load(dataset_yaml.rewrite(data, found))
    assert written == {
        "train": "images/train",
        "val": ["images/val"],
        "test": "../outside",
        "names": {0: "red", 1: "green"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train: a\n", "has no 'names:' list"),
        ("names: [a]\nkpt_shape: [3, 4]\n", "kpt_shape must be \\[keypoints, 2 or 3\\]"),
        ("names: [a]\nkpt_shape: [3, 3]\nflip_idx: [0, 1]\n", "each of the 3 keypoint indices"),
        ("names: [a]\nkpt_shape: [3, 3]\nflip_idx: [1, 2, 0]\n", "pair keypoints both ways"),
    ],
)
def test_bad_data_yaml_stops_the_run_naming_the_key(tmp_path, text, message):
    data = ultralytics_dataset(tmp_path / "data", data_yaml=text)
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 2
    import re

    assert re.search(message, result.output), result.output
    assert not (tmp_path / "out").exists()


# --- segments and pose ----------------------------------------------------------------------------


def test_yolo_segments_move_as_polygons_and_their_box_follows(tmp_path):
    label = "1 0.100000 0.100000 0.400000 0.100000 0.100000 0.500000\n"
    path = tmp_path / "a.txt"
    path.write_text(label)
    boxes, _ = yolo.read(path, 100, 50, 2)
    (box,) = boxes
    assert box.outline and (box.x0, box.y0, box.x1, box.y1) == pytest.approx((10, 5, 40, 25))
    assert yolo.write(boxes, 100, 50) == label.encode()  # identity round trip
    flip = np.array([[-1.0, 0, 99], [0, 1, 0], [0, 0, 1]])  # hflip of a 100-pixel-wide image (pixel centres)
    moved = shapes.move(box, flip, (100, 50), from_polygons=False)
    assert yolo.write([moved], 100, 50) == b"1 0.900000 0.100000 0.600000 0.100000 0.900000 0.500000\n"
    assert (moved.x0, moved.x1) == pytest.approx((60, 90))
    shift = np.array([[1.0, 0, -25], [0, 1, 0], [0, 0, 1]])  # a crop cuts the triangle
    cut = shapes.move(box, shift, (100, 50), from_polygons=False)
    assert cut.x0 == 0.0 and cut.x1 == pytest.approx(15.0) and shapes.polygon_area(cut.polygons[0]) > 0


def test_yolo_pose_labels_round_trip_and_keypoints_leave_as_zeros(tmp_path):
    path = tmp_path / "p.txt"
    line = "0 0.500000 0.500000 0.400000 0.400000 0.400000 0.400000 2 0.600000 0.400000 1 0.000000 0.000000 0\n"
    path.write_text(line)
    boxes, _ = yolo.read(path, 100, 100, 1, (3, 3))
    assert boxes[0].keypoints == ((40.0, 40.0, 2), (60.0, 40.0, 1), (0.0, 0.0, 0))
    assert yolo.write(boxes, 100, 100, 3).decode() == line
    shift = np.array([[1.0, 0, -45], [0, 1, 0], [0, 0, 1]])  # keypoint 0 leaves the picture
    moved = shapes.move(boxes[0], shift, (100, 100), False)
    assert moved.keypoints[0] == (0.0, 0.0, 0) and moved.keypoints[1] == pytest.approx((15.0, 40.0, 1))
    fields = yolo.write([moved], 100, 100, 3).decode().split()
    assert fields[5:8] == ["0.000000", "0.000000", "0"] and fields[8:11] == ["0.150000", "0.400000", "1"]
    path.write_text("0 0.5 0.5 0.4 0.4 0.4 0.4 0.6 0.4 0 0\n")  # kpt_shape [3, 2]: no visibility column
    two, _ = yolo.read(path, 100, 100, 1, (3, 2))
    assert two[0].keypoints[2] == (0.0, 0.0, 0)
    assert yolo.write(two, 100, 100, 2).decode().split()[5:] == ["0.400000", "0.400000", "0.600000", "0.400000"] + [
        "0.000000",
        "0.000000",
    ]


def test_flips_swap_left_and_right_keypoints_by_flip_idx():
    box = Box(10, 10, 60, 60, 0, keypoints=((30.0, 10.0, 2), (20.0, 30.0, 2), (50.0, 30.0, 2)))
    hflip = np.array([[-1.0, 0, 99], [0, 1, 0], [0, 0, 1]])
    moved = shapes.move(box, hflip, (100, 100), False, flip_idx=(0, 2, 1))
    # keypoint 1 (left) is now where the mirrored right keypoint went, and the other way round
    assert np.allclose(moved.keypoints, ((70.0, 10.0, 2), (50.0, 30.0, 2), (80.0, 30.0, 2)))
    unswapped = shapes.move(box, hflip, (100, 100), False)
    assert unswapped.keypoints[1] == pytest.approx((80.0, 30.0, 2))
    rotate = np.array([[0.0, -1, 99], [1, 0, 0], [0, 0, 1]])  # a quarter turn does not mirror
    assert shapes.move(box, rotate, (100, 100), False, flip_idx=(0, 2, 1)).keypoints[1][:2] == pytest.approx(
        (70.0, 20.0)
    )


DOT_COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
FLIP_IDX = (0, 2, 1, 3)
KEYPOINT_STEPS = [s for s in EXACT if "scale" not in s and "resize" not in s] + ROTATING


def dots_scene(points: list[tuple[int, int]]) -> tuple[np.ndarray, Box]:
    """3x3 dots of distinct colours centred on each keypoint (pixel centres at +0.5)."""
    pixels = np.zeros((H, W, 3), np.uint8)
    for (x, y), colour in zip(points, DOT_COLOURS, strict=False):
        pixels[y - 1 : y + 2, x - 1 : x + 2] = colour
    keypoints = tuple((x + 0.5, y + 0.5, 2) for x, y in points)
    return pixels, Box(0, 0, W, H, 0, keypoints=keypoints)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.tuples(st.integers(2, W - 3), st.integers(2, H - 3)), min_size=4, max_size=4).filter(
        lambda ps: all(max(abs(a[0] - b[0]), abs(a[1] - b[1])) >= 5 for i, a in enumerate(ps) for b in ps[i + 1 :])
    ),
    st.lists(st.sampled_from(KEYPOINT_STEPS), min_size=1, max_size=4),
    st.integers(0, 10**6),
)
def test_keypoints_sit_on_their_dots_after_any_chain(points, steps, seed):
    pixels, box = dots_scene(points)
    recipe = parse_recipe("image:\n  transforms:\n" + "".join(f"    - {s}\n" for s in steps))
    applied, _ = plan_pipeline(recipe.sections["image"].transforms, np.random.default_rng(seed), ImageInfo.of(pixels))
    out = run_ops(pixels, [a.transform.op(a.info, **a.params) for a in applied])
    layout = Layout(Path("."), min_size=0.0, flip_idx=FLIP_IDX)
    moved = [box]
    mirrored = 0
    for step in applied:
        if hasattr(step.transform, "geometry"):
            matrix, size = step.transform.geometry(step.info, **step.params)
            mirrored += shapes.mirrors(matrix)
            moved = [shapes.move(b, matrix, size, False, layout.flip_idx) for b in moved]
    keypoints = moved[0].keypoints
    for index, (x, y, visible) in enumerate(keypoints):
        colour = DOT_COLOURS[FLIP_IDX[index] if mirrored % 2 else index]  # left and right traded places
        ys, xs = np.nonzero(np.all(out == colour, axis=-1))
        if visible:
            assert xs.size, f"keypoint {index} is visible at {(x, y)} but its dot is gone"
            assert abs(xs.mean() + 0.5 - x) <= 1.0 and abs(ys.mean() + 0.5 - y) <= 1.0, (index, (x, y), xs, ys)
        else:
            assert (x, y) == (0.0, 0.0)
            # its centre left, so at most the cut-off half of the 9-pixel dot is still in the picture
            assert xs.size <= 6, f"keypoint {index} was marked gone but its dot is still in the picture"


def test_shipped_pose_sample_flips_keypoints_with_flip_idx(tmp_path):
    out = tmp_path / "out"
    recipe = write_recipe(
        tmp_path, "seed: 1\ncopies: 1\nimage:\n  annotations: {format: yolo}\n  transforms: [hflip]\n"
    )
    result = invoke("run", recipe, ROOT / "sample_data" / "pose", out)
    assert result.exit_code == 0, result.output
    source = (ROOT / "sample_data" / "pose" / "labels" / "train" / "figure_0.txt").read_text().split()
    copy = (out / "labels" / "train" / "figure_0_aug0.txt").read_text().split()
    points = [source[5 + 3 * i : 8 + 3 * i] for i in range(5)]
    flipped = [copy[5 + 3 * i : 8 + 3 * i] for i in range(5)]
    for index, partner in enumerate((0, 2, 1, 4, 3)):  # flip_idx from data.yaml
        assert float(flipped[index][0]) == pytest.approx(1 - float(points[partner][0]), abs=2e-6)
        assert flipped[index][1:] == points[partner][1:]
    with Image.open(out / "images" / "train" / "figure_0_aug0.png") as image:
        pixels = np.asarray(image.convert("RGB"))
    x, y = float(flipped[1][0]) * pixels.shape[1], float(flipped[1][1]) * pixels.shape[0]
    assert tuple(pixels[int(y), int(x)]) == (0, 255, 0)  # keypoint 1 (left hand) sits on the right hand's dot


def coco_pose_dataset(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "images" / "a.png")
    coco = {
        "images": [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
        "categories": [{"id": 1, "name": "person", "keypoints": ["nose", "left_eye", "right_eye", "tail"]}],
        "annotations": [
            {
                "id": 5,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 40, 30],
                "keypoints": [30, 12, 2, 20, 20, 2, 40, 20, 1, 0, 0, 0],
                "num_keypoints": 3,
                "iscrowd": 0,
            }
        ],
    }
    (root / "coco.json").write_text(json.dumps(coco))
    return root


def test_coco_keypoints_flip_by_their_names_and_leave_with_visibility_zero(tmp_path):
    data = coco_pose_dataset(tmp_path / "data")
    base = "seed: 1\ncopies: 1\nimage:\n  images: images\n  annotations: {format: coco, path: coco.json}\n"
    flip = write_recipe(tmp_path, base + "  transforms: [hflip]\n", "flip.yaml")
    assert invoke("run", flip, data, tmp_path / "flip").exit_code == 0
    result = json.loads((tmp_path / "flip" / "coco.json").read_text())
    copy_id = next(image["id"] for image in result["images"] if image["file_name"] == "a_aug0.png")
    (annotation,) = [a for a in result["annotations"] if a["image_id"] == copy_id]
    # left_eye and right_eye trade places (flip_idx from the names); x -> 64 - x
    assert annotation["keypoints"] == [34, 12, 2, 24, 20, 1, 44, 20, 2, 0, 0, 0]
    assert annotation["num_keypoints"] == 3
    shift = write_recipe(tmp_path, base + "  transforms: [{translate: {x: [0.5, 0.5], y: 0}}]\n", "shift.yaml")
    assert invoke("run", shift, data, tmp_path / "shift").exit_code == 0
    result = json.loads((tmp_path / "shift" / "coco.json").read_text())
    copy_id = next(image["id"] for image in result["images"] if image["file_name"] == "a_aug0.png")
    (annotation,) = [a for a in result["annotations"] if a["image_id"] == copy_id]
    assert annotation["keypoints"][6:9] == [0, 0, 0] and annotation["keypoints"][3:5] == [52, 20]
    assert annotation["num_keypoints"] == 2


def test_flipping_keypoints_without_flip_idx_warns(tmp_path):
    data = ultralytics_dataset(
        tmp_path / "data", data_yaml="train: images/train\nval: images/val\nnames: [a, b]\nkpt_shape: [1, 2]\n"
    )
    for path in (data / "labels").rglob("*.txt"):
        path.write_text("".join(line + " 0.5 0.5\n" for line in path.read_text().splitlines()))
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "no flip_idx says which keypoints trade places" in result.output


# --- refusals: no silent label loss ---------------------------------------------------------------


def test_a_labels_folder_without_images_key_is_refused_naming_both_sides(tmp_path):
    data = tmp_path / "data"
    for i in range(4):
        (data / "images").mkdir(parents=True, exist_ok=True)
        (data / "labels").mkdir(exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(data / "images" / f"d{i:02d}.png")
        (data / "labels" / f"d{i:02d}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    recipe = write_recipe(tmp_path, "image:\n  annotations: {format: yolo, path: labels}\n  transforms: [hflip]\n")
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 2
    assert "4 of 4 images have no yolo label file" in result.output
    assert "images/d00.png looks for labels/images/d00.txt, but labels/d00.txt exists" in result.output
    assert "set images: images" in result.output
    assert not (tmp_path / "out").exists()
    fixed = write_recipe(
        tmp_path, "image:\n  images: images\n  annotations: {format: yolo, path: labels}\n  transforms: [hflip]\n"
    )
    assert invoke("run", fixed, data, tmp_path / "out").exit_code == 0
    assert (tmp_path / "out" / "labels" / "d00_aug0.txt").read_text() == "0 0.500000 0.500000 0.500000 0.500000\n"


def test_labels_in_an_unexpected_folder_are_found_and_refused(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    (data / "labels").rename(data / "annotations")
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 2 and "but annotations/train/im0.txt exists" in result.output


def test_a_few_unlabelled_images_are_background_not_a_layout_error(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    (data / "labels" / "train" / "im0.txt").unlink()  # a background image: ultralytics allows it
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "labels" / "train" / "im0_aug0.txt").read_bytes() == b""


def test_coco_file_names_that_match_nothing_are_refused(tmp_path):
    data = detection_dataset(tmp_path / "data", "coco")
    for mask in (data / "masks" / "train").iterdir():
        mask.unlink()
    recipe = write_recipe(
        tmp_path, "image:\n  annotations: {format: coco, path: annotations.json}\n  transforms: [hflip]\n"
    )
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 2 and "3 of 3 images are not in annotations.json" in result.output
    assert "Set 'images:'" in result.output


def test_masks_beside_images_are_never_augmented_as_pictures(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    recipe = write_recipe(
        tmp_path, "image:\n  images: images\n  annotations: {format: yolo, path: labels}\n  transforms: [hflip]\n"
    )
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert "masks/train/im0.png would be augmented as a picture" in result.output
    assert "Add masks: {path: masks}" in result.output
    only_images = write_recipe(
        tmp_path,
        'image:\n  include: ["images/**"]\n  images: images\n  annotations: {format: yolo, path: labels}\n'
        "  transforms: [hflip]\n",
        "only.yaml",
    )
    result = invoke("run", only_images, data, tmp_path / "out")
    assert result.exit_code == 0 and "masks/ beside the images is not used: add masks: {path: masks}" in result.output


def test_pictures_in_a_labels_folder_beside_images_are_refused(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(data / "labels" / "train" / "preview.png")
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 2 and "labels/train/preview.png would be augmented as a picture" in result.output


# --- splits ---------------------------------------------------------------------------------------


def test_passthrough_copies_val_byte_for_byte_with_labels_and_masks(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    for sub in ("images", "labels", "masks"):
        (data / sub / "train").rename(data / sub / "val")
    ultralytics_dataset(data, splits=("train",), data_yaml="train: images/train\nval: images/val\nnames: [r, g]\n")
    recipe = write_recipe(
        tmp_path,
        "copies: 2\nimage:\n  annotations: {format: yolo}\n  masks: {path: masks}\n  passthrough: [val/**]\n"
        "  transforms: [hflip, {rotate: {degrees: 20}}]\n",
    )
    out = tmp_path / "out"
    dry = invoke("run", recipe, data, out, "--dry-run")
    assert "split train: 3 augmented, 0 passed through" in dry.output
    assert "split val: 0 augmented, 3 passed through" in dry.output
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    for i in range(3):
        for sub, suffix in (("images", ".png"), ("labels", ".txt"), ("masks", ".png")):
            name = f"{sub}/val/im{i}{suffix}"
            assert (out / name).read_bytes() == (data / name).read_bytes()
        assert not list((out / "images" / "val").glob("*_aug*"))
    rows = {row["output"]: row for row in read_manifest(out)}
    for name in ("images/val/im0.png", "labels/val/im0.txt", "masks/val/im0.png"):
        assert (rows[name]["kind"], rows[name]["copy"], rows[name]["transforms"]) == ("passthrough", "-1", "[]")
    assert rows["images/train/im0_aug1.png"]["kind"] == "copy"
    import pandas

    assert pandas.read_csv(out / "manifest.csv")["copy"].dtype == "int64"


def test_augmenting_a_validation_split_warns(tmp_path):
    data = ultralytics_dataset(tmp_path / "data")
    result = invoke("run", yolo_recipe(tmp_path), data, tmp_path / "out")
    assert result.exit_code == 0
    assert "data.yaml names images/val as the val split, but the recipe augments its 3 file(s)" in result.output
    assert 'passthrough: ["images/val/**"]' in result.output
    quiet = invoke("run", yolo_recipe(tmp_path, extra="  passthrough: [images/val/**]\n"), data, tmp_path / "out2")
    assert quiet.exit_code == 0 and "as the val split" not in quiet.output


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("images/val/a.jpg", "val/**", True),
        ("val/cat/a.jpg", "val/**", True),
        ("images/train/a.jpg", "val/**", False),
        ("images/valley/a.jpg", "val/**", False),
        ("test/a.jpg", "*/a.jpg", True),
    ],
)
def test_passthrough_globs_match_any_tail_of_the_path(path, pattern, expected):
    assert tail_matches(path, (pattern,)) is expected


def test_split_of_prefers_data_yaml_then_folder_names():
    splits = {"train": ("images/tr",), "val": ("images/v",)}
    assert split_of("images/v/a.jpg", splits) == "val"
    assert split_of("images/tr/a.jpg", splits) == "train"
    assert split_of("valid/images/a.jpg", {}) == "val" and split_of("cats/a.jpg", {}) == "all"


# --- balance --------------------------------------------------------------------------------------


def test_balanced_copies_fill_each_class_to_the_target():
    classes = {f"cat/{i}.png": "cat" for i in range(4)} | {"dog/0.png": "dog", "dog/1.png": "dog"}
    counts = balanced_copies(classes, "max", 1, keep_original=True)
    assert [counts[f"cat/{i}.png"] for i in range(4)] == [1, 1, 1, 1]  # the floor: 4 + 4 = 8
    assert (counts["dog/0.png"], counts["dog/1.png"]) == (3, 3)  # 2 + 6 = 8
    counts = balanced_copies(classes, 11, 0, keep_original=True)
    assert sum(counts[f"cat/{i}.png"] for i in range(4)) + 4 == 11 and counts["dog/0.png"] + counts["dog/1.png"] == 9
    assert balanced_copies(classes, "max", 1, keep_original=False)["dog/0.png"] == 2  # 4 files: 2 x 2


def test_balance_gives_minority_class_folders_more_copies(tmp_path):
    data = tmp_path / "data"
    for name, count in (("cat", 4), ("dog", 1)):
        (data / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.full((8, 8, 3), i * 40, np.uint8)).save(data / name / f"{name}{i}.png")
    recipe = write_recipe(tmp_path, "copies: 1\nimage:\n  balance: max\n  transforms: [hflip]\n")
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out)
    assert result.exit_code == 0, result.output
    assert "image balance: cat 4 files x 1 copy; dog 1 file x 7 copies" in result.output
    assert len(list((out / "cat").iterdir())) == len(list((out / "dog").iterdir())) == 8
    assert (out / "dog" / "dog0_aug6.png").exists() and (out / "cat" / "cat0_aug0.png").exists()
    rows = read_manifest(out)
    assert {r["class"] for r in rows if r["output"].startswith("dog/")} == {"dog"}
    assert sum(1 for r in rows if r["class"] == "dog" and r["kind"] == "copy") == 7


def test_balance_for_detection_uses_each_image_rarest_class(tmp_path):
    data = ultralytics_dataset(tmp_path / "data", splits=("train",), per_split=4)
    (data / "labels" / "train" / "im3.txt").write_text("0 0.5 0.5 0.2 0.2\n2 0.2 0.2 0.1 0.1\n")
    (data / "data.yaml").write_text("train: images/train\nval: images/train\nnames: [red, green, blue]\n")
    recipe = yolo_recipe(tmp_path, extra="  balance: max\n")
    dry = invoke("run", recipe, data, tmp_path / "out", "--dry-run")
    assert "image balance: blue 1 file x 8 copies; green 3 files x 2 copies" in dry.output


def test_balance_is_for_files_tables_use_resample():
    from augcli.core.recipe import RecipeError

    with pytest.raises(RecipeError, match="tables are balanced by resample"):
        parse_recipe("tabular:\n  balance: max\n  label: y\n")
    with pytest.raises(RecipeError, match="expected max"):
        parse_recipe("image:\n  balance: most\n  transforms: [hflip]\n")


# --- VOC and the key reference --------------------------------------------------------------------


def test_voc_objects_cut_by_the_border_are_marked_truncated(tmp_path):
    data = detection_dataset(tmp_path / "data", "voc")
    recipe = write_recipe(
        tmp_path,
        "copies: 1\nimage:\n  images: images\n  annotations: {format: voc, path: labels}\n  masks: {path: masks}\n"
        "  transforms: [{translate: {x: [0.2, 0.2], y: 0}}]\n",
    )
    assert invoke("run", recipe, data, tmp_path / "out").exit_code == 0
    root = ET.parse(tmp_path / "out" / "labels" / "train" / "im0_aug0.xml").getroot()
    truncated = {obj.findtext("name"): obj.findtext("truncated") for obj in root.findall("object")}
    assert truncated == {"red": None, "green": "1"}  # green (x 36..56) crosses the right border after +12.8 px


def test_transforms_keys_lists_every_section_key():
    result = invoke("transforms", "--keys", "image")
    assert result.exit_code == 0
    for key in ("images", "annotations.format", "masks.path", "boxes.min_visibility", "keypoints.flip_idx"):
        assert f"\n  {key}" in result.output
    for key in ("passthrough", "balance", "output.format", "seed", "copies"):
        assert f"\n  {key} = " in result.output


def test_the_recipe_page_documents_every_recipe_key():
    from augcli import docs
    from augcli.core.modalities import MODALITIES

    page = (ROOT / "docs" / "recipe.md").read_text()
    assert docs.markdown_keys(list(MODALITIES)) in page


def test_yolo_label_files_are_never_claimed_as_text_samples(tmp_path):
    data = ultralytics_dataset(tmp_path / "data", splits=("train",))
    (data / "notes.txt").write_text("a note about the data\n")
    recipe = yolo_recipe(tmp_path, extra="").read_text() + "text:\n  transforms: [random_swap]\n"
    (tmp_path / "both.yaml").write_text(recipe)
    result = invoke("run", tmp_path / "both.yaml", data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = read_manifest(tmp_path / "out")
    assert {r["modality"] for r in rows if r["output"].startswith("labels/")} == {"image"}
    assert (tmp_path / "out" / "notes_aug0.txt").exists()
    labels = yolo.read(tmp_path / "out" / "labels" / "train" / "im0_aug0.txt", W, H, 2)[0]
    assert len(labels) == 2  # moved boxes, not a text copy of the label file


def test_a_coco_rerun_writes_the_json_a_clean_run_writes(tmp_path):
    data = detection_dataset(tmp_path / "data", "coco")
    recipe = write_recipe(
        tmp_path,
        "copies: 2\nimage:\n  images: images\n  annotations: {format: coco, path: annotations.json}\n"
        "  masks: {path: masks}\n  transforms: [hflip, {rotate: {degrees: 10}}]\n",
    )
    out, clean = tmp_path / "out", tmp_path / "clean"
    assert invoke("run", recipe, data, out).exit_code == 0
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(data / "images" / "train" / "im1.png")
    rerun = invoke("run", recipe, data, out)  # entries of untouched images come back from the state
    assert rerun.exit_code == 0 and " 1 made (" in rerun.output
    assert invoke("run", recipe, data, clean).exit_code == 0
    assert (out / "annotations.json").read_bytes() == (clean / "annotations.json").read_bytes()
    assert tree_digest(out) == tree_digest(clean)


def test_a_fifo_where_a_label_or_data_yaml_should_be_never_hangs_the_run(tmp_path):
    import os
    import subprocess

    from tests.conftest import augcli_command

    data = ultralytics_dataset(tmp_path / "data", splits=("train",))
    (data / "labels" / "train" / "im0.txt").unlink()
    os.mkfifo(data / "labels" / "train" / "im0.txt")
    recipe = yolo_recipe(tmp_path)
    done = subprocess.run(
        augcli_command("run", recipe, data, tmp_path / "out"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "failed: images/train/im0.png: " in done.stderr and "im0.txt is not a regular file (a FIFO)" in done.stderr
    (data / "data.yaml").unlink()
    os.mkfifo(data / "data.yaml")
    recipe.write_text(recipe.read_text().replace("{format: yolo}", "{format: yolo, classes: data.yaml}"))
    done = subprocess.run(
        augcli_command("run", recipe, data, tmp_path / "out2"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "data.yaml is not a regular file (a FIFO)" in done.stderr, done.stderr
