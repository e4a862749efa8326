"""Property tests: chains of transforms do exactly what their names promise, merged or not."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.image import functional as F
from augcli.image.ops import run_ops
from augcli.image.transforms import CenterCrop, Hflip, ImageInfo, Pad, Rot90, Translate, Vflip

EXACT_STEPS = st.lists(
    st.one_of(
        st.just(("hflip", {})),
        st.just(("vflip", {})),
        st.builds(lambda k: ("rot90", {"turns": k}), st.integers(0, 3)),
        st.builds(lambda dx, dy: ("translate", {"dx": dx, "dy": dy}), st.integers(-5, 5), st.integers(-5, 5)),
        st.builds(
            lambda t, r, b, left: ("pad", {"top": t, "right": r, "bottom": b, "left": left}),
            *[st.integers(0, 4)] * 4,
        ),
        st.builds(lambda h, w: ("center_crop", {"size": (h, w)}), st.integers(1, 12), st.integers(1, 12)),
    ),
    min_size=1,
    max_size=6,
)


def numpy_step(pixels: np.ndarray, name: str, params: dict) -> np.ndarray:
    """Reference implementations written with plain numpy, independent of the matrices."""
    if name == "hflip":
        return pixels[:, ::-1]
    if name == "vflip":
        return pixels[::-1]
    if name == "rot90":
        return np.rot90(pixels, params["turns"])
    if name == "translate":
        out = np.zeros_like(pixels)
        h, w = pixels.shape[:2]
        dx, dy = params["dx"], params["dy"]
        if abs(dx) >= w or abs(dy) >= h:
            return out
        out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = pixels[
            max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
        ]
        return out
    if name == "pad":
        return np.pad(pixels, ((params["top"], params["bottom"]), (params["left"], params["right"]), (0, 0)))
    h, w = pixels.shape[:2]
    ch, cw = params["size"]
    top, left = (h - ch) // 2, (w - cw) // 2
    pad_top, pad_left = max(-top, 0), max(-left, 0)
    pad_bottom, pad_right = max(ch - h - pad_top, 0), max(cw - w - pad_left, 0)
    padded = np.pad(pixels, ((pad_top, pad_bottom), (pad_left, pad_right), (0, 0)))
    top, left = max(top, 0), max(left, 0)
    return padded[top : top + ch, left : left + cw]


def make(name: str, params: dict):
    if name == "center_crop":
        return CenterCrop(size=list(params["size"])), {"top": None, "left": None}
    return {"hflip": Hflip, "vflip": Vflip, "rot90": Rot90, "translate": Translate, "pad": Pad}[name](), params


@settings(max_examples=150, deadline=None)
@given(steps=EXACT_STEPS, height=st.integers(1, 9), width=st.integers(1, 9))
def test_chains_of_exact_moves_match_numpy_and_resample_never(steps, height, width):
    pixels = np.arange(1, height * width * 3 + 1, dtype=np.uint16).reshape(height, width, 3)
    expected = pixels
    ops = []
    info = ImageInfo.of(pixels)
    for name, params in steps:
        transform, params = make(name, params)
        if name == "center_crop":
            params = transform.sample(np.random.default_rng(0), info)
        ops.append(transform.op(info, **params))
        info = transform.output_info(info, params)
        expected = numpy_step(expected, name, params if name != "center_crop" else {"size": transform.size})
    merged = run_ops(pixels, ops)
    assert merged.shape == expected.shape == (info.height, info.width, 3)
    assert np.array_equal(merged, expected)


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-180, 180),
    zoom=st.floats(0.5, 2.0),
    dx=st.integers(-8, 8),
    dy=st.integers(-8, 8),
)
def test_a_bright_dot_lands_where_the_composed_matrix_says(angle, zoom, dx, dy):
    from augcli.image import geometry as G

    size = 41
    dot = np.zeros((size, size), np.uint8)
    dot[14:17, 24:27] = 255  # a 3x3 dot centred on (25, 15)
    matrix = G.translation(dx, dy) @ G.scaling(zoom, zoom, size, size) @ G.rotation(angle, size, size)
    out = F.warp(dot, matrix, (size, size)).astype(float)
    ((x, y),) = G.apply_to_points(matrix, [[25, 15]])
    if out.sum() > 0 and 2 <= x <= size - 3 and 2 <= y <= size - 3:
        ys, xs = np.indices(out.shape)
        centre = (float((xs * out).sum() / out.sum()), float((ys * out).sum() / out.sum()))
        assert abs(centre[0] - x) < 0.6 and abs(centre[1] - y) < 0.6
