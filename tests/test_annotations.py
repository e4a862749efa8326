"""Boxes and masks move with their image: property tests on coloured rectangles, format round
trips, the COCO output through pycocotools, and bad annotation files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from augcli.core.recipe import parse_recipe
from augcli.core.transforms import plan_pipeline
from augcli.image.labels import companions, shapes
from augcli.image.labels.companions import Layout
from augcli.image.labels.shapes import Box
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo
from tests.test_cli import invoke, read_manifest, tree_digest

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
W, H = 64, 48

EXACT = [
    "hflip",
    "vflip",
    "rot90",
    "translate: {x: 0.3, y: 0.3}",
    "crop: {size: [30, 40]}",
    "center_crop: {size: [36, 50]}",
    "pad: {pixels: [0, 12]}",
    "resize: {size: [40, 70], interpolation: nearest}",
    "scale: {factor: 0.3, interpolation: nearest}",
    "random_resized_crop: {scale: [0.3, 1.0], size: [48, 64], interpolation: nearest}",
]
ROTATING = [
    "rotate: {degrees: 30, interpolation: nearest}",
    "affine: {degrees: 20, shear_x: 10, interpolation: nearest}",
]


def scene(rects: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, list[Box]]:
    pixels = np.zeros((H, W, 3), np.uint8)
    boxes = []
    for label, (x, y, w, h) in enumerate(rects):
        pixels[y : y + h, x : x + w] = COLOURS[label]
        boxes.append(Box(x, y, x + w, y + h, label))
    return pixels, boxes


def pixel_box(pixels: np.ndarray, colour: tuple[int, int, int]) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(np.all(pixels == colour, axis=-1))
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def run_chain(steps: list[str], seed: int, pixels: np.ndarray, boxes: list[Box]):
    recipe = parse_recipe("image:\n  transforms:\n" + "".join(f"    - {s}\n" for s in steps))
    applied, _ = plan_pipeline(recipe.sections["image"].transforms, np.random.default_rng(seed), ImageInfo.of(pixels))
    out = run_ops(pixels, [a.transform.op(a.info, **a.params) for a in applied])
    layout = Layout(Path("."), min_size=0.0)
    return out, companions.move_boxes(layout, boxes, applied), applied


rects = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 36), st.integers(4, 14), st.integers(4, 12)), min_size=1, max_size=4
).filter(lambda rs: not any(_overlap(a, b) for i, a in enumerate(rs) for b in rs[i + 1 :]))


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rects, st.lists(st.sampled_from(EXACT), min_size=1, max_size=4), st.integers(0, 10**6))
def test_boxes_match_their_pixels_after_any_chain_without_rotation(rects_, steps, seed):
    pixels, boxes = scene(rects_)
    out, moved, _ = run_chain(steps, seed, pixels, boxes)
    by_label = {box.label: box for box in moved}
    for label in range(len(rects_)):
        seen = pixel_box(out, COLOURS[label])
        if seen is None:
            continue  # the object left the picture (a box may survive as a sliver between pixel centres)
        assert label in by_label, f"object {label} is visible at {seen} but its box was dropped"
        box = by_label[label]
        assert np.allclose((box.x0, box.y0, box.x1, box.y1), seen, atol=1.0), (box, seen)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rects, st.lists(st.sampled_from(EXACT + ROTATING), min_size=1, max_size=3), st.integers(0, 10**6))
def test_boxes_contain_their_pixels_after_rotation(rects_, steps, seed):
    pixels, boxes = scene(rects_)
    out, moved, _ = run_chain([*steps, ROTATING[0]], seed, pixels, boxes)
    by_label = {box.label: box for box in moved}
    for label in range(len(rects_)):
        seen = pixel_box(out, COLOURS[label])
        if seen is None:
            continue
        box = by_label[label]
        assert box.x0 - 1 <= seen[0] and box.y0 - 1 <= seen[1] and seen[2] <= box.x1 + 1 and seen[3] <= box.y1 + 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(EXACT + ROTATING), min_size=1, max_size=4), st.integers(0, 10**6))
def test_masks_keep_exactly_their_class_values(steps, seed):
    mask = np.zeros((H, W), np.uint8)
    mask[5:20, 5:30], mask[25:45, 30:60], mask[0:4, 60:64] = 3, 7, 200
    recipe = parse_recipe("image:\n  transforms:\n" + "".join(f"    - {s}\n" for s in steps))
    applied, _ = plan_pipeline(recipe.sections["image"].transforms, np.random.default_rng(seed), ImageInfo.of(mask))
    moved = companions.move_mask(Layout(Path(".")), mask, applied)
    assert set(np.unique(moved)) <= {0, 3, 7, 200}
    image = run_ops(mask, [a.transform.op(a.info, **a.params) for a in applied])
    assert moved.shape == image.shape


def test_flips_move_masks_exactly_and_erasing_writes_the_ignore_value():
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    recipe = parse_recipe("image:\n  transforms: [hflip, {cutout: {holes: 1, size: 0.3}}]\n")
    applied, _ = plan_pipeline(recipe.sections["image"].transforms, np.random.default_rng(0), ImageInfo.of(mask))
    plain = companions.move_mask(Layout(Path(".")), mask, applied)
    assert np.array_equal(plain, mask[:, ::-1])
    erased = companions.move_mask(Layout(Path("."), erase_value=255), mask, applied)
    assert (erased == 255).sum() >= 1 and np.array_equal(erased[erased != 255], plain[erased != 255])


def test_visibility_and_min_size_drop_boxes():
    box = shapes.move(Box(0, 0, 10, 10, 0), np.array([[1.0, 0, -6], [0, 1, 0], [0, 0, 1]]), (20, 20), False)
    assert (box.x0, box.x1) == (0.0, 4.0) and shapes.visibility(box) == pytest.approx(0.4)
    assert shapes.keep(box, 0.3, 1.0) and not shapes.keep(box, 0.5, 1.0) and not shapes.keep(box, 0.0, 5.0)


def test_polygons_are_clipped_and_can_define_the_box():
    triangle = (0.0, 0.0, 10.0, 0.0, 0.0, 10.0)
    box = Box(0, 0, 10, 10, 1, polygons=(triangle,))
    shift = np.array([[1.0, 0, -5], [0, 1, 0], [0, 0, 1]])
    moved = shapes.move(box, shift, (20, 20), from_polygons=True)
    assert (moved.x0, moved.y0, moved.x1, moved.y1) == pytest.approx((0.0, 0.0, 5.0, 5.0))
    assert shapes.polygon_area(moved.polygons[0]) == pytest.approx(12.5)


# --- whole datasets through the command line ------------------------------------------------


def detection_dataset(root: Path, fmt: str) -> Path:
    """Three images with two coloured objects each, labels in `fmt`, masks with class values."""
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}]}
    for i in range(3):
        pixels, boxes = scene([(4 + i, 6, 14, 10), (36, 24 + i, 20, 12)])
        mask = np.zeros((H, W), np.uint8)
        for box in boxes:
            mask[int(box.y0) : int(box.y1), int(box.x0) : int(box.x1)] = box.label + 1
        (root / "images" / "train").mkdir(parents=True, exist_ok=True)
        (root / "masks" / "train").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / "images" / "train" / f"im{i}.png")
        Image.fromarray(mask, mode="L").save(root / "masks" / "train" / f"im{i}.png")
        if fmt == "yolo":
            lines = [
                f"{b.label} {(b.x0 + b.x1) / 2 / W:.6f} {(b.y0 + b.y1) / 2 / H:.6f} "
                f"{b.width / W:.6f} {b.height / H:.6f}"
                for b in boxes
            ]
            (root / "labels" / "train").mkdir(parents=True, exist_ok=True)
            (root / "labels" / "train" / f"im{i}.txt").write_text("\n".join(lines) + "\n")
        elif fmt == "voc":
            objects = "".join(
                f"<object><name>{['red', 'green'][b.label]}</name><difficult>0</difficult>"
                f"<bndbox><xmin>{int(b.x0) + 1}</xmin>"
                f"<ymin>{int(b.y0) + 1}</ymin><xmax>{int(b.x1)}</xmax><ymax>{int(b.y1)}</ymax></bndbox></object>"
                for b in boxes
            )
            (root / "labels" / "train").mkdir(parents=True, exist_ok=True)
            (root / "labels" / "train" / f"im{i}.xml").write_text(
                f"<annotation><filename>im{i}.png</filename><size><width>{W}</width><height>{H}</height>"
                f"<depth>3</depth></size>{objects}</annotation>"
            )
        else:
            coco["images"].append({"id": 10 + i, "file_name": f"train/im{i}.png", "width": W, "height": H})
            for b in boxes:
                coco["annotations"].append(
                    {
                        "id": 100 + len(coco["annotations"]),
                        "image_id": 10 + i,
                        "category_id": b.label + 1,
                        "iscrowd": 0,
                        "bbox": [b.x0, b.y0, b.width, b.height],
                        "area": b.area,
                        "segmentation": [[b.x0, b.y0, b.x1, b.y0, b.x1, b.y1, b.x0, b.y1]],
                    }
                )
    if fmt == "coco":
        (root / "annotations.json").write_text(json.dumps(coco))
    return root


def recipe(tmp_path: Path, fmt: str, steps: str, copies: int = 2, extra: str = "") -> Path:
    path = "annotations.json" if fmt == "coco" else "labels"
    text = (
        f"seed: 4\ncopies: {copies}\nimage:\n  images: images\n  annotations: {{format: {fmt}, path: {path}}}\n"
        f"  masks: {{path: masks}}\n{extra}  transforms:\n{steps}"
    )
    file = tmp_path / f"{fmt}.yaml"
    file.write_text(text)
    return file


IDENTITY = "    - hflip: {p: 0}\n"
GEOMETRIC = (
    "    - hflip: {p: 0.5}\n    - rotate: {degrees: 15}\n"
    "    - random_resized_crop: {scale: [0.5, 1.0], size: [48, 64]}\n    - color_jitter: {brightness: 0.3}\n"
)


def yolo_numbers(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


@pytest.mark.parametrize("fmt", ["yolo", "voc", "coco"])
def test_identity_round_trips_leave_annotations_unchanged(tmp_path, fmt):
    data = detection_dataset(tmp_path / "data", fmt)
    out = tmp_path / "out"
    result = invoke("run", recipe(tmp_path, fmt, IDENTITY), data, out)
    assert result.exit_code == 0, result.output
    for i in range(3):
        for k in range(2):
            if fmt == "yolo":
                source = yolo_numbers(data / "labels" / "train" / f"im{i}.txt")
                assert np.allclose(yolo_numbers(out / "labels" / "train" / f"im{i}_aug{k}.txt"), source, atol=1e-6)
            elif fmt == "voc":

                def boxes(path):
                    return [
                        [int(o.findtext(f"bndbox/{key}")) for key in ("xmin", "ymin", "xmax", "ymax")]
                        for o in ET.parse(path).getroot().iter("object")
                    ]

                written = out / "labels" / "train" / f"im{i}_aug{k}.xml"
                assert boxes(written) == boxes(data / "labels" / "train" / f"im{i}.xml")
                assert ET.parse(written).getroot().findtext("filename") == f"im{i}_aug{k}.png"
            assert np.array_equal(
                np.asarray(Image.open(out / "masks" / "train" / f"im{i}_aug{k}.png")),
                np.asarray(Image.open(data / "masks" / "train" / f"im{i}.png")),
            )
    if fmt == "coco":
        source = json.loads((data / "annotations.json").read_text())
        written = json.loads((out / "annotations.json").read_text())
        assert written["categories"] == source["categories"]
        assert len(written["images"]) == 9 and len({a["id"] for a in written["annotations"]}) == 18
        assert [a for a in written["annotations"] if a["image_id"] in (10, 11, 12)] == source["annotations"]
        by_name = {image["file_name"]: image["id"] for image in written["images"]}
        for i in range(3):
            original = [a["bbox"] for a in source["annotations"] if a["image_id"] == 10 + i]
            for name in (f"train/im{i}.png", f"train/im{i}_aug0.png", f"train/im{i}_aug1.png"):
                got = [a["bbox"] for a in written["annotations"] if a["image_id"] == by_name[name]]
                assert np.allclose(got, original, atol=1e-3)


def test_coco_output_loads_with_pycocotools_and_fits_its_images(tmp_path):
    from pycocotools.coco import COCO

    data = detection_dataset(tmp_path / "data", "coco")
    out = tmp_path / "out"
    assert invoke("run", recipe(tmp_path, "coco", GEOMETRIC, copies=4), data, out).exit_code == 0
    dataset = COCO(str(out / "annotations.json"))
    assert len(dataset.getImgIds()) == 15
    for image in dataset.loadImgs(dataset.getImgIds()):
        with Image.open(out / "images" / image["file_name"]) as written:
            assert written.size == (image["width"], image["height"])
        for annotation in dataset.loadAnns(dataset.getAnnIds(imgIds=image["id"])):
            x, y, w, h = annotation["bbox"]
            assert x >= 0 and y >= 0 and x + w <= image["width"] + 1e-6 and y + h <= image["height"] + 1e-6
            assert w > 0 and h > 0
    rows = {row["output"] for row in read_manifest(out)}
    assert "annotations.json" in rows and "masks/train/im0_aug3.png" in rows


def test_detection_runs_are_identical_across_worker_counts(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    file = recipe(tmp_path, "yolo", GEOMETRIC, copies=3)
    digests = []
    for workers in (1, 2):
        assert invoke("run", file, data, tmp_path / f"out{workers}", "--workers", workers).exit_code == 0
        digests.append(tree_digest(tmp_path / f"out{workers}"))
    assert digests[0] == digests[1]
    assert len(digests[0]) == 2 + 3 * 4 * 3  # manifest, card + (image, label, mask) x (original + 3 copies) x 3


def test_a_crop_that_drops_every_box_is_redrawn_or_left_out(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    steps = "    - random_resized_crop: {scale: [0.01, 0.02], ratio: [1, 1], size: [48, 64]}\n"
    safe = recipe(
        tmp_path, "yolo", steps, copies=4, extra="  boxes: {max_tries: 3, bbox_safe: true, min_visibility: 0.5}\n"
    )
    out = tmp_path / "out"
    assert invoke("run", safe, data, out).exit_code == 0
    for k in range(4):
        assert len(yolo_numbers(out / "labels" / "train" / f"im0_aug{k}.txt")) >= 1
    records = [json.loads(row["transforms"]) for row in read_manifest(out) if row["output"].startswith("images/")]
    assert any(r and r[-1]["name"] == "boxes" for r in records)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("0 0.5 0.5 0.2\n", "im0.txt, line 1: expected 'class cx cy w h'.* got 4 fields"),
        ("0 0.5 0.5 0.2 0.2\n0 0.5 half 0.2 0.2\n", "im0.txt, line 2: coordinates are not numbers"),
        ("0 0.5 0.5 0 0.2\n", "im0.txt, line 1: box of zero or negative size"),
        ("0 1.5 0.5 0.2 0.2\n", "im0.txt, line 1: coordinate .* lies outside the image"),
        ("7 0.5 0.5 0.2 0.2\n", r"im0.txt, line 1: class id 7 is not in the class list \(the class list has 2\)"),
    ],
)
def test_bad_yolo_labels_fail_that_image_only(tmp_path, label, message):
    data = detection_dataset(tmp_path / "data", "yolo")
    (data / "labels" / "train" / "im0.txt").write_text(label)
    (data / "classes.txt").write_text("red\ngreen\n")
    file = recipe(tmp_path, "yolo", IDENTITY)
    file.write_text(file.read_text().replace("path: labels}", "path: labels, classes: classes.txt}"))
    result = invoke("run", file, data, tmp_path / "out")
    assert result.exit_code == 1
    import re

    assert re.search("failed: images/train/im0.png: " + message, result.output), result.output
    assert (tmp_path / "out" / "images" / "train" / "im1_aug0.png").exists()


def test_rounding_noise_in_yolo_is_clipped_with_a_warning(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    (data / "labels" / "train" / "im0.txt").write_text("0 0.1 0.5 0.2040 0.2\n")  # x0 = -0.002
    result = invoke("run", recipe(tmp_path, "yolo", IDENTITY), data, tmp_path / "out")
    assert result.exit_code == 0
    assert "warning: images/train/im0.png: im0.txt: 1 coordinate slightly outside [0, 1] clipped" in result.output
    ((_, cx, _, w, _),) = yolo_numbers(tmp_path / "out" / "labels" / "train" / "im0_aug0.txt")
    assert cx - w / 2 == pytest.approx(0.0, abs=1e-6)


def test_dataset_problems_are_reported(tmp_path):
    data = detection_dataset(tmp_path / "data", "coco")
    coco = json.loads((data / "annotations.json").read_text())
    coco["images"].append({"id": 99, "file_name": "train/ghost.png", "width": W, "height": H})
    coco["annotations"][0]["category_id"] = 42
    coco["annotations"].append({"id": 500, "image_id": 1234, "category_id": 1, "bbox": [1, 1, 2, 2]})
    (data / "annotations.json").write_text(json.dumps(coco))
    Image.fromarray(np.zeros((10, 10), np.uint8), mode="L").save(data / "masks" / "train" / "im1.png")
    Image.fromarray(np.zeros((H, W), np.uint8), mode="L").save(data / "masks" / "train" / "lonely.png")
    result = invoke("run", recipe(tmp_path, "coco", IDENTITY), data, tmp_path / "out", "--allow-failures")
    assert result.exit_code == 0
    output = result.output
    assert "annotations.json lists 1 image that is not under INPUT, e.g. train/ghost.png" in output
    assert "1 annotation names an image it does not list (skipped), e.g. id 500" in output
    assert "1 mask has no image, e.g. masks/train/lonely.png" in output
    assert "failed: images/train/im0.png: COCO annotation 100 has category 42, which 'categories' lacks" in output
    assert "failed: images/train/im1.png: mask im1.png is 10x10, its image 64x48" in output
    written = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert sorted(i["file_name"] for i in written["images"]) == [
        "train/im2.png",
        "train/im2_aug0.png",
        "train/im2_aug1.png",
    ]


def test_recipe_and_plan_errors_for_annotations(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    bad = tmp_path / "bad.yaml"
    bad.write_text("image:\n  annotations: {format: coco}\n  transforms: [hflip]\n")
    result = invoke("run", bad, data, tmp_path / "out")
    assert result.exit_code == 2 and "format coco needs 'path' (the COCO json)" in result.output
    missing = recipe(tmp_path, "yolo", IDENTITY)
    missing.write_text(missing.read_text().replace("path: labels", "path: nowhere"))
    result = invoke("run", missing, data, tmp_path / "out")
    assert result.exit_code == 2 and "image.annotations.path: nowhere not found under INPUT" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", ["/abs/labels", "../labels", "a/../../labels"])
def test_annotation_paths_must_stay_inside_input(path):
    from augcli.core.recipe import RecipeError

    with pytest.raises(RecipeError, match="must be a path inside INPUT"):
        parse_recipe(f"image:\n  annotations: {{format: yolo, path: '{path}'}}\n  transforms: [hflip]\n")


def test_two_images_sharing_a_stem_are_a_plan_error(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(data / "images" / "train" / "im0.jpg")
    result = invoke("run", recipe(tmp_path, "yolo", IDENTITY), data, tmp_path / "out")
    assert result.exit_code == 2 and "share a stem" in result.output


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<annotation><object><name>red</name>", "im0.xml: not valid XML"),
        (
            "<annotation><object><bndbox><xmin>1</xmin></bndbox></object></annotation>",
            "im0.xml, object 1: needs <name>",
        ),
        (
            "<annotation><object><name>red</name><bndbox><xmin>9</xmin><ymin>1</ymin><xmax>3</xmax><ymax>5</ymax>"
            "</bndbox></object></annotation>",
            "im0.xml, object 1: box of negative size",
        ),
    ],
)
def test_bad_voc_files_fail_that_image_only(tmp_path, xml, message):
    data = detection_dataset(tmp_path / "data", "voc")
    (data / "labels" / "train" / "im0.xml").write_text(xml)
    result = invoke("run", recipe(tmp_path, "voc", IDENTITY), data, tmp_path / "out")
    assert result.exit_code == 1 and f"failed: images/train/im0.png: {message}" in result.output
    assert (tmp_path / "out" / "labels" / "train" / "im1_aug0.xml").exists()


def test_originals_carry_their_label_and_mask_files_byte_for_byte(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    out = tmp_path / "out"
    assert invoke("run", recipe(tmp_path, "yolo", GEOMETRIC, copies=1), data, out).exit_code == 0
    for relative in ("labels/train/im1.txt", "masks/train/im1.png", "images/train/im1.png"):
        assert (out / relative).read_bytes() == (data / relative).read_bytes()


def test_label_files_without_an_image_are_reported_and_voc_keeps_other_fields(tmp_path):
    data = detection_dataset(tmp_path / "data", "voc")
    (data / "labels" / "train" / "ghost.xml").write_text("<annotation></annotation>")
    out = tmp_path / "out"
    result = invoke("run", recipe(tmp_path, "voc", GEOMETRIC, copies=1), data, out)
    assert result.exit_code == 0 and "1 label file has no image, e.g. labels/train/ghost.xml" in result.output
    root = ET.parse(out / "labels" / "train" / "im0_aug0.xml").getroot()
    assert root.findtext("size/depth") == "3"
    assert all(o.findtext("difficult") == "0" for o in root.iter("object"))
    with Image.open(out / "images" / "train" / "im0_aug0.png") as image:
        assert (int(root.findtext("size/width")), int(root.findtext("size/height"))) == image.size


def _crosses(a, b, c, d) -> bool:
    """Whether segments ab and cd cross at a point inside both (touching ends do not count)."""

    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def _is_simple(points: list[tuple[float, float]]) -> bool:
    edges = [(points[i], points[(i + 1) % len(points)]) for i in range(len(points))]
    for i in range(len(edges)):
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue  # neighbours through the closing edge
            if _crosses(*edges[i], *edges[j]):
                return False
    return True


def test_mixed_coco_copies_load_with_pycocotools_with_valid_polygons(tmp_path):
    from pycocotools.coco import COCO

    from augcli.image.labels.shapes import polygon_area

    data = detection_dataset(tmp_path / "data", "coco")
    steps = (
        "    - mosaic: {size: [48, 64]}\n    - copy_paste: {objects: [1, 2], scale: [0.7, 1.3]}\n"
        "    - rotate: {degrees: 20}\n    - cutmix\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe(tmp_path, "coco", steps, copies=4, extra="  boxes: {from: polygons}\n"), data, out)
    assert result.exit_code == 0, result.output
    dataset = COCO(str(out / "annotations.json"))
    assert len(dataset.getImgIds()) == 15
    polygons = 0
    for image in dataset.loadImgs(dataset.getImgIds()):
        width, height = image["width"], image["height"]
        for annotation in dataset.loadAnns(dataset.getAnnIds(imgIds=image["id"])):
            x, y, w, h = annotation["bbox"]
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= width + 1e-6 and y + h <= height + 1e-6
            for flat in annotation["segmentation"]:
                points = list(zip(flat[0::2], flat[1::2], strict=True))
                assert len(points) >= 3 and polygon_area(flat) > 0
                assert all(0 <= px <= width + 1e-6 and 0 <= py <= height + 1e-6 for px, py in points)
                assert _is_simple(points), (image["file_name"], flat)
                polygons += 1
            assert dataset.annToMask(annotation).any()
    assert polygons > 30
