"""Byte lookups (image/lookup.py) give exactly the bytes of the operations they stand in for:
table indexing, cv2.transform for colour maps that treat channels alike, numpy's histograms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.image import color
from augcli.image import functional as F
from augcli.image.lookup import lookup, lookup_per_channel

SHAPES = st.sampled_from([(1, 1), (3, 5), (7, 33, 3), (31, 17, 3), (64, 127, 3), (5, 9, 4), (2, 3, 2), (16, 1, 3)])


def _pixels(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=SHAPES)
def test_lookup_is_table_indexing(seed: int, shape: tuple[int, ...]) -> None:
    pixels = _pixels(seed, shape)
    table = np.random.default_rng(seed + 1).integers(0, 256, 256, dtype=np.uint8)
    out = lookup(pixels, table)
    assert out.dtype == np.uint8 and out.shape == pixels.shape
    assert np.array_equal(out, table[pixels])
    assert out.flags.writeable and not np.shares_memory(out, pixels)


def test_lookup_reads_strided_views_and_empty_pictures() -> None:
    pixels = _pixels(3, (20, 30, 3))
    table = (255 - np.arange(256)).astype(np.uint8)
    view = pixels[::2, 1::3, 1]
    assert np.array_equal(lookup(view, table), table[view])
    assert lookup(pixels[:0], table).shape == (0, 30, 3)


def test_lookup_refuses_what_it_cannot_look_up() -> None:
    with pytest.raises(TypeError, match="uint8"):
        lookup(np.zeros((2, 2), np.uint16), np.arange(256, dtype=np.uint8))
    with pytest.raises(ValueError, match="256 entries"):
        lookup(np.zeros((2, 2), np.uint8), np.arange(255, dtype=np.uint8))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=SHAPES)
def test_per_channel_lookup_uses_each_channel_s_table(seed: int, shape: tuple[int, ...]) -> None:
    pixels = _pixels(seed, shape)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    tables = np.random.default_rng(seed + 2).integers(0, 256, (channels, 256), dtype=np.uint8)
    want = tables[0][pixels] if pixels.ndim == 2 else np.dstack([tables[c][pixels[:, :, c]] for c in range(channels)])
    assert np.array_equal(lookup_per_channel(pixels, tables), want)


def _uniform_maps() -> st.SearchStrategy[color.ColorMap]:
    """Maps whose every channel gets one factor and one bias: brightness, contrast, invert and
    their compositions, at factors a recipe can ask for (and beyond)."""
    factor = st.floats(0.0, 3.0, allow_nan=False)
    single = st.one_of(
        factor.map(lambda f: color.brightness(f, 3)),
        factor.map(lambda f: color.contrast(f, 3)),
        st.just(color.invert(3)),
    )
    return st.lists(single, min_size=1, max_size=3).map(_compose)


def _compose(maps: list[color.ColorMap]) -> color.ColorMap:
    out = maps[0]
    for step in maps[1:]:
        out = out.then(step)
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=SHAPES.filter(lambda s: len(s) == 3 and s[2] == 3), cmap=_uniform_maps())
def test_colour_maps_that_treat_channels_alike_give_cv2_transform_s_bytes(
    seed: int, shape: tuple[int, ...], cmap: color.ColorMap
) -> None:
    pixels = _pixels(seed, shape)
    mean = np.array(cv2.mean(pixels)[:3]) if cmap.uses_mean else None
    matrix = cmap.matrix(mean, 255)
    assert F._treats_channels_alike(matrix)
    assert np.array_equal(F.color_map(pixels, cmap), cv2.transform(pixels, matrix).reshape(pixels.shape))


def test_a_picture_with_more_channels_than_the_map_is_refused_as_before() -> None:
    with pytest.raises(cv2.error):
        F.color_map(np.full((2, 2, 5), 100, np.uint8), color.brightness(2.0, 3))


def test_colour_maps_that_mix_channels_are_not_looked_up() -> None:
    for cmap in (color.saturation(0.5, 3), color.hue(0.1, 3), color.grayscale(3)):
        assert not F._treats_channels_alike(cmap.matrix(np.zeros(3), 255))
    lopsided = color.ColorMap(np.diag([1.0, 1.2, 1.0]), np.zeros((3, 3)), np.zeros(3))
    assert not F._treats_channels_alike(lopsided.matrix(None, 255))
    shifted = color.ColorMap(np.eye(3), np.zeros((3, 3)), np.array([0.0, 0.1, 0.0]))
    assert not F._treats_channels_alike(shifted.matrix(None, 255))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), factor=st.floats(0.0, 3.0, allow_nan=False))
def test_grey_colour_maps_keep_their_float_arithmetic(seed: int, factor: float) -> None:
    pixels = _pixels(seed, (19, 23))
    cmap = color.contrast(factor, 1)
    matrix = cmap.matrix(np.array(cv2.mean(pixels)[:1]), 255)
    want = np.clip(np.rint(pixels.astype(np.float32) * matrix[0, 0] + matrix[0, 1]), 0, 255).astype(np.uint8)
    assert np.array_equal(F.color_map(pixels, cmap), want)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=SHAPES, levels=st.integers(1, 256))
def test_equalize_counts_as_numpy_counts(seed: int, shape: tuple[int, ...], levels: int) -> None:
    """The histogram behind equalize, per channel, as np.bincount counts it (cv2.calcHist's float
    counts are exact below 2**24 pixels), and the table it makes applied to every pixel."""
    pixels = np.random.default_rng(seed).integers(0, levels, shape, dtype=np.uint8)
    counted = F.channel_histograms(pixels)
    planes = [pixels] if pixels.ndim == 2 else [pixels[:, :, c] for c in range(pixels.shape[2])]
    for histogram, plane in zip(counted, planes, strict=True):
        assert histogram.tolist() == np.bincount(plane.ravel(), minlength=256).tolist()
    if pixels.ndim == 3 and pixels.shape[2] != 3:
        return  # alpha is left alone: tests/test_color.py
    out = F.equalize(pixels)
    for c, plane in enumerate(planes):
        histogram = np.bincount(plane.ravel(), minlength=256)
        cdf = np.cumsum(histogram)
        first = cdf[np.flatnonzero(histogram)[0]]
        table = np.arange(256) if cdf[-1] == first else (cdf - first) / (cdf[-1] - first) * 255
        table = np.clip(np.rint(table), 0, 255).astype(np.uint8)
        got = out if out.ndim == 2 else out[:, :, c]
        assert np.array_equal(got, table[plane])


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=SHAPES.filter(lambda s: len(s) == 2 or s[2] == 3),
    depth=st.sampled_from([np.uint8, np.uint16]),
    spread=st.floats(0.1, 80000.0),
)
def test_one_pass_sum_gives_numpy_s_add_round_clip_and_cast(seed: int, shape, depth, spread: float) -> None:
    rng = np.random.default_rng(seed)
    base = (rng.standard_normal(shape) * spread + spread / 2).astype(np.float32)
    ties = np.floor(base) + np.float32(0.5)  # halves: round half to even in both, or the bytes differ
    for first in (base, ties, rng.integers(0, np.iinfo(depth).max + 1, shape, dtype=depth)):
        second = (rng.standard_normal(shape) * spread).astype(np.float32)
        want = F._to_dtype(np.add(first, second), depth)
        assert np.array_equal(F._sum_to_dtype(first, second, depth), want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's NaN casts, as ever
def test_replayed_non_finite_parameters_give_the_bytes_they_always_gave() -> None:
    """A record is replayed as it is: a NaN or infinite factor, std or fill saturates as numpy
    does (NaN to 0), not as OpenCV's one-pass sum would (NaN to full scale), and does not raise."""
    pixels = np.full((4, 5, 3), 100, np.uint8)
    nan, inf = float("nan"), float("inf")
    assert not F.sharpness(pixels, nan).any()
    assert not F.sharpness(pixels, inf).any()  # 0 * inf is NaN on a flat picture
    assert not F.gaussian_noise(pixels, nan, seed=1).any()
    assert F.fill_pixel([nan], pixels).tolist() == [0, 0, 0]
    assert F.fill_pixel([inf, -inf, 7.5], pixels).tolist() == [255, 0, 8]
    assert F.fill_pixel([inf], np.zeros((2, 2), np.uint16)) == 65535
