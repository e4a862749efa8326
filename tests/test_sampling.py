"""What each transform draws: ranges, counts and orders it promises, over many seeds."""

from __future__ import annotations

import math

import numpy as np

from augcli.image import geometry as G
from augcli.image.transforms import (
    Affine,
    ColorJitter,
    Cutout,
    ImageInfo,
    Perspective,
    RandomErasing,
    Rotate,
    Scale,
    Shear,
    Translate,
)

INFO = ImageInfo(200, 100)
SEEDS = range(300)


def draws(transform, key=None):
    samples = [transform.sample(np.random.default_rng(s), INFO) for s in SEEDS]
    return [p[key] for p in samples] if key else samples


def test_rotate_and_scale_draw_within_their_ranges_and_cover_them():
    angles = draws(Rotate(degrees=[-5, 20]), "angle")
    assert -5 <= min(angles) < -4 and 19 < max(angles) <= 20
    zooms = draws(Scale(factor=0.25), "x")
    assert 0.75 <= min(zooms) < 0.78 and 1.22 < max(zooms) <= 1.25
    separate = draws(Scale(factor=0.25, keep_aspect=False))
    assert any(p["x"] != p["y"] for p in separate)


def test_translate_draws_whole_pixels_from_fractions_of_the_size():
    shifts = draws(Translate(x=0.1, y=0.0))
    assert all(isinstance(p["dx"], int) and -20 <= p["dx"] <= 20 and p["dy"] == 0 for p in shifts)
    assert {-20, 20} & {p["dx"] for p in shifts}


def test_shear_tilts_vertical_lines_by_its_angle():
    matrix = G.shearing(45, 0, 11, 11)
    top, bottom = G.apply_to_points(matrix, [[5, 0], [5, 10]])
    assert math.isclose(top[0] - bottom[0], -10.0) and math.isclose(top[1], 0.0)
    assert all(-10 <= p["x"] <= 10 for p in draws(Shear()))


def test_affine_is_the_product_of_its_parts():
    affine = Affine()
    params = {"angle": 30.0, "scale": 1.5, "dx": 4.0, "dy": -3.0, "shear_x": 10.0, "shear_y": 0.0}
    matrix, size = affine.geometry(INFO, **params)
    expected = (
        G.translation(4, -3) @ G.rotation(30, 200, 100) @ G.scaling(1.5, 1.5, 200, 100) @ G.shearing(10, 0, 200, 100)
    )
    assert size == (200, 100) and np.allclose(matrix, expected)
    identity = draws(Affine())[0]
    assert np.allclose(affine.geometry(INFO, **identity)[0], np.eye(3))


def test_perspective_pulls_each_corner_inwards_by_at_most_the_distortion():
    for corners in draws(Perspective(distortion=0.4), "corners"):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
        assert 0 <= x0 <= 0.2 * 199 and 0 <= y0 <= 0.2 * 99
        assert 199 * 0.8 <= x1 <= 199 and 0 <= y1 <= 0.2 * 99
        assert 199 * 0.8 <= x2 <= 199 and 99 * 0.8 <= y2 <= 99
        assert 0 <= x3 <= 0.2 * 199 and 99 * 0.8 <= y3 <= 99


def test_color_jitter_applies_its_adjustments_in_every_order():
    jitter = ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05)
    samples = draws(jitter)
    orders = {tuple(p["order"]) for p in samples}
    assert len(orders) == 24  # all 4! orders of the four adjustments occur
    assert all(0.8 <= p["brightness"] <= 1.2 and -0.05 <= p["hue"] <= 0.05 for p in samples)
    assert draws(ColorJitter(brightness=0.3))[0]["order"] == ["brightness"]  # unset ones are not drawn


def test_random_erasing_boxes_have_the_promised_area_and_aspect():
    for p in draws(RandomErasing(area=[0.05, 0.1], ratio=[0.5, 2.0])):
        ((top, left, height, width),) = p["boxes"]
        assert top >= 0 and top + height <= 100 and left >= 0 and left + width <= 200
        assert 0.04 <= height * width / 20000 <= 0.11
        assert 0.4 <= height / width <= 2.5


def test_cutout_draws_the_number_and_size_of_holes():
    samples = draws(Cutout(holes=[2, 3], size=0.2))
    assert {len(p["boxes"]) for p in samples} == {2, 3}
    for p in samples:
        for top, left, height, width in p["boxes"]:
            assert height <= 20 and width <= 20 and top >= 0 and left >= 0
            assert top + height <= 100 and left + width <= 200
