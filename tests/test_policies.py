"""Automatic augmentation policies: torchvision's op definitions and tables, checked against small
Pillow references written here (the ones torchvision's PIL path calls), targets that follow,
records that replay, and uniform draws. torchvision itself is compared in
benchmarks/value_policies.py --torchvision where it is installed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from augcli.core.recipe import parse_recipe
from augcli.core.transforms import REGISTRY, Applied
from augcli.image import policies
from augcli.image.labels import companions
from augcli.image.labels.companions import Layout
from augcli.image.labels.shapes import Box
from augcli.image.modality import augment_pixels
from augcli.image.transforms import ImageInfo
from tests.conftest import gradient_rgb, write_image
from tests.test_cli import invoke, read_manifest


def psnr(a: np.ndarray, b: np.ndarray, top: float = 255.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(top * top / mse)


def photo(width: int = 48, height: int = 36) -> np.ndarray:
    rgb = gradient_rgb(width, height, seed=4).astype(np.int16)
    noise = np.random.default_rng(1).integers(-40, 40, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


# --- magnitude tables -----------------------------------------------------------------------------


def test_trivial_augment_wide_tables_are_torchvisions():
    bins = 31
    assert policies.table_values(policies.WIDE, "shear_x", bins)[-1] == pytest.approx(0.99)
    assert policies.table_values(policies.WIDE, "rotate", bins)[15] == pytest.approx(67.5)
    assert policies.table_values(policies.WIDE, "translate_y", bins)[30] == 32.0
    assert policies.table_values(policies.WIDE, "translate_x", bins)[1] == pytest.approx(32 / 30)
    # torchvision: 8 - (arange(31) / (30 / 6)).round()  (round half to even)
    expected = [8] * 3 + [7] * 5 + [6] * 5 + [5] * 5 + [4] * 5 + [3] * 5 + [2] * 3
    assert policies.table_values(policies.WIDE, "posterize", bins) == expected
    assert policies.table_values(policies.WIDE, "solarize", bins)[0] == 255.0
    assert policies.table_values(policies.WIDE, "solarize", bins)[30] == 0.0
    assert list(policies.WIDE) == [
        "identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color",
        "contrast", "sharpness", "posterize", "solarize", "autocontrast", "equalize",
    ]  # fmt: skip


def test_rand_augment_and_auto_augment_tables_are_torchvisions():
    assert policies.magnitude(policies.STANDARD, "rotate", 9, 31) == pytest.approx(9.0)
    assert policies.magnitude(policies.STANDARD, "brightness", 9, 31) == pytest.approx(0.27)
    assert policies.magnitude(policies.STANDARD, "translate_x", 30, 31, 331, 100) == pytest.approx(150.0)
    assert policies.magnitude(policies.STANDARD, "translate_y", 30, 31, 331, 100) == pytest.approx(150 / 331 * 100)
    # 8 - (arange(31) / 7.5).round(): bins 0-3 keep 8 bits, 4-11 keep 7, ..., 27-30 keep 4
    assert policies.table_values(policies.STANDARD, "posterize", 31)[:5] == [8, 8, 8, 8, 7]
    assert policies.table_values(policies.STANDARD, "posterize", 31)[-4:] == [4, 4, 4, 4]
    assert policies.table_values(policies.AUTO, "posterize", 10) == [8, 8, 7, 7, 6, 6, 5, 5, 4, 4]
    assert policies.magnitude(policies.AUTO, "shear_x", 5, 10) == pytest.approx(0.3 * 5 / 9)
    assert "identity" not in policies.AUTO and "invert" in policies.AUTO
    assert {k: len(v) for k, v in policies.AUTO_POLICIES.items()} == {"imagenet": 25, "cifar10": 25, "svhn": 25}
    assert policies.AUTO_POLICIES["imagenet"][0] == (("posterize", 0.4, 8), ("rotate", 0.6, 9))
    assert policies.AUTO_POLICIES["svhn"][-1] == (("shear_x", 0.7, 2), ("invert", 0.1, None))
    assert policies.table_values(policies.AUGMIX, "posterize", 10) == [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]
    assert policies.magnitude(policies.AUGMIX, "translate_x", 9, 10, 60, 30) == pytest.approx(20.0)


# --- each op against a Pillow reference -----------------------------------------------------------


def reference(image: Image.Image, op: str, m: float) -> Image.Image:
    """torchvision's _apply_op on a PIL image, written out with Pillow."""
    nearest = Image.Resampling.NEAREST
    if op == "shear_x":  # F.affine(shear=atan(m) in degrees, center=[0, 0]): inverse (1, m, 0, 0, 1, 0)
        return image.transform(image.size, Image.Transform.AFFINE, (1, m, 0, 0, 1, 0), nearest, fillcolor=0)
    if op == "shear_y":
        return image.transform(image.size, Image.Transform.AFFINE, (1, 0, 0, m, 1, 0), nearest, fillcolor=0)
    if op == "translate_x":
        return image.transform(image.size, Image.Transform.AFFINE, (1, 0, -int(m), 0, 1, 0), nearest, fillcolor=0)
    if op == "translate_y":
        return image.transform(image.size, Image.Transform.AFFINE, (1, 0, 0, 0, 1, -int(m)), nearest, fillcolor=0)
    if op == "rotate":
        return image.rotate(m, nearest, fillcolor=0)
    enhancers = {"brightness": ImageEnhance.Brightness, "color": ImageEnhance.Color}
    enhancers |= {"contrast": ImageEnhance.Contrast, "sharpness": ImageEnhance.Sharpness}
    if op in enhancers:
        return enhancers[op](image).enhance(1.0 + m)
    if op == "posterize":
        return ImageOps.posterize(image, int(m))
    if op == "solarize":
        return ImageOps.solarize(image, m)
    if op == "autocontrast":
        return ImageOps.autocontrast(image)
    if op == "equalize":
        return ImageOps.equalize(image)
    if op == "invert":
        return ImageOps.invert(image)
    return image


OPS = [
    ("identity", 0.0),
    ("shear_x", 0.3),
    ("shear_x", -0.99),
    ("shear_y", 0.5),
    ("translate_x", 12.7),
    ("translate_y", -9.2),
    ("rotate", 30.0),
    ("rotate", -67.5),
    ("brightness", 0.5),
    ("brightness", -0.66),
    ("color", 0.9),
    ("contrast", -0.5),
    ("sharpness", 0.9),
    ("sharpness", -0.99),
    ("posterize", 3),
    ("solarize", 128.0),
    ("autocontrast", 0.0),
    ("equalize", 0.0),
    ("invert", 0.0),
]


@pytest.mark.parametrize(("op", "m"), OPS)
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_each_op_is_exactly_torchvisions_pil_op(op, m, mode):
    pixels = photo()
    image = Image.fromarray(pixels).convert(mode)
    got = policies.apply_op(np.asarray(image), op, m)
    assert np.array_equal(got, np.asarray(reference(image, op, m))), (op, m, mode)


TABLED = ("translate_x", "translate_y", "brightness", "contrast", "posterize", "solarize", "autocontrast", "equalize")


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_shifts_and_table_ops_give_pillows_bytes_at_every_bin(mode):
    """Translates are slice copies and the byte-to-byte ops cv2 lookup tables (made by Pillow on a
    ramp, or by Pillow's own autocontrast/equalize code on a cv2 histogram): the same bytes as the
    Pillow call, for every bin of every table, both signs, and shifts past the edge."""
    image = Image.fromarray(photo(53, 37)).convert(mode)
    pixels = np.asarray(image)
    flat = Image.fromarray(np.full_like(pixels, 77))
    checked = 0
    for table, bins in ((policies.WIDE, 31), (policies.STANDARD, 31), (policies.AUTO, 10), (policies.AUGMIX_ALL, 10)):
        for op in [o for o in table if o in TABLED or o == "invert"]:
            values = policies.table_values(table, op, bins, 53, 37)
            values = sorted({*values, *(-v for v in values if op in policies.SIGNED)})
            values += [60.0, -200.0] if op.startswith("translate") else []
            for m in values:
                if op == "posterize" and m < 1:
                    continue  # 0 bits: torchvision's own posterize handles it, Pillow refuses
                for source, ref in ((pixels, image), (np.asarray(flat), flat)):
                    got = policies.apply_op(source, op, m)
                    assert np.array_equal(got, np.asarray(reference(ref, op, m))), (op, m, mode)
                    checked += 1
    assert checked > 400


def test_histogram_ops_count_large_images_with_numpy(monkeypatch):
    pixels = photo()
    want = {op: policies.apply_op(pixels, op, 0.0) for op in ("autocontrast", "equalize")}
    monkeypatch.setattr(policies.F, "EXACT_FLOAT_COUNTS", 0)
    for op, expected in want.items():
        assert np.array_equal(policies.apply_op(pixels, op, 0.0), expected)
        assert np.array_equal(expected, np.asarray(reference(Image.fromarray(pixels), op, 0.0)))


@pytest.mark.parametrize(("op", "m"), [o for o in OPS if o[0] not in (*policies.GEOMETRIC, "equalize")])
def test_sixteen_bit_ops_are_within_40_db_of_the_8_bit_reference(op, m):
    pixels = photo()
    got = policies.apply_op(pixels.astype(np.uint16) * 257, op, m)
    want = np.asarray(reference(Image.fromarray(pixels), op, m))
    assert psnr(got / 257.0, want) >= 40, (op, m, psnr(got / 257.0, want))


@pytest.mark.parametrize(("op", "m"), [o for o in OPS if o[0] in policies.GEOMETRIC])
def test_each_geometric_matrix_is_where_the_pixels_go(op, m):
    """augcli's OpenCV warp with the op's matrix (what masks go through) agrees with the Pillow op."""
    from augcli.image import functional as F

    pixels = photo()
    height, width = pixels.shape[:2]
    matrix = policies.matrix(op, m, width, height)
    warped = F.warp(pixels, matrix, (width, height), "nearest", "constant", (0.0,))
    assert psnr(warped, policies.apply_op(pixels, op, m)) >= 25  # nearest ties at a few edge pixels
    assert np.mean(np.all(warped == policies.apply_op(pixels, op, m), axis=-1)) > 0.97


# --- sampling -------------------------------------------------------------------------------------


def make(name: str, **values):
    return REGISTRY["image"][name](**values)


def test_trivial_augment_draws_ops_and_bins_uniformly():
    transform, info = make("trivial_augment"), ImageInfo(64, 48)
    rng = np.random.default_rng(0)
    draws = [transform.sample(rng, info)["ops"][0] for _ in range(7000)]
    names = list(policies.WIDE)
    counts = np.array([sum(1 for op, _ in draws if op == n) for n in names])
    expected = len(draws) / len(names)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 34.5, (chi2, dict(zip(names, counts, strict=True)))  # df 13, p = 0.001
    rotations = np.array([m for op, m in draws if op == "rotate"])
    assert (rotations < 0).mean() == pytest.approx(0.5, abs=0.1)
    levels = np.rint(np.abs(rotations) / (135 / 30)).astype(int)
    assert set(levels) == set(range(31))


def test_rand_augment_uses_its_bin_and_spreads_it_with_mstd():
    info = ImageInfo(64, 48)
    fixed = make("rand_augment", num_ops=3, magnitude=9)
    rng = np.random.default_rng(1)
    ops = [o for _ in range(300) for o in fixed.sample(rng, info)["ops"]]
    assert np.allclose([abs(m) for op, m in ops if op == "rotate"], 9.0)
    assert len(fixed.sample(rng, info)["ops"]) == 3
    spread = make("rand_augment", magnitude=9, mstd=3)
    values = [abs(m) for _ in range(500) for op, m in spread.sample(rng, info)["ops"] if op == "rotate"]
    assert 6 < np.mean(values) < 12 and np.std(values) > 1.5 and max(values) <= 30


def test_auto_augment_draws_published_pairs():
    transform, info = make("auto_augment", policy="svhn"), ImageInfo(64, 48)
    rng = np.random.default_rng(2)
    for _ in range(200):
        params = transform.sample(rng, info)
        pair = policies.AUTO_POLICIES["svhn"][params["sub_policy"]]
        assert [op for op, _ in params["ops"]] == [p[0] for p in pair if p[0] in [o for o, _ in params["ops"]]]
        assert len(params["ops"]) <= 2


def test_augmix_is_the_mix_of_its_chains():
    pixels = photo()
    transform = make("augmix", width=2, depth=2)
    params = transform.sample(np.random.default_rng(3), ImageInfo.of(pixels))
    assert params["mix"] + sum(params["weights"]) == pytest.approx(1.0)
    assert [len(c) for c in params["chains"]] == [2, 2]
    total = params["mix"] * pixels.astype(np.float64)
    for chain, weight in zip(params["chains"], params["weights"], strict=True):
        image = Image.fromarray(pixels)
        for op, m in chain:
            image = reference(image, op, m)
        total += weight * np.asarray(image)
    got = transform.apply(pixels, **params)
    assert np.abs(got.astype(int) - np.floor(total)).max() <= 1


# --- targets, determinism, replay -----------------------------------------------------------------


def scene() -> tuple[np.ndarray, Box]:
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[14:30, 20:40] = (255, 0, 0)
    return pixels, Box(20, 14, 40, 30, 0)


@pytest.mark.parametrize(
    "ops",
    [
        [["shear_x", 0.3]],
        [["shear_y", -0.4]],
        [["rotate", 30.0]],
        [["translate_x", 9.6], ["brightness", 0.5]],
        [["translate_y", -7.0], ["rotate", -20.0], ["shear_x", 0.2]],
    ],
)
def test_boxes_follow_a_policys_geometric_ops(ops):
    pixels, box = scene()
    transform = make("rand_augment")
    params = {"ops": ops, "drawn": {}}
    out = transform.apply(pixels, **params)
    moved = companions.move_boxes(
        Layout(Path("."), min_size=0.0), [box], [Applied(transform, params, ImageInfo.of(pixels))]
    )
    ys, xs = np.nonzero(out[..., 0] > 0)
    visible = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    got = (moved[0].x0, moved[0].y0, moved[0].x1, moved[0].y1)
    assert np.allclose(got, visible, atol=1.0), (got, visible)


def test_photometric_ops_and_augmix_leave_boxes():
    pixels, box = scene()
    for name, params in (
        ("trivial_augment", {"ops": [["solarize", 100.0]], "drawn": {}}),
        ("augmix", {"mix": 0.5, "weights": [0.5], "chains": [[["equalize", 0.0], ["color", 0.4]]], "drawn": {}}),
    ):
        transform = make(name)
        moved = companions.move_boxes(Layout(Path(".")), [box], [Applied(transform, params, ImageInfo.of(pixels))])
        assert (moved[0].x0, moved[0].y0, moved[0].x1, moved[0].y1) == (20, 14, 40, 30)


AUGMIX_REFUSED = (
    "augmix blends chains that moved differently, so boxes, keypoints and masks cannot follow its "
    "shear/translate/rotate: give it `geometric: false` (photometric ops only) in a section with {}, "
    "or use trivial_augment / rand_augment / auto_augment, whose geometric ops move them"
)


@pytest.mark.parametrize(
    ("targets", "key", "named"),
    [
        ("  annotations: {format: yolo}\n", "annotations", "annotations"),
        ("  masks: {path: masks}\n", "masks", "masks"),
        ("  annotations: {format: coco, path: a.json}\n  masks: {path: m}\n", "annotations", "annotations or masks"),
    ],
)
@pytest.mark.parametrize("step", ["augmix: {}", "augmix: {all_ops: false}", "one_of: [hflip: {}, augmix: {}]"])
def test_augmix_with_geometric_ops_is_refused_where_targets_must_move(targets, key, named, step):
    from augcli.core.recipe import RecipeError

    with pytest.raises(RecipeError) as caught:
        parse_recipe(f"image:\n{targets}  transforms:\n    - {step}\n")
    assert caught.value.problems == [f"recipe, line 2: image.{key}: {AUGMIX_REFUSED.format(named)}"]


def test_augmix_photometric_only_is_accepted_with_targets_and_never_moves():
    recipe = parse_recipe(
        "image:\n  annotations: {format: yolo}\n  transforms:\n    - augmix: {geometric: false, width: 4, depth: 3}\n"
    )
    transform = recipe.sections["image"].transforms[0]
    rng, info = np.random.default_rng(0), ImageInfo(64, 48)
    drawn = {op for _ in range(300) for chain in transform.sample(rng, info)["chains"] for op, _ in chain}
    assert drawn == set(policies.AUGMIX_ALL) - set(policies.GEOMETRIC)
    free = make("augmix", width=4, depth=3)  # no targets: torchvision's op set, geometric ops included
    drawn = {op for _ in range(300) for chain in free.sample(rng, info)["chains"] for op, _ in chain}
    assert drawn == set(policies.AUGMIX_ALL)
    assert parse_recipe("image:\n  transforms:\n    - augmix: {}\n").sections["image"].transforms[0].geometric


@pytest.mark.parametrize("name", ["trivial_augment", "rand_augment", "auto_augment", "augmix"])
def test_same_seed_same_bytes_and_records_are_json(name):
    recipe = parse_recipe(f"image:\n  transforms:\n    - {name}: {{}}\n")
    section, pixels = recipe.sections["image"], photo()
    first = augment_pixels(section, pixels, np.random.default_rng(5))
    again = augment_pixels(section, pixels, np.random.default_rng(5))
    assert np.array_equal(first.pixels, again.pixels)
    assert json.loads(json.dumps(first.records)) == first.records
    assert "drawn" in first.records[0]["params"]


def test_run_records_ops_and_replay_gives_identical_bytes(tmp_path):
    source = tmp_path / "in"
    for k in range(3):
        write_image(source / f"p{k}.png", gradient_rgb(40, 30, seed=k))
    write_image(source / "j.jpg", photo(), quality=90)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 3\ncopies: 3\nimage:\n  transforms:\n"
        "    - trivial_augment: {}\n    - rand_augment: {num_ops: 2, mstd: 1}\n"
        "    - auto_augment: {policy: cifar10}\n    - augmix: {p: 0.5}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, source, out)
    assert result.exit_code == 0, result.output
    rows = [r for r in read_manifest(out) if r["kind"] == "copy"]
    records = json.loads(rows[0]["transforms"])
    assert records[0]["name"] == "trivial_augment" and len(records[0]["params"]["ops"]) == 1
    op, value = records[0]["params"]["ops"][0]
    assert op in policies.WIDE and isinstance(value, float)
    replayed = invoke("replay", out, "--all")
    assert replayed.exit_code == 0, replayed.output
    total = len(read_manifest(out))
    assert f"{total} rows replayed: {total} identical, 0 differ" in replayed.output
