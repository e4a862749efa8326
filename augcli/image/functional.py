"""Pure image kernels: a numpy array and explicit parameters in, a new array out. No randomness.

Arrays are uint8 or uint16, shaped (H, W) for grey or (H, W, C) with C = 2 (grey + alpha),
3 (RGB) or 4 (RGBA). Photometric kernels touch the colour channels only; alpha moves with
geometric warps and is otherwise left alone. Noise kernels take a `seed` so that a recorded
parameter set replays the same pixels.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np
from PIL import Image

from augcli.core.memo import BoundedMemo
from augcli.image import io as image_io
from augcli.image.color import LUMA, ColorMap
from augcli.image.lookup import lookup, lookup_per_channel

INTERPOLATION = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
BORDER = {"constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE}
_EPS = 1e-6


def full_scale(dtype: np.dtype) -> int:
    """The largest pixel value: 255 for 8-bit, 65535 for 16-bit images."""
    top = _FULL_SCALE.get(dtype)
    if top is None:
        top = _FULL_SCALE[dtype] = int(np.iinfo(dtype).max)
    return top


_FULL_SCALE: dict[np.dtype, int] = {}  # np.iinfo costs microseconds on every call


def colour_count(pixels: np.ndarray) -> int:
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return 3 if channels >= 3 else 1


def split_alpha(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(colour, alpha); alpha is None for L and RGB."""
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        colour = pixels[:, :, :-1]
        return (colour[:, :, 0] if colour.shape[2] == 1 else colour), pixels[:, :, -1]
    return pixels, None


def join_alpha(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    if alpha is None:
        return colour
    colour = colour[:, :, None] if colour.ndim == 2 else colour
    return np.dstack([colour, alpha])


def on_colour(kernel: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Run a kernel on the colour channels and put the untouched alpha channel back."""

    @functools.wraps(kernel)
    def wrapper(pixels: np.ndarray, *args, **kwargs) -> np.ndarray:
        colour, alpha = split_alpha(pixels)
        return join_alpha(kernel(np.ascontiguousarray(colour), *args, **kwargs), alpha)

    return wrapper


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.clip(np.rint(values), 0, full_scale(dtype)).astype(dtype)


def _scratch_to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """_to_dtype for a float array the caller gives up: rounded and clipped in place, the same
    values without two more picture-sized temporaries (each a fresh block the kernel zeroes)."""
    np.rint(values, out=values)
    np.clip(values, 0, full_scale(dtype), out=values)
    return values.astype(dtype)


_CV_DEPTH = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U}


def _sum_to_dtype(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """_to_dtype(a + b) in one pass: OpenCV adds in float32 and saturates with round-half-to-even,
    the same bytes as numpy's add, rint, clip and cast (four passes over a float picture), for
    every sum but NaN (OpenCV gives full scale, numpy 0): callers keep NaN out."""
    return cv2.add(a, b, dtype=_CV_DEPTH[np.dtype(dtype)]).reshape(a.shape)


def channel_fill(fill: Sequence[float], pixels: np.ndarray) -> tuple[float, ...]:
    """Expand a 0-255 fill to one value per channel of `pixels` (alpha: 0 unless given)."""
    scale = full_scale(pixels.dtype) / 255.0
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    has_alpha = channels in (2, 4)
    given_alpha = len(fill) in (2, 4)
    colour = list(fill[:-1] if given_alpha else fill)
    alpha = fill[-1] if given_alpha else 0.0
    if colour_count(pixels) == 3:
        colour = colour * 3 if len(colour) == 1 else colour
    elif len(colour) == 3:
        colour = [float(np.dot(LUMA, colour))]
    values = colour + ([alpha] if has_alpha else [])
    return tuple(v * scale for v in values)


def fill_pixel(fill: Sequence[float], pixels: np.ndarray) -> np.ndarray:
    """A fill as one pixel of `pixels`' dtype, ready to assign (a scalar for 2-D grey images);
    read-only, one per fill and kind of picture (a recipe's fill is the same on every call)."""
    try:  # each value's type too: a numpy float32 equals a float yet scales in float32
        key = (tuple((type(v), v) for v in fill), pixels.dtype, pixels.shape[2:])
        found = _FILLS.get(key)
    except TypeError:  # a replayed record's unhashable value: worked out, not kept
        key, found = None, None
    if found is None:
        found = _fill_pixel(fill, pixels)
        if isinstance(found, np.ndarray):
            found.flags.writeable = False
        if key is not None:
            _FILLS.keep(key, found)
    return found


_FILLS = BoundedMemo(256)


def _fill_pixel(fill: Sequence[float], pixels: np.ndarray) -> np.ndarray:
    values = channel_fill(fill, pixels)
    if all(map(math.isfinite, values)):  # _to_dtype in plain floats: round half to even, then clip
        top = full_scale(pixels.dtype)
        value = np.array([min(max(round(v), 0), top) for v in values], dtype=pixels.dtype)
    else:  # a replayed record's NaN or infinity: numpy's rules, as ever (round() refuses them)
        value = _to_dtype(np.array(values), pixels.dtype)
    return value[0] if pixels.ndim == 2 else value


# --- geometry --------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return abs(a - b) < _EPS


def _is_affine(matrix: np.ndarray) -> bool:
    return _close(matrix[2, 0], 0.0) and _close(matrix[2, 1], 0.0) and _close(matrix[2, 2], 1.0)


def _permutation_inverse(matrix: np.ndarray) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """For a flip, a quarter turn or a whole-pixel shift (pixels move without resampling), the
    inverse's top two rows, exactly and without LAPACK: the 2x2 part's transpose and the shift
    sent back through it; None for any other matrix. Kept per matrix (a 3x3 float64's bytes): a
    recipe's flip or crop of one picture size has the same matrix on every call."""
    key = matrix.tobytes()
    found = _INVERSES.get(key)
    if found is None:
        found = _work_out_permutation_inverse(matrix)
        if found is not None:  # a drawn rotation's matrix is new every time: not kept
            _INVERSES.keep(key, found)
    return found


_INVERSES = BoundedMemo(1024)  # random crops of a few picture sizes


def _work_out_permutation_inverse(matrix: np.ndarray) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """_permutation_inverse, in plain floats."""
    (a, b, tx), (c, d, ty), (g, h, k) = matrix.tolist()
    unit = (abs(a) == 1.0 and b == 0.0 and c == 0.0 and abs(d) == 1.0) or (
        a == 0.0 and abs(b) == 1.0 and abs(c) == 1.0 and d == 0.0
    )
    if not (unit and _close(g, 0.0) and _close(h, 0.0) and _close(k, 1.0)):
        return None
    if not (_close(tx, round(tx)) and _close(ty, round(ty))):
        return None
    a, b, c, d, tx, ty = round(a), round(b), round(c), round(d), round(tx), round(ty)
    return (a, c, -(a * tx + c * ty)), (b, d, -(b * tx + d * ty))


def _valid_run(start: int, step: int, count: int, limit: int) -> tuple[int, int]:
    """Output indices [i0, i1) whose source index start + step * i lies in [0, limit)."""
    if step == 1:
        return max(0, -start), max(0, min(count, limit - start))
    return max(0, start - limit + 1), max(0, min(count, start + 1))


_FLIPS = {(1, -1): 1, (-1, 1): 0, (-1, -1): -1}  # (row step, column step) -> cv2.flip's code


def _index_warp(
    pixels: np.ndarray, inverse: tuple[tuple[int, ...], tuple[int, ...]], size: tuple[int, int], border: str, fill
) -> np.ndarray | None:
    """Exact warp for signed permutations (`inverse`: see _permutation_inverse) by slicing; None
    where the border is not constant."""
    key = (pixels.shape[:2], inverse, size, border)
    try:
        layout = _INDEX_LAYOUTS.get(key)
    except TypeError:  # a size given as a list (the functional API): worked out, not kept
        key, layout = None, None
    if layout is None:
        layout = _index_layout(pixels.shape[:2], inverse, size, border)
        if key is not None:
            _INDEX_LAYOUTS.keep(key, layout)
    kind = layout[0]
    if kind == "refuse":
        return None
    if kind == "flip":  # OpenCV's copy, same bytes
        return cv2.flip(np.ascontiguousarray(pixels), layout[1]).reshape(pixels.shape)
    if kind == "turn":  # the whole picture, turned
        return _quarter_turn(pixels, layout[1], layout[2])
    if kind == "frame":  # a pad: the whole picture, framed
        _, top, bottom, left, right = layout
        value = tuple(float(v) for v in np.atleast_1d(fill_pixel(fill, pixels)))
        framed_out = cv2.copyMakeBorder(
            np.ascontiguousarray(pixels), top, bottom, left, right, cv2.BORDER_CONSTANT, value=value
        )
        return framed_out.reshape((size[1], size[0]) + pixels.shape[2:])
    _, turned, inside, (r0, r1, c0, c1), window_slices, steps = layout
    width, height = size
    out = np.empty((height, width) + pixels.shape[2:], dtype=pixels.dtype)  # only now: a large block costs page faults
    if not inside:  # the fill goes only where the picture will not: the strips around it
        colour = fill_pixel(fill, pixels)
        if r1 <= r0 or c1 <= c0:
            out[...] = colour
        else:
            out[:r0], out[r1:], out[r0:r1, :c0], out[r0:r1, c1:] = colour, colour, colour, colour
    if window_slices is not None:
        base = pixels.swapaxes(0, 1) if turned else pixels
        window = base[window_slices]
        if not turned and steps != (1, 1):  # mirrored: OpenCV's flip, 6x a reversed numpy copy
            out[r0:r1, c0:c1] = cv2.flip(window, _FLIPS[steps]).reshape(window.shape)
        else:
            out[r0:r1, c0:c1] = window[:: steps[0], :: steps[1]]
    return out


def _index_layout(
    shape: tuple[int, int], inverse: tuple[tuple[int, ...], tuple[int, ...]], size: tuple[int, int], border: str
) -> tuple:
    """How _index_warp makes a (height, width) picture into `size` through `inverse`: everything but
    the pixels, worked out once per picture size, inverse and border (a flip or a fixed crop is
    the same on every call)."""
    width, height = size
    (i00, i01, i02), (i10, i11, i12) = inverse
    turned = i00 == 0  # a quarter turn: output rows walk source columns
    if turned:
        base_shape = (shape[1], shape[0])
        row_step, row_start = i01, i02
        col_step, col_start = i10, i12
    else:
        base_shape = shape
        row_step, row_start = i11, i12
        col_step, col_start = i00, i02
    r0, r1 = _valid_run(row_start, row_step, height, base_shape[0])
    c0, c1 = _valid_run(col_start, col_step, width, base_shape[1])
    inside = (r0, r1, c0, c1) == (0, height, 0, width)
    if not inside and border != "constant":
        return ("refuse",)
    steps = (row_step, col_step)
    whole = inside and not turned and (height, width) == shape
    if whole and steps != (1, 1) and row_start in (0, height - 1) and col_start in (0, width - 1):
        return ("flip", _FLIPS[steps])
    if inside and turned and (height, width) == base_shape:
        return ("turn", row_step, col_step)
    source_window = (row_start + r0, row_start + r1, col_start + c0, col_start + c1)
    whole_source = source_window == (0, base_shape[0], 0, base_shape[1]) and r1 > r0 and c1 > c0
    if whole_source and not turned and steps == (1, 1) and not inside:
        return ("frame", r0, height - r1, c0, width - c1)
    window_slices = None
    if r1 > r0 and c1 > c0:
        rows = sorted((row_start + row_step * r0, row_start + row_step * (r1 - 1)))
        cols = sorted((col_start + col_step * c0, col_start + col_step * (c1 - 1)))
        window_slices = (slice(rows[0], rows[1] + 1), slice(cols[0], cols[1] + 1))
    return ("copy", turned, inside, (r0, r1, c0, c1), window_slices, steps)


_INDEX_LAYOUTS = BoundedMemo(4096)  # random crops of a few picture sizes


_TURNS = {(-1, 1): cv2.ROTATE_90_COUNTERCLOCKWISE, (1, -1): cv2.ROTATE_90_CLOCKWISE}


def _quarter_turn(pixels: np.ndarray, row_step: int, col_step: int) -> np.ndarray:
    """The whole picture turned a quarter (or transposed, or both axes mirrored too): output row r
    walks source column r, by OpenCV's own copies (a strided numpy copy of a transposed view is
    about 12x slower: 690 vs 58 us for 500x375 RGB)."""
    source = np.ascontiguousarray(pixels)
    turn = _TURNS.get((row_step, col_step))
    if turn is not None:
        out = cv2.rotate(source, turn)
    else:  # a transpose; (-1, -1) mirrors both axes of it too
        out = cv2.transpose(source)
        if row_step == -1:
            out = cv2.flip(out, -1)
    return out.reshape(pixels.shape[1], pixels.shape[0], *pixels.shape[2:])


def _crop_resize(
    pixels: np.ndarray, matrix: np.ndarray, size: tuple[int, int], interpolation: str
) -> np.ndarray | None:
    """Axis-aligned zoom of a whole-pixel source window: slice it and let cv2.resize filter.

    Shrinking uses INTER_AREA, which averages (a warp would alias); None when not applicable.
    """
    if not (_is_affine(matrix) and _close(matrix[0, 1], 0.0) and _close(matrix[1, 0], 0.0)):
        return None
    sx, sy = matrix[0, 0], matrix[1, 1]
    if sx <= 0 or sy <= 0:
        return None
    width, height = size
    left = (-0.5 - matrix[0, 2]) / sx + 0.5
    top = (-0.5 - matrix[1, 2]) / sy + 0.5
    right, bottom = left + width / sx, top + height / sy
    edges = (left, top, right, bottom)
    if not all(_close(v, round(v)) for v in edges):
        return None
    left, top, right, bottom = (round(v) for v in edges)
    src_h, src_w = pixels.shape[:2]
    if left < 0 or top < 0 or right > src_w or bottom > src_h or right <= left or bottom <= top:
        return None
    window = pixels[top:bottom, left:right]
    if (right - left, bottom - top) == (width, height):
        return np.ascontiguousarray(window)
    shrinking = width < right - left or height < bottom - top
    flag = INTERPOLATION[interpolation]
    if shrinking and interpolation != "nearest":
        flag = cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(window), (width, height), interpolation=flag)


def warp(
    pixels: np.ndarray,
    matrix: np.ndarray,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    border: str = "constant",
    fill: Sequence[float] = (0.0,),
) -> np.ndarray:
    """Resample `pixels` once through a source->output 3x3 matrix into a (width, height) image."""
    matrix = np.asarray(matrix, dtype=np.float64)
    inverse = _permutation_inverse(matrix)
    if inverse is not None:
        out = _index_warp(pixels, inverse, size, border, fill)
        if out is not None:
            return out
    out = _crop_resize(pixels, matrix, size, interpolation)
    if out is not None:
        return out
    flags = INTERPOLATION[interpolation]
    border_value = channel_fill(fill, pixels)
    src = np.ascontiguousarray(pixels)  # RGB as it is: OpenCV 5.1 warps 3 channels faster than 4 (no RGBA detour)
    if _is_affine(matrix):
        out = cv2.warpAffine(src, matrix[:2], size, flags=flags, borderMode=BORDER[border], borderValue=border_value)
    else:
        out = cv2.warpPerspective(src, matrix, size, flags=flags, borderMode=BORDER[border], borderValue=border_value)
    return out.reshape(size[1], size[0], *pixels.shape[2:])


def _off_canvas(xs: np.ndarray, ys: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Which points lie off a size canvas, whose pixel edges run from -0.5 to size - 0.5."""
    lo, hi_x, hi_y = -0.5 - _EPS, size[0] - 0.5 + _EPS, size[1] - 0.5 + _EPS
    return (xs < lo) | (xs > hi_x) | (ys < lo) | (ys > hi_y)


def _inside(points: np.ndarray, size: tuple[int, int]) -> bool:
    """Whether every (x, y, w) homogeneous point lies on a size canvas. Plain floats (the same
    IEEE division and comparisons as numpy's, a tenth of the time for four points); numpy's own
    rules where a w is 0 or a value is not finite."""
    rows = points.tolist()
    if not all(w != 0.0 and math.isfinite(x + y + w) for x, y, w in rows):
        return not _off_canvas(points[:, 0] / points[:, 2], points[:, 1] / points[:, 2], size).any()
    lo, hi_x, hi_y = -0.5 - _EPS, size[0] - 0.5 + _EPS, size[1] - 0.5 + _EPS
    return all(lo <= x / w <= hi_x and lo <= y / w <= hi_y for x, y, w in rows)


@functools.lru_cache(maxsize=64)
def _corners(width: int, height: int, edges: bool) -> np.ndarray:
    """A picture's four corner pixel centres (or outer edges) as homogeneous rows; kept per size
    (read-only): every merged warp asks for them per skipped canvas, per copy."""
    lo, w, h = (-0.5, width - 0.5, height - 0.5) if edges else (0, width - 1, height - 1)
    corners = np.array([[lo, lo, 1], [w, lo, 1], [w, h, 1], [lo, h, 1]], float)
    corners.flags.writeable = False
    return corners


def fill_outside(
    pixels: np.ndarray,
    canvas_to_output: np.ndarray,
    canvas_size: tuple[int, int],
    fill: Sequence[float],
    source_to_output: np.ndarray,
    source_size: tuple[int, int],
) -> np.ndarray:
    """Fill the output pixels whose centres fall outside an intermediate canvas of a merged warp.

    Returns `pixels` itself when the canvas cuts nothing: it covers the whole output, or the
    whole source image lands on it (the warp's own bounds then already did the work).
    """
    height, width = pixels.shape[:2]
    to_canvas = np.linalg.inv(canvas_to_output)
    if _inside(_corners(width, height, edges=False) @ to_canvas.T, canvas_size):
        return pixels
    if _inside(_corners(*source_size, edges=True) @ (to_canvas @ source_to_output).T, canvas_size):
        return pixels
    m = to_canvas.astype(np.float32)
    affine = m[2, 0] == 0 and m[2, 1] == 0 and m[2, 2] == 1  # every w is then exactly 1: no division
    xs = np.arange(width, dtype=np.float32)[None, :]
    out, colour = pixels, None
    rows = max(1, _STRIPE_BYTES // (width * 4))
    for top in range(0, height, rows):  # a few rows at a time: the float work stays in cache
        ys = np.arange(top, min(height, top + rows), dtype=np.float32)[:, None]
        sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
        sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
        if not affine:
            w = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]
            sx, sy = sx / w, sy / w
        outside = _off_canvas(sx, sy, canvas_size)
        if outside.any():
            if out is pixels:  # copied only now: `pixels` may be the caller's (a whole-picture window)
                out = pixels.copy()
                colour = tuple(float(v) for v in np.atleast_1d(fill_pixel(fill, pixels)))
            stripe, where = out[top : top + len(ys)], outside.view(np.uint8)
            cv2.subtract(stripe, stripe, dst=stripe, mask=where)  # OpenCV's masked passes: 4x numpy's
            cv2.add(stripe, colour, dst=stripe, mask=where)  # boolean indexing (0 + colour: no clipping)
    return out


def resize(pixels: np.ndarray, width: int, height: int, interpolation: str = "bilinear") -> np.ndarray:
    """Resize to width x height (INTER_AREA when shrinking, so it averages rather than aliases)."""
    from augcli.image import geometry

    h, w = pixels.shape[:2]
    return warp(pixels, geometry.resize(w, h, width, height), (width, height), interpolation)


# --- colour ----------------------------------------------------------------------------------


@on_colour
def color_map(pixels: np.ndarray, cmap: ColorMap) -> np.ndarray:
    """Apply an affine colour map (see color.py) in one pass, rounding and saturating."""
    if cmap.uses_mean:
        mean = np.array(cv2.mean(pixels)[: cmap.channels])
        matrix = cmap.matrix(mean, full_scale(pixels.dtype))
        alike = None
    else:
        matrix, alike = _fixed_matrix(cmap, full_scale(pixels.dtype))
    if pixels.ndim == 2:
        a, bias = matrix[0, 0], matrix[0, 1]
        if pixels.dtype == np.uint8:  # the same arithmetic on the 256 values a byte can take
            return lookup(pixels, _to_dtype(_BYTE_VALUES.astype(np.float32) * a + bias, pixels.dtype))
        return _to_dtype(pixels.astype(np.float32) * a + bias, pixels.dtype)
    if pixels.dtype == np.uint8 and pixels.shape[2] == matrix.shape[0]:
        if alike is None:
            alike = _treats_channels_alike(matrix)
        if alike:
            table, inverts = _transform_table(matrix)
            return np.invert(pixels) if inverts else lookup(pixels, table)
    return cv2.transform(pixels, matrix).reshape(pixels.shape)


def _fixed_matrix(cmap: ColorMap, scale: float) -> tuple[np.ndarray, bool]:
    """The matrix of a map with no mean term, and whether it treats channels alike, kept on the
    map for each full scale: a transform with fixed settings hands the same map to every call."""
    kept = cmap.__dict__.get("_fixed_matrices")
    if kept is None:
        kept = cmap.__dict__["_fixed_matrices"] = {}  # a frozen dataclass: its __dict__, as cached_property does
    found = kept.get(scale)
    if found is None:
        matrix = cmap.matrix(None, scale)
        matrix.flags.writeable = False
        found = kept[scale] = (matrix, _treats_channels_alike(matrix))
    return found


_BYTE_VALUES = np.arange(256, dtype=np.uint8)
_INVERTED_BYTES = np.invert(_BYTE_VALUES)


def _treats_channels_alike(matrix: np.ndarray) -> bool:
    """Whether a (C, C+1) colour matrix scales every channel by one factor and adds one bias, with
    no channel mixing into another (brightness, contrast, invert): each output byte is then a
    function of the same input byte alone, one table for every channel. Plain floats: a few
    numpy reductions on a 3x4 matrix cost more than the lookup they choose."""
    rows = matrix.tolist()
    scale, bias = rows[0][0], rows[0][-1]
    for i, row in enumerate(rows):
        if row[-1] != bias or row[i] != scale:
            return False
        for j in range(len(row) - 1):
            if j != i and row[j] != 0:
                return False
    return True


def _transform_table(matrix: np.ndarray) -> tuple[np.ndarray, bool]:
    """cv2.transform's own output for each byte value, made by running it on a grey ramp: the
    table reproduces its bytes exactly, rounding and fixed-point arithmetic included. With it,
    whether the table is 255 - x (invert), which np.invert does faster than any lookup, with the
    same bytes. Kept per matrix: a fixed map (invert, a fixed factor) builds its table once."""
    key = (matrix.shape, matrix.tobytes())
    found = _TABLES.get(key)
    if found is None:
        channels = matrix.shape[0]
        ramp = _RAMPS.get(channels)
        if ramp is None:
            ramp = _RAMPS[channels] = np.repeat(_BYTE_VALUES, channels).reshape(1, 256, channels)
        table = cv2.transform(ramp, matrix).reshape(256, channels)[:, 0].copy()
        table.flags.writeable = False  # shared by every call with this matrix
        found = _TABLES.keep(key, (table, bool(np.array_equal(table, _INVERTED_BYTES))))
    return found


_RAMPS: dict[int, np.ndarray] = {}
_TABLES = BoundedMemo(512)  # drawn factors make a new matrix every call: the memo stays small


def _apply_table(pixels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[pixels] for a table of the pixels' dtype, one entry per value."""
    if pixels.dtype == np.uint8:
        return lookup(pixels, table)
    return table[pixels]


def _kept_table(kind: str, value: float, dtype: np.dtype, build: Callable[[], np.ndarray]) -> np.ndarray:
    """A value table of `dtype` for a kernel and its parameter, built once: a recipe's fixed gamma
    or threshold (or a policy's few levels) asks for the same table on every call, and building
    it (a few numpy passes over 256 values) cost more than the lookup of a small picture."""
    key = (kind, type(value), value, dtype)  # the type too: a numpy float32 equals a float yet computes in float32
    try:
        found = _VALUE_TABLES.get(key)
    except TypeError:  # an array for a parameter (the functional API): worked out, not kept
        return _to_dtype(build(), dtype)
    if found is None:
        found = _to_dtype(build(), dtype)
        found.flags.writeable = False
        _VALUE_TABLES.keep(key, found)
    return found


_VALUE_TABLES = BoundedMemo(64)  # a 16-bit table is 128 KB: at most 8 MB kept


@on_colour
def gamma(pixels: np.ndarray, gamma: float) -> np.ndarray:
    """out = max * (in / max) ** gamma: gamma > 1 darkens mid-tones, < 1 brightens them."""
    top = full_scale(pixels.dtype)
    table = _kept_table("gamma", gamma, pixels.dtype, lambda: top * (np.arange(top + 1) / top) ** gamma)
    return _apply_table(pixels, table)


EXACT_FLOAT_COUNTS = 1 << 24  # cv2.calcHist counts in float32: exact below 2**24 pixels


def channel_histograms(pixels: np.ndarray) -> list[np.ndarray]:
    """Each channel's count of every value: cv2.calcHist for 8-bit pictures (no per-channel copy,
    exact below 2**24 pixels), numpy's bincount otherwise."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    top = full_scale(pixels.dtype)
    if pixels.dtype == np.uint8 and pixels.shape[0] * pixels.shape[1] < EXACT_FLOAT_COUNTS:
        image = np.ascontiguousarray(pixels)
        return [cv2.calcHist([image], [c], None, [256], [0, 256]).ravel().astype(np.int64) for c in range(channels)]
    planes = [pixels] if pixels.ndim == 2 else [pixels[:, :, c] for c in range(channels)]
    return [np.bincount(plane.ravel(), minlength=top + 1) for plane in planes]


def _equalize_table(histogram: np.ndarray, top: int) -> np.ndarray:
    cdf = np.cumsum(histogram)
    first = cdf[np.flatnonzero(histogram)[0]]
    if cdf[-1] == first:  # a flat channel has nothing to spread
        return np.arange(top + 1)
    return (cdf - first) / (cdf[-1] - first) * top


@on_colour
def equalize(pixels: np.ndarray) -> np.ndarray:
    """Histogram equalisation of each colour channel: its values spread over the full range."""
    top = full_scale(pixels.dtype)
    tables = [_to_dtype(_equalize_table(h, top), pixels.dtype) for h in channel_histograms(pixels)]
    if pixels.dtype == np.uint8:
        return lookup_per_channel(pixels, np.stack(tables))
    if pixels.ndim == 2:
        return tables[0][pixels]
    return np.dstack([tables[c][pixels[:, :, c]] for c in range(pixels.shape[2])])


@on_colour
def posterize(pixels: np.ndarray, bits: int) -> np.ndarray:
    """Keep the top `bits` bits of each 8-bit value (of the top 8 bits for 16-bit images)."""
    depth = pixels.dtype.itemsize * 8
    mask = ~((1 << (depth - bits)) - 1) & full_scale(pixels.dtype)
    return pixels & np.array(mask, dtype=pixels.dtype)


@on_colour
def solarize(pixels: np.ndarray, threshold: float) -> np.ndarray:
    """Invert every value at or above `threshold` (a fraction of full scale)."""
    top = full_scale(pixels.dtype)

    def build() -> np.ndarray:
        values = np.arange(top + 1)
        return np.where(values >= threshold * top, top - values, values)

    return _apply_table(pixels, _kept_table("solarize", threshold, pixels.dtype, build))


_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13.0


_STRIPE_BYTES = 128 * 1024  # float rows worked on at a time: a few such buffers stay in a core's L2


@on_colour
def sharpness(pixels: np.ndarray, factor: float) -> np.ndarray:
    """Blend with a smoothed copy (Pillow's kernel): 0 smooths, 1 keeps, 2 sharpens. Worked in
    stripes of rows (each with its neighbour rows): every output pixel is the same arithmetic
    on the same neighbours, so the bytes are the whole picture's, and the float copies stay in
    cache (500x375 RGB: 2.3 -> 0.73 ms)."""
    height = pixels.shape[0]
    out = np.empty(pixels.shape, pixels.dtype)
    rows = max(1, _STRIPE_BYTES // (pixels[0].size * 4))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        out[top:bottom] = _sharpen_rows(pixels, top, bottom, factor)
    return out


def _sharpen_rows(pixels: np.ndarray, top: int, bottom: int, factor: float) -> np.ndarray:
    """Rows [top, bottom) of the sharpened picture, from them and the row either side."""
    height = pixels.shape[0]
    above, below = max(0, top - 1), min(height, bottom + 1)
    original = pixels[above:below].astype(np.float32)
    smooth = cv2.filter2D(original, -1, _SMOOTH, borderType=cv2.BORDER_REPLICATE)
    kept = slice(top - above, bottom - above)
    original, smooth = original[kept], smooth[kept]
    if top == 0:  # the picture's edge pixels keep their values, as in Pillow
        smooth[0] = original[0]
    if bottom == height:
        smooth[-1] = original[-1]
    smooth[:, 0], smooth[:, -1] = original[:, 0], original[:, -1]
    detail = np.subtract(original, smooth, out=original)  # in place: smooth + factor * (original - smooth)
    np.multiply(detail, factor, out=detail)
    if not math.isfinite(factor):  # a replayed record's: OpenCV saturates NaN to full scale, numpy gave 0
        return _scratch_to_dtype(np.add(smooth, detail, out=smooth), pixels.dtype)
    return _sum_to_dtype(smooth, detail, pixels.dtype)


# --- noise and degradation -------------------------------------------------------------------


@on_colour
def gaussian_noise(pixels: np.ndarray, std: float, seed: int, per_channel: bool = True) -> np.ndarray:
    """Add zero-mean Gaussian noise with `std` as a fraction of full scale."""
    rng = np.random.default_rng(seed)
    shape = pixels.shape if per_channel or pixels.ndim == 2 else pixels.shape[:2] + (1,)
    noise = rng.standard_normal(shape, dtype=np.float32)
    np.multiply(noise, np.float32(std * full_scale(pixels.dtype)), out=noise)
    if noise.shape != pixels.shape:  # one draw for every channel of a pixel
        return _scratch_to_dtype(pixels.astype(np.float32) + noise, pixels.dtype)
    if not math.isfinite(std):  # a replayed record's: OpenCV saturates NaN to full scale, numpy gave 0
        return _scratch_to_dtype(np.add(pixels, noise, out=noise), pixels.dtype)
    return _sum_to_dtype(pixels, noise, pixels.dtype)


@on_colour
def salt_pepper(pixels: np.ndarray, amount: float, salt_ratio: float, seed: int) -> np.ndarray:
    """Set a fraction `amount` of pixels to white (salt) or black (pepper), all channels alike."""
    rng = np.random.default_rng(seed)
    h, w = pixels.shape[:2]
    draw = rng.random((h, w))
    out = pixels.copy()
    out[draw < amount * salt_ratio] = full_scale(pixels.dtype)
    out[(draw >= amount * salt_ratio) & (draw < amount)] = 0
    return out


def gaussian_kernel_size(sigma: float) -> int:
    """An odd kernel wide enough for +-3 sigma."""
    return 2 * math.ceil(3.0 * sigma) + 1


MAX_GAUSSIAN_SIDE = 301  # the default kernel of the largest sigma a recipe takes (50)


@on_colour
def gaussian_blur(pixels: np.ndarray, sigma: float, size: int | None = None) -> np.ndarray:
    """Gaussian blur of `sigma` pixels over a `size` x `size` kernel (default: +-3 sigma). A kernel
    a recipe could not ask for (a record edited in OUTPUT's manifest) is a ValueError."""
    if not math.isfinite(sigma):
        raise ValueError(f"a Gaussian blur's sigma is a finite number, got {sigma!r}")
    if sigma <= 0:
        return pixels.copy()
    k = gaussian_kernel_size(sigma) if size is None else size
    if type(k) is not int or k % 2 == 0 or not 1 <= k <= MAX_GAUSSIAN_SIDE:
        raise ValueError(f"a Gaussian kernel side is an odd whole number in [1, {MAX_GAUSSIAN_SIDE}], got {k!r}")
    return cv2.GaussianBlur(pixels, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line of `length` pixels through the centre at `angle` degrees (CCW)."""
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), dtype=np.float32)
    c = (size - 1) / 2.0
    dx, dy = math.cos(math.radians(angle)), -math.sin(math.radians(angle))
    half = (length - 1) / 2.0
    steps = np.linspace(-half, half, max(2 * length, 2))
    kernel[np.rint(c + steps * dy).astype(int), np.rint(c + steps * dx).astype(int)] = 1.0
    return kernel / kernel.sum()


@on_colour
def motion_blur(pixels: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Average along a line, as a camera moving during the exposure would."""
    if length <= 1:
        return pixels.copy()
    return cv2.filter2D(pixels, -1, motion_kernel(length, angle), borderType=cv2.BORDER_REFLECT_101)


_READ_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV 4.10 and later


@on_colour
def jpeg_compression(pixels: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at `quality` and decode again, keeping its block and ringing artefacts. OpenCV
    and Pillow share libjpeg-turbo and its settings (the same file and pixels; a test compares
    them): OpenCV's round trip takes 60% of Pillow's, which decodes through two more copies."""
    sixteen = pixels.dtype == np.uint16
    data = (pixels >> 8).astype(np.uint8) if sixteen else pixels
    encoded = image_io.opencv_jpeg(data, quality)
    if encoded is not None and data.ndim == 2:
        decoded = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_GRAYSCALE)
    elif encoded is not None and _READ_RGB is not None:
        decoded = cv2.imdecode(np.frombuffer(encoded, np.uint8), _READ_RGB)
    elif encoded is not None:  # OpenCV before 4.10 decodes to BGR only
        decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    else:  # a picture of another kind: Pillow's own round trip
        buffer = io.BytesIO()
        Image.fromarray(data).save(buffer, format="JPEG", quality=int(quality))
        decoded = np.asarray(Image.open(buffer)).copy()
    return decoded.astype(np.uint16) * 257 if sixteen else decoded


@on_colour
def downscale(pixels: np.ndarray, factor: float, interpolation: str = "bilinear", shrink: str = "area") -> np.ndarray:
    """Shrink by `factor` (area average, or `shrink`'s filter) and enlarge back with `interpolation`:
    the detail of a low-res capture."""
    h, w = pixels.shape[:2]
    flag = cv2.INTER_AREA if shrink == "area" else INTERPOLATION[shrink]
    small = cv2.resize(pixels, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=flag)
    return cv2.resize(small, (w, h), interpolation=INTERPOLATION[interpolation])


# --- occlusion -------------------------------------------------------------------------------


@on_colour
def erase(
    pixels: np.ndarray,
    boxes: Sequence[Sequence[int]],
    fill: str = "constant",
    value: Sequence[float] = (0.0,),
    seed: int = 0,
) -> np.ndarray:
    """Overwrite each (top, left, height, width) box: random values, a constant or the image mean."""
    out = pixels.copy()
    if fill == "random":
        top_value, rng = full_scale(pixels.dtype), np.random.default_rng(seed)
    elif fill == "mean":  # of the picture as it came in: a pass over every pixel, so only when asked for
        mean = np.array(cv2.mean(pixels)[: colour_count(pixels)])
        colour = _to_dtype(mean if pixels.ndim == 3 else mean[0], pixels.dtype)
    else:
        colour = fill_pixel(value, pixels)
    for top, left, height, width in boxes:
        region = out[top : top + height, left : left + width]
        if fill == "random":
            region[...] = rng.integers(0, top_value + 1, size=region.shape, dtype=pixels.dtype)
        elif region.ndim == 3 and region.size:  # a row of the colour, copied down (a per-pixel broadcast: 5x slower)
            rows = region.reshape(region.shape[0], -1)  # a view: each row's pixels lie side by side
            rows[...] = np.tile(colour, region.shape[1])
        else:
            region[...] = colour
    return out
