"""Geometric kernels: matrices by exact numbers, warps by the pixels they move."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from augcli.image import functional as F
from augcli.image import geometry as G
from augcli.image import ops
from augcli.image.transforms import ImageInfo, Pad, RandomResizedCrop, Rotate, Scale, Translate
from tests.conftest import gradient_rgb

SMALL = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)


def test_flip_and_quarter_turn_matrices_map_corners_exactly():
    w, h = 5, 3
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    np.testing.assert_allclose(G.apply_to_points(G.hflip(w), corners), [[4, 0], [0, 0], [0, 2], [4, 2]])
    np.testing.assert_allclose(G.apply_to_points(G.vflip(h), corners), [[0, 2], [4, 2], [4, 0], [0, 0]])
    # one counter-clockwise turn: the top-right corner becomes the top-left one
    np.testing.assert_allclose(G.apply_to_points(G.rot90(1, w, h), [[4, 0]]), [[0, 0]])


def test_rotation_turns_counter_clockwise_about_the_centre():
    m = G.rotation(90, 5, 5)
    np.testing.assert_allclose(G.apply_to_points(m, [[2, 2], [4, 2]]), [[2, 2], [2, 0]], atol=1e-12)


def test_resize_maps_pixel_edges_to_pixel_edges():
    m = G.resize(4, 2, 8, 4)
    np.testing.assert_allclose(G.apply_to_points(m, [[-0.5, -0.5], [3.5, 1.5]]), [[-0.5, -0.5], [7.5, 3.5]])


def test_homography_maps_the_four_points():
    src = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    dst = np.array([[1, 2], [9, 1], [10, 9], [0, 10]], float)
    np.testing.assert_allclose(G.apply_to_points(G.homography(src, dst), src), dst, atol=1e-9)


@pytest.mark.parametrize("pixels", [SMALL, SMALL[:, :, 0], np.dstack([SMALL, SMALL[:, :, :1]])])
def test_flips_and_quarter_turns_are_exact_permutations(pixels):
    h, w = pixels.shape[:2]
    assert np.array_equal(F.warp(pixels, G.hflip(w), (w, h)), pixels[:, ::-1])
    assert np.array_equal(F.warp(pixels, G.vflip(h), (w, h)), pixels[::-1])
    for turns in range(4):
        size = (w, h) if turns % 2 == 0 else (h, w)
        assert np.array_equal(F.warp(pixels, G.rot90(turns, w, h), size), np.rot90(pixels, turns))


def test_whole_pixel_shift_fills_the_uncovered_border():
    out = F.warp(SMALL, G.translation(1, -1), (3, 2), fill=(200,))
    assert np.array_equal(out[0, 1:], SMALL[1, :2])
    assert (out[:, 0] == 200).all() and (out[1] == 200).all()


def test_crop_beyond_the_image_pads_with_fill():
    out = F.warp(SMALL, G.crop(-1, 0), (5, 2), fill=(9, 8, 7))
    assert np.array_equal(out[:, 1:4], SMALL)
    assert (out[:, 0] == [9, 8, 7]).all() and (out[:, 4] == [9, 8, 7]).all()


def test_shrinking_averages_instead_of_aliasing():
    stripes = np.zeros((4, 8), np.uint8)
    stripes[:, 1::2] = 200  # one-pixel stripes: point sampling would give 0 or 200
    assert (F.resize(stripes, 4, 2) == 100).all()


def test_rotation_by_360_degrees_returns_the_image():
    image = gradient_rgb()
    out = F.warp(image, G.rotation(360, 64, 48), (64, 48))
    assert np.abs(out.astype(int) - image).max() <= 1


def test_alpha_becomes_transparent_where_the_image_left():
    rgba = np.full((10, 10, 4), 255, np.uint8)
    out = F.warp(rgba, G.rotation(45, 10, 10), (10, 10), fill=(0,))
    assert out[0, 0, 3] == 0 and out[5, 5, 3] == 255


def test_consecutive_geometric_transforms_resample_once(monkeypatch):
    calls = []
    real = F.warp
    monkeypatch.setattr(F, "warp", lambda *a, **k: calls.append(1) or real(*a, **k))
    image = gradient_rgb()
    info = ImageInfo.of(image)
    chain = [
        Rotate(degrees=[30, 30]).op(info, angle=30.0),
        Scale().op(info, x=1.2, y=1.2),
        Translate().op(info, dx=3, dy=-2),
    ]
    merged = ops.run_ops(image, chain)
    assert len(calls) == 1
    expected = G.translation(3, -2) @ G.scaling(1.2, 1.2, 64, 48) @ G.rotation(30, 64, 48)
    direct = real(image, expected, (64, 48))
    assert np.array_equal(merged[:-2, 3:], direct[:-2, 3:])
    # The last shift moved the zoomed canvas: what it uncovered is fill, as step by step.
    assert (merged[:, :3] == 0).all() and (merged[-2:] == 0).all() and direct[10:-10, :3].any()


def test_warps_with_different_fills_do_not_merge():
    info = ImageInfo(4, 4)
    a = Rotate(fill=0).op(info, angle=10.0)
    b = Rotate(fill=255).op(info, angle=10.0)
    assert a.merge(b) is None
    reflect_pad = Pad(pixels=1, border="reflect").op(info, top=1, right=1, bottom=1, left=1)
    assert a.merge(reflect_pad) is None
    assert a.merge(Pad(pixels=1).op(info, top=1, right=1, bottom=1, left=1)) is not None  # same border and fill
    assert a.merge(Rotate(fill=0).op(info, angle=5.0)) is not None


def test_random_resized_crop_fits_inside_and_respects_area_and_ratio():
    rrc = RandomResizedCrop(scale=[0.2, 0.5], ratio=[0.5, 2.0])
    info = ImageInfo(200, 100)
    for seed in range(50):
        p = rrc.sample(np.random.default_rng(seed), info)
        assert p["top"] >= 0 and p["top"] + p["height"] <= 100
        assert p["left"] >= 0 and p["left"] + p["width"] <= 200
        area = p["width"] * p["height"] / 20000
        assert 0.18 <= area <= 0.52
        assert 0.45 <= p["width"] / p["height"] <= 2.2


def test_random_resized_crop_output_is_the_crop_resized():
    image = gradient_rgb(80, 60)
    rrc = RandomResizedCrop(size=[30, 40])
    out = rrc.apply(image, top=10, left=20, height=30, width=40)
    assert np.array_equal(out, image[10:40, 20:60])  # same size: a pure crop, no resampling


def test_skipped_canvases_cost_nothing_when_they_cut_nothing():
    image = gradient_rgb()
    info = ImageInfo.of(image)
    flip_rotate_crop = [
        ops.Warp(G.hflip(64), (64, 48)),
        Rotate().op(info, angle=12.0),
        RandomResizedCrop().op(info, top=4, left=6, height=40, width=50),
    ]
    merged = flip_rotate_crop[0].merge(flip_rotate_crop[1]).merge(flip_rotate_crop[2])
    assert len(merged.canvases) == 2
    out = F.warp(image, merged.matrix, merged.size)
    for matrix, size in merged.canvases:  # the flip's canvas is the source; the crop stays inside the rotation's
        assert F.fill_outside(out, matrix, size, (0,), merged.matrix, (64, 48)) is out


def _filled_outside_by_the_formula(pixels, canvas_to_output, canvas_size, fill):
    """Every output pixel whose centre maps (in float32, as the kernel maps it) off the canvas gets the fill."""
    height, width = pixels.shape[:2]
    m = np.linalg.inv(canvas_to_output).astype(np.float32)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    w = m[2, 0] * grid_x + m[2, 1] * grid_y + m[2, 2]
    sx = (m[0, 0] * grid_x + m[0, 1] * grid_y + m[0, 2]) / w
    sy = (m[1, 0] * grid_x + m[1, 1] * grid_y + m[1, 2]) / w
    lo, hi_x, hi_y = -0.5 - F._EPS, canvas_size[0] - 0.5 + F._EPS, canvas_size[1] - 0.5 + F._EPS
    out = pixels.copy()
    out[(sx < lo) | (sx > hi_x) | (sy < lo) | (sy > hi_y)] = F.fill_pixel(fill, pixels)
    return out


@pytest.mark.parametrize("stripe_bytes", [1, 3000, F._STRIPE_BYTES])
@pytest.mark.parametrize("channels", [None, 2, 3, 4])
def test_pixels_off_a_skipped_canvas_get_the_fill_row_stripe_by_stripe(monkeypatch, stripe_bytes, channels):
    """The fill is decided a few rows at a time and written by OpenCV's masked passes: the same
    pixels as the whole-picture float32 formula, for affine and perspective maps, 8 and 16 bits."""
    monkeypatch.setattr(F, "_STRIPE_BYTES", stripe_bytes)
    rng = np.random.default_rng(channels or 1)
    angle = np.deg2rad(14.0)
    turned = np.array([[np.cos(angle), -np.sin(angle), 12.0], [np.sin(angle), np.cos(angle), -9.0], [0, 0, 1]])
    tilted = turned.copy()
    tilted[2, :2] = (4e-4, -3e-4)
    for dtype, fill in ((np.uint8, (30, 60, 90)), (np.uint16, (200,))):
        shape = (70, 90) if channels is None else (70, 90, channels)
        pixels = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
        pixels.flags.writeable = False  # the caller's picture: never written
        for canvas_to_output in (turned, tilted):
            want = _filled_outside_by_the_formula(pixels, canvas_to_output, (80, 64), fill)
            got = F.fill_outside(pixels, canvas_to_output, (80, 64), fill, np.eye(3), (90, 70))
            assert got is not pixels and np.array_equal(got, want)
            changed = (got != pixels).any(axis=-1) if channels else got != pixels
            assert 0.02 < changed.mean() < 0.5  # some pixels fall off the canvas, most stay


def test_a_crop_then_pad_gets_a_border_not_the_cropped_off_pixels():
    image = gradient_rgb(20, 20)
    crop = RandomResizedCrop(size=[10, 10]).op(ImageInfo.of(image), top=5, left=5, height=10, width=10)
    for fill in (0, 255):
        pad = Pad(pixels=2, fill=fill).op(ImageInfo(10, 10), top=2, right=2, bottom=2, left=2)
        assert crop.merge(pad) is not None  # one warp...
        out = ops.run_ops(image, [crop, pad])
        assert np.array_equal(out[2:12, 2:12], image[5:15, 5:15])
        assert (out[:2] == fill).all() and (out[:, :2] == fill).all()  # ...that still pads
        assert (out[12:] == fill).all() and (out[:, 12:] == fill).all()


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("border", ["constant", "reflect", "replicate"])
def test_rgb_warps_equal_opencvs_three_channel_warp(interpolation, border):
    """8-bit RGB warps give the bytes of a plain three-channel OpenCV warp, the fill colour
    included, for affine and perspective (an earlier RGBA detour gave these bytes too)."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    fill = (200.0, 30.0, 90.0)
    flag = F.INTERPOLATION[interpolation]
    for _ in range(4):
        affine = np.array(
            [
                [*rng.uniform(0.7, 1.3, 1), rng.uniform(-0.3, 0.3), rng.uniform(-8, 8)],
                [rng.uniform(-0.3, 0.3), *rng.uniform(0.7, 1.3, 1), rng.uniform(-8, 8)],
                [0, 0, 1],
            ]
        )
        perspective = affine + np.array([[0, 0, 0], [0, 0, 0], [rng.uniform(-2e-3, 2e-3), rng.uniform(-2e-3, 2e-3), 0]])
        size = (49, 41)
        for matrix in (affine, perspective):
            out = F.warp(pixels, matrix, size, interpolation, border, fill)
            warp = cv2.warpAffine if matrix is affine else cv2.warpPerspective
            expected = warp(
                pixels,
                matrix[:2] if matrix is affine else matrix,
                size,
                flags=flag,
                borderMode=F.BORDER[border],
                borderValue=fill,
            )
            assert out.shape == (41, 49, 3) and out.dtype == np.uint8
            assert np.array_equal(out, expected)
    corner = F.warp(pixels, np.array([[1, 0, 30.0], [0, 1, 0], [0, 0, 1]]), (53, 37), interpolation, "constant", fill)
    assert corner[0, 0].tolist() == [200, 30, 90]  # shifted right by 30: the left columns are the fill


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(7, 9), (7, 9, 2), (7, 9, 3), (7, 9, 4)])
def test_a_pad_frames_the_whole_picture_in_the_fill(dtype, shape):
    """A pad (the whole picture moved into a larger canvas, OpenCV's copyMakeBorder) and a pad
    that also cuts a side (the strips path) both give the picture inside a frame of the fill."""
    pixels = np.random.default_rng(1).integers(1, np.iinfo(dtype).max, shape, dtype=dtype)
    fill = (10.0, 200.0, 30.0, 90.0) if len(shape) == 3 and shape[2] == 4 else (10.0, 200.0, 30.0)
    colour = F.fill_pixel(fill, pixels)
    for (left, top), size in (((3, 2), (9 + 3 + 4, 7 + 2 + 1)), ((3, 2), (9 + 1, 7 + 2))):
        matrix = np.array([[1.0, 0.0, left], [0.0, 1.0, top], [0.0, 0.0, 1.0]])
        out = F.warp(pixels, matrix, size, "bilinear", "constant", fill)
        want = np.empty((size[1], size[0]) + shape[2:], dtype)
        want[...] = colour
        inside = want[top : top + 7, left : left + 9]
        inside[...] = pixels[: inside.shape[0], : inside.shape[1]]
        assert out.dtype == dtype and np.array_equal(out, want)
    empty = np.zeros((0, 9) + shape[2:], dtype)  # nothing to frame: the canvas is the fill alone
    out = F.warp(
        empty, np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 2.0], [0.0, 0.0, 1.0]]), (14, 5), "bilinear", "constant", fill
    )
    assert out.shape == (5, 14) + shape[2:] and (out == colour).all()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(7, 11), (7, 11, 1), (7, 11, 2), (7, 11, 3), (7, 11, 4), (1, 5, 3)])
def test_whole_picture_quarter_turns_equal_numpy_s(dtype, shape):
    """A quarter turn, a transpose and an anti-transpose of the whole picture (OpenCV's rotate and
    transpose) give numpy's rot90 and transposes, every channel and dtype."""
    pixels = np.random.default_rng(2).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    height, width = shape[:2]
    axes = (1, 0, *range(2, len(shape)))
    cases = {
        "counter-clockwise": (np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width - 1.0], [0, 0, 1]]), np.rot90(pixels, 1)),
        "clockwise": (np.array([[0.0, -1.0, height - 1.0], [1.0, 0.0, 0.0], [0, 0, 1]]), np.rot90(pixels, -1)),
        "transpose": (np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0, 0, 1]]), pixels.transpose(axes)),
        "anti-transpose": (
            np.array([[0.0, -1.0, height - 1.0], [-1.0, 0.0, width - 1.0], [0, 0, 1]]),
            pixels.transpose(axes)[::-1, ::-1],
        ),
    }
    for name, (matrix, want) in cases.items():
        out = F.warp(pixels, matrix, (height, width), "bilinear", "constant", (0.0,))
        assert out.shape == want.shape and out.dtype == dtype, name
        assert np.array_equal(out, want), name


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(13, 17), (13, 17, 1), (13, 17, 2), (13, 17, 3), (13, 17, 4)])
def test_mirrored_windows_read_the_source_pixel_by_pixel(dtype, shape):
    """A crop merged with a flip (any window, inside or hanging over the edge) reads each output
    pixel from the source pixel the steps name, and the constant fill elsewhere."""
    rng = np.random.default_rng(9)
    pixels = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    fill = (5.0, 150.0, 250.0)
    colour = F.fill_pixel(fill, pixels)
    for _ in range(40):
        row_step, col_step = rng.choice([-1, 1], 2)
        row_start, col_start = int(rng.integers(-4, 18)), int(rng.integers(-4, 22))
        height, width = int(rng.integers(1, 16)), int(rng.integers(1, 20))
        matrix = np.array([[col_step, 0.0, -col_step * col_start], [0.0, row_step, -row_step * row_start], [0, 0, 1]])
        out = F.warp(pixels, matrix, (width, height), "bilinear", "constant", fill)
        rows, cols = row_start + row_step * np.arange(height), col_start + col_step * np.arange(width)
        keep_rows, keep_cols = (rows >= 0) & (rows < shape[0]), (cols >= 0) & (cols < shape[1])
        want = np.empty((height, width) + shape[2:], dtype)
        want[...] = colour
        want[np.ix_(keep_rows, keep_cols)] = pixels[np.ix_(rows[keep_rows], cols[keep_cols])]
        assert np.array_equal(out, want), (row_step, col_step, row_start, col_start, height, width)


def test_a_transform_s_geometry_is_built_once_per_description_and_parameters():
    """A copy asks a geometric step for its matrix when planned, warped and for every target that
    moves: the same description and parameters get the same (read-only) answer, not a rebuild;
    another description or other parameters get their own."""
    import pytest

    from augcli.image.transforms import Affine, ImageInfo

    affine = Affine(degrees=[25, 25], shear_x=[10, 15])
    info = ImageInfo(50, 40)
    params = affine.sample(np.random.default_rng(0), info)
    first = affine.geometry(info, **params)
    assert affine.geometry(info, **dict(params)) is first
    with pytest.raises(ValueError):
        first[0][0, 0] = 2.0  # every caller only reads it
    moved = affine.geometry(info, **{**params, "angle": 10.0})
    assert moved is not first and not np.array_equal(moved[0], first[0])
    other = affine.geometry(ImageInfo(50, 40), **{**params, "angle": 10.0})
    assert other is not moved and np.array_equal(other[0], moved[0])


def test_a_geometry_asked_with_numpy_parameters_is_built_not_compared():
    """Parameters that cannot be compared for equality (numpy arrays a replay was handed) make the
    geometry build again rather than raise."""
    from augcli.image.transforms import ImageInfo, Perspective

    perspective = Perspective()
    info = ImageInfo(50, 40)
    corners = np.asarray(perspective.sample(np.random.default_rng(0), info)["corners"])
    first = perspective.geometry(info, corners=corners.copy())
    again = perspective.geometry(info, corners=corners.copy())
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]


def test_the_corner_test_decides_as_numpy_does_edges_zeros_and_infinities_included():
    """Whether a canvas cuts anything is decided on four corners in plain floats (speed): it must
    give numpy's answer, which decides the pixels, for points on the edges, w of 0 and non-finite values."""
    rng = np.random.default_rng(3)
    edges = [-0.5 - F._EPS, 99.5 + F._EPS, np.nextafter(-0.5 - F._EPS, -1), np.nextafter(99.5 + F._EPS, 200)]
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, *edges]
    with np.errstate(all="ignore"):
        for trial in range(3000):
            points = rng.normal(50, 80, (4, 3))
            points[:, 2] = rng.normal(1, 0.3, 4) if trial % 2 else 1.0
            if trial % 3 == 0:
                points[:, 0] = rng.choice(edges, 4) * points[:, 2]
            if trial % 5 == 0:
                points[rng.integers(0, 4), rng.integers(0, 3)] = specials[trial % len(specials)]
            size = (100, int(rng.integers(1, 200)))
            x, y = points[:, 0] / points[:, 2], points[:, 1] / points[:, 2]
            assert F._inside(points, size) == (not F._off_canvas(x, y, size).any()), (points, size)
