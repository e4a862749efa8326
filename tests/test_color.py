"""Colour maps: exact values on tiny images, and merging equals applying one by one."""

from __future__ import annotations

import math

import numpy as np

from augcli.image import color
from augcli.image import functional as F
from augcli.image.ops import Recolor, run_ops
from tests.conftest import gradient_rgb

TWO = np.array([[[100, 40, 20], [60, 120, 200]]], np.uint8)  # 1x2 RGB


def luma(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(float) @ color.LUMA


def test_brightness_multiplies():
    out = F.color_map(TWO, color.brightness(1.5, 3))
    assert out.tolist() == [[[150, 60, 30], [90, 180, 255]]]  # 300 saturates at 255


def test_contrast_zero_gives_the_mean_grey_everywhere():
    out = F.color_map(TWO, color.contrast(0.0, 3))
    mean_grey = round(float(luma(TWO).mean()))
    assert (out == mean_grey).all()


def test_contrast_blends_towards_the_mean_grey():
    out = F.color_map(TWO, color.contrast(0.5, 3))
    expected = np.rint(0.5 * TWO + 0.5 * luma(TWO).mean())
    assert np.array_equal(out, expected.astype(np.uint8))


def test_saturation_zero_is_per_pixel_luma():
    out = F.color_map(TWO, color.saturation(0.0, 3))
    assert np.array_equal(out[..., 0], np.rint(luma(TWO)).astype(np.uint8))
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_grayscale_keeps_three_channels_and_invert_is_exact():
    assert np.array_equal(F.color_map(TWO, color.grayscale(3)), F.color_map(TWO, color.saturation(0.0, 3)))
    assert np.array_equal(F.color_map(TWO, color.invert(3)), 255 - TWO)


def yiq_angle(pixels: np.ndarray) -> np.ndarray:
    yiq = pixels.reshape(-1, 3).astype(float) @ color._RGB_TO_YIQ.T
    return np.degrees(np.arctan2(yiq[:, 2], yiq[:, 1]))


def test_hue_turns_the_chroma_angle_and_keeps_luma():
    pixels = np.array([[[140, 110, 90], [90, 130, 110]]], np.uint8)  # unsaturated: no clipping
    out = F.color_map(pixels, color.hue(0.1, 3))
    turned = (yiq_angle(pixels) - yiq_angle(out)) % 360
    np.testing.assert_allclose(turned, 36.0, atol=2.0)
    np.testing.assert_allclose(luma(out), luma(pixels), atol=1.0)


def test_hue_of_a_third_turns_red_into_green():
    out = F.color_map(np.array([[[255, 0, 0]]], np.uint8), color.hue(1 / 3, 3))
    r, g, b = out[0, 0]
    assert g > 150 and r < 30 and b < 30


def test_grey_images_ignore_hue_and_saturation():
    grey = np.array([[10, 200]], np.uint8)
    assert np.array_equal(F.color_map(grey, color.hue(0.3, 1)), grey)
    assert np.array_equal(F.color_map(grey, color.saturation(0.0, 1)), grey)
    assert F.color_map(grey, color.brightness(0.5, 1)).tolist() == [[5, 100]]


def test_alpha_is_untouched_by_colour_maps():
    rgba = np.dstack([TWO, np.array([[7, 250]], np.uint8)])
    out = F.color_map(rgba, color.invert(3))
    assert np.array_equal(out[..., 3], rgba[..., 3]) and np.array_equal(out[..., :3], 255 - TWO)


def test_sixteen_bit_colour_maps_use_the_full_range():
    grey16 = np.array([[1000, 60000]], np.uint16)
    assert F.color_map(grey16, color.invert(1)).tolist() == [[64535, 5535]]


def test_merged_chain_equals_one_by_one_without_clipping():
    image = (gradient_rgb() // 2 + 60).astype(np.uint8)  # values 60..187: no clipping on the way
    maps = [color.brightness(1.1, 3), color.contrast(0.8, 3), color.saturation(1.2, 3), color.hue(0.05, 3)]
    merged = run_ops(image, [Recolor(m) for m in maps])
    stepwise = image
    for m in maps:
        stepwise = F.color_map(stepwise, m)
    assert np.abs(merged.astype(int) - stepwise).max() <= 2  # stepwise rounds four times


def test_composition_algebra_matches_sequential_float_maps():
    rng = np.random.default_rng(0)
    x = rng.random((50, 3))
    a, b = color.contrast(0.6, 3), color.brightness(1.3, 3)

    def apply(cmap, values):
        return values @ cmap.a.T + values.mean(axis=0) @ cmap.b_mean.T + cmap.bias

    np.testing.assert_allclose(apply(a.then(b), x), apply(b, apply(a, x)))
    assert math.isclose(float(a.then(b).a[0, 0]), 0.6 * 1.3)


def test_maps_share_their_constant_parts_read_only():
    """The identity, zeros and fixed maps are built once per channel count and shared by every
    map after: none may be changed in place, and drawing maps never changes another's values."""
    before = color.identity(3)
    for factor in (0.0, 2.5, -1.0):
        for make in (color.brightness, color.contrast, color.saturation):
            made = make(factor, 3)
            assert made.a is not before.a
    assert np.array_equal(before.a, np.eye(3)) and not before.b_mean.any() and not before.bias.any()
    assert np.array_equal(color.brightness(2.5, 3).a, 2.5 * np.eye(3))
    assert np.array_equal(color.contrast(0.25, 3).b_mean, 0.75 * np.outer(np.ones(3), color.LUMA))
    assert color.invert(3) is color.invert(3) and color.grayscale(1) is color.grayscale(1)
    for shared in (before.a, before.b_mean, before.bias, color.invert(3).a, color.grayscale(3).a):
        assert not shared.flags.writeable
    assert color.contrast(0.5, 3).uses_mean and not color.brightness(0.5, 3).uses_mean
