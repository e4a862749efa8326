"""Photometric, noise and occlusion kernels by exact numbers or measured statistics."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from augcli.image import functional as F
from tests.conftest import gradient_rgb


def test_gamma_curve_values():
    out = F.gamma(np.array([[0, 128, 255]], np.uint8), 2.0)
    assert out.tolist() == [[0, round(255 * (128 / 255) ** 2), 255]]


def test_equalize_spreads_two_levels_to_the_full_range():
    image = np.array([[10, 10, 20, 20]], np.uint8)
    assert F.equalize(image).tolist() == [[0, 0, 255, 255]]
    assert np.array_equal(F.equalize(np.full((2, 2), 77, np.uint8)), np.full((2, 2), 77))


def test_posterize_keeps_the_top_bits():
    assert F.posterize(np.array([[0b10111111]], np.uint8), 4).tolist() == [[0b10110000]]
    assert F.posterize(np.array([[0xABCD]], np.uint16), 4).tolist() == [[0xA000]]


def test_solarize_inverts_at_and_above_the_threshold():
    assert F.solarize(np.array([[100, 127, 128, 200]], np.uint8), 0.5).tolist() == [[100, 127, 127, 55]]


def test_sharpness_one_is_identity_and_zero_is_pillows_smoothing():
    image = np.zeros((5, 5), np.uint8)
    image[2, 2] = 255
    assert np.array_equal(F.sharpness(image, 1.0), image)
    smooth = F.sharpness(image, 0.0)
    assert smooth[2, 2] == round(255 * 5 / 13) and smooth[1, 2] == round(255 / 13)
    assert smooth[0, 0] == 0  # Pillow leaves the border pixels alone


def test_gaussian_noise_has_the_requested_std_and_replays_from_its_seed():
    flat = np.full((300, 300, 3), 128, np.uint8)
    out = F.gaussian_noise(flat, 0.1, seed=5)
    assert abs(out.astype(float).std() - 25.5) < 0.3
    assert abs(out.astype(float).mean() - 128) < 0.3
    assert np.array_equal(out, F.gaussian_noise(flat, 0.1, seed=5))
    assert not np.array_equal(out, F.gaussian_noise(flat, 0.1, seed=6))
    same = F.gaussian_noise(flat, 0.1, seed=5, per_channel=False)
    assert np.array_equal(same[..., 0], same[..., 2])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(23, 37), (23, 37, 3), (9, 14, 4)])
def test_sharpness_and_noise_keep_their_arithmetic(dtype, shape):
    """Both work in place on float scratch arrays (speed): the bytes are those of the plain
    float32 formulas, written out here (a changed order of operations would change them)."""
    top = np.iinfo(dtype).max
    pixels = np.random.default_rng(4).integers(0, top + 1, shape, dtype=dtype)
    colour = pixels[..., :3] if len(shape) == 3 else pixels
    original = colour.astype(np.float32)
    smooth = cv2.filter2D(original, -1, F._SMOOTH, borderType=cv2.BORDER_REPLICATE)
    smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1] = original[0], original[-1], original[:, 0], original[:, -1]
    for factor in (0.3, 1.37, 2.9):
        want = np.clip(np.rint(smooth + factor * (original - smooth)), 0, top).astype(dtype)
        got = F.sharpness(pixels, factor)
        assert np.array_equal(got[..., :3] if len(shape) == 3 else got, want)
    for per_channel in (True, False):
        draw_shape = colour.shape if per_channel or colour.ndim == 2 else colour.shape[:2] + (1,)
        noise = np.random.default_rng(8).standard_normal(draw_shape, dtype=np.float32) * np.float32(0.2 * top)
        want = np.clip(np.rint(colour.astype(np.float32) + noise), 0, top).astype(dtype)
        got = F.gaussian_noise(pixels, 0.2, seed=8, per_channel=per_channel)
        assert np.array_equal(got[..., :3] if len(shape) == 3 else got, want)
        if len(shape) == 3 and shape[2] == 4:
            assert np.array_equal(got[..., 3], pixels[..., 3])


@pytest.mark.parametrize("stripe_bytes", [1, 4000, F._STRIPE_BYTES])
@pytest.mark.parametrize("shape", [(301, 211, 3), (97, 1), (2, 50), (133, 70, 4)])
def test_sharpness_in_stripes_gives_the_whole_pictures_bytes(monkeypatch, stripe_bytes, shape):
    """Sharpness works a few rows at a time (speed): each stripe's edge rows must see their true
    neighbours and only the picture's own edges keep their values, whatever the stripe height."""
    monkeypatch.setattr(F, "_STRIPE_BYTES", stripe_bytes)
    rng = np.random.default_rng(11)
    pixels = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (7, 7), 2)  # photo-like and noisy
    pixels = pixels.reshape(shape)
    colour = pixels[..., :3] if len(shape) == 3 else pixels
    original = colour.astype(np.float32)
    smooth = cv2.filter2D(original, -1, F._SMOOTH, borderType=cv2.BORDER_REPLICATE).reshape(original.shape)
    smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1] = original[0], original[-1], original[:, 0], original[:, -1]
    for factor in (0.0, 1.41, 3.0):
        want = np.clip(np.rint(smooth + np.float32(factor) * (original - smooth)), 0, 255).astype(np.uint8)
        got = F.sharpness(pixels, factor)
        assert got.shape == pixels.shape
        assert np.array_equal(got[..., :3] if len(shape) == 3 else got, want)


def test_salt_and_pepper_hits_the_requested_fraction():
    grey = np.full((400, 400), 128, np.uint8)
    out = F.salt_pepper(grey, amount=0.1, salt_ratio=0.25, seed=1)
    assert abs((out == 255).mean() - 0.025) < 0.003
    assert abs((out == 0).mean() - 0.075) < 0.003


def test_gaussian_blur_spreads_an_impulse_with_the_requested_sigma():
    impulse = np.zeros((41, 41), np.uint16)
    impulse[20, 20] = 60000
    out = F.gaussian_blur(impulse, 2.0).astype(float)
    _, x = np.mgrid[-20:21, -20:21]
    variance_x = (out * x**2).sum() / out.sum()
    assert abs(variance_x - 4.0) < 0.1
    assert abs(out.sum() - 60000) < 60000 * 0.01
    assert F.gaussian_kernel_size(2.0) == 13


def test_a_gaussian_blur_of_a_given_size_reaches_exactly_that_far():
    impulse = np.zeros((21, 21), np.uint16)
    impulse[10, 10] = 60000
    out = F.gaussian_blur(impulse, 2.0, size=5)
    rows, cols = np.nonzero(out)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (8, 12, 8, 12)  # 5x5, centred
    assert not np.array_equal(out, F.gaussian_blur(impulse, 2.0))
    assert np.array_equal(F.gaussian_blur(impulse, 2.0), F.gaussian_blur(impulse, 2.0, size=13))


def test_a_recipe_blurs_with_its_kernel_size_and_refuses_an_even_one(tmp_path):
    import augcli

    section = "image:\n  transforms:\n    - gaussian_blur: {sigma: [2, 2], size: %s}\n"
    picture = gradient_rgb(40, 30)
    blurred = augcli.parse_recipe(section % 5).pipeline("image")(picture, rng=np.random.default_rng(0))
    assert blurred.records == [{"name": "gaussian_blur", "params": {"sigma": 2.0, "size": 5}}]
    want = cv2.GaussianBlur(picture, (5, 5), sigmaX=2.0, sigmaY=2.0, borderType=cv2.BORDER_REFLECT_101)
    assert np.array_equal(blurred.sample, want)
    with pytest.raises(augcli.RecipeError, match=r"gaussian_blur\.size.*odd: use 3 or 5"):
        augcli.parse_recipe(section % 4)


def test_motion_blur_smears_along_its_angle_only():
    kernel = F.motion_kernel(5, 0.0)
    assert kernel.shape == (5, 5) and np.allclose(kernel[2], 0.2) and kernel.sum() == pytest.approx(1.0)
    vertical = F.motion_kernel(5, 90.0)
    assert np.allclose(vertical[:, 2], 0.2)
    impulse = np.zeros((11, 11), np.uint8)
    impulse[5, 5] = 250
    out = F.motion_blur(impulse, 5, 0.0)
    assert out[5, 3:8].tolist() == [50] * 5 and out[4].sum() == 0


def test_jpeg_compression_loses_more_at_lower_quality():
    image = gradient_rgb(64, 64)
    error = {q: np.abs(F.jpeg_compression(image, q).astype(int) - image).mean() for q in (10, 90)}
    assert 0 < error[90] < error[10]


@pytest.mark.parametrize("quality", [1, 37, 95])
@pytest.mark.parametrize("shape", [(61, 83, 3), (61, 83), (5, 3, 3), (30, 20, 4), (30, 20, 2)])
@pytest.mark.parametrize("read_rgb", [F._READ_RGB, None])  # None: OpenCV before 4.10
def test_jpeg_compression_is_pillows_round_trip(monkeypatch, read_rgb, shape, quality):
    """OpenCV encodes and decodes (faster): the pixels must be Pillow's own JPEG round trip, for
    RGB, grey, and the colour of pictures with alpha (alpha kept); 16 bits go as their top 8."""
    monkeypatch.setattr(F, "_READ_RGB", read_rgb)
    rng = np.random.default_rng(quality)
    pixels = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (5, 5), 1.5).reshape(shape)
    for depth in (np.uint8, np.uint16):
        low_bits = rng.integers(0, 256, shape, dtype=np.uint16)
        given = (pixels.astype(np.uint16) << 8) | low_bits if depth == np.uint16 else pixels  # top 8 bits: pixels
        colour = pixels if len(shape) == 2 or shape[2] == 3 else pixels[..., :-1]
        colour = colour[..., 0] if colour.ndim == 3 and colour.shape[2] == 1 else colour
        buffer = io.BytesIO()
        Image.fromarray(colour).save(buffer, format="JPEG", quality=quality)
        want = np.asarray(Image.open(buffer))
        got = F.jpeg_compression(given.astype(depth), quality)
        assert got.dtype == depth and got.shape == given.shape
        got_colour = got if len(shape) == 2 or shape[2] == 3 else got[..., :-1]
        got_colour = got_colour[..., 0] if got_colour.ndim == 3 and got_colour.shape[2] == 1 else got_colour
        assert np.array_equal(got_colour, want.astype(depth) * (257 if depth == np.uint16 else 1))
        if len(shape) == 3 and shape[2] in (2, 4):
            assert np.array_equal(got[..., -1], given[..., -1])


def test_downscale_keeps_flat_areas_and_removes_fine_detail():
    flat = np.full((32, 32), 90, np.uint8)
    assert np.array_equal(F.downscale(flat, 0.5), flat)
    checker = ((np.indices((32, 32)).sum(axis=0) % 2) * 200).astype(np.uint8)
    assert np.abs(F.downscale(checker, 0.5).astype(int) - 100).max() <= 1


def test_downscale_shrinking_by_nearest_keeps_every_other_pixel():
    picture = np.random.default_rng(3).integers(0, 256, (8, 12, 3), dtype=np.uint8)
    out = F.downscale(picture, 0.5, interpolation="nearest", shrink="nearest")
    assert np.array_equal(out, picture[::2, ::2].repeat(2, axis=0).repeat(2, axis=1))
    import augcli

    recipe = "image:\n  transforms:\n    - downscale: {factor: [0.5, 0.5], interpolation: nearest, shrink: nearest}\n"
    copy = augcli.parse_recipe(recipe).pipeline("image")(picture, rng=np.random.default_rng(0))
    assert copy.records[0]["params"] == {"factor": 0.5, "interpolation": "nearest", "shrink": "nearest"}
    assert np.array_equal(copy.sample, out)
    averaged = F.downscale(picture, 0.5, interpolation="nearest")  # area: each kept pixel is a 2x2 mean
    means = picture.astype(float).reshape(4, 2, 6, 2, 3).mean(axis=(1, 3))
    assert np.abs(averaged[::2, ::2] - means).max() <= 0.5


def test_erase_fills_exactly_the_box():
    image = gradient_rgb(10, 8)
    out = F.erase(image, [[1, 2, 3, 4]], fill="constant", value=(9, 8, 7))
    assert (out[1:4, 2:6] == [9, 8, 7]).all()
    mask = np.ones(image.shape[:2], bool)
    mask[1:4, 2:6] = False
    assert np.array_equal(out[mask], image[mask])
    mean = F.erase(image, [[0, 0, 2, 2]], fill="mean")
    assert np.array_equal(mean[0, 0], np.rint(image.reshape(-1, 3).mean(axis=0)).astype(np.uint8))
    noisy = F.erase(image, [[0, 0, 8, 10]], fill="random", seed=3)
    assert np.array_equal(noisy, F.erase(image, [[0, 0, 8, 10]], fill="random", seed=3))
    assert len(np.unique(noisy)) > 50


def test_fill_on_grey_images_uses_luma_and_alpha_defaults_to_transparent():
    grey_alpha = np.zeros((2, 2, 2), np.uint8)
    assert F.channel_fill((255, 0, 0), grey_alpha) == (pytest.approx(0.299 * 255), 0.0)
    assert F.channel_fill((10, 20, 30, 40), np.zeros((2, 2, 4), np.uint8)) == (10, 20, 30, 40)
    assert F.channel_fill((1,), np.zeros((2, 2), np.uint16)) == (257.0,)


@pytest.mark.parametrize("shape", [(48, 86, 3), (37, 51), (20, 30, 4), (16, 16, 2)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_flips_are_exact_copies_whatever_the_layout(shape, dtype):
    """Flips take OpenCV's copy; the bytes are the mirrored array's, every channel count and depth."""
    from augcli.image import geometry

    pixels = np.random.default_rng(0).integers(0, 200, shape).astype(dtype)
    height, width = shape[:2]
    flips = [(geometry.hflip(width), pixels[:, ::-1]), (geometry.vflip(height), pixels[::-1])]
    flips.append((geometry.hflip(width) @ geometry.vflip(height), pixels[::-1, ::-1]))
    for matrix, expected in flips:
        out = F.warp(pixels, matrix, (width, height))
        assert out.dtype == pixels.dtype and np.array_equal(out, expected)
