"""Registered image transforms: `sample` draws parameters from the rng, `op` turns them into pixels work.

Geometric transforms only build a matrix (geometry.py) and colour adjustments only build a colour
map (color.py), so a run of either kind is merged into one pass by ops.run_ops.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from augcli.core.memo import BoundedMemo
from augcli.core.params import MAX_SIDE, Choice, Fill, Flag, IntList, Number, Size, Span
from augcli.core.transforms import (
    Transform,
    draw_seed,
    first_problem,
    is_whole,
    list_problem,
    range_problem,
    register,
    uniform,
)
from augcli.image import color, geometry, policies
from augcli.image import functional as F
from augcli.image.ops import Kernel, Op, Recolor, Warp, run_ops


@dataclass(frozen=True)
class ImageInfo:
    """What sampling needs to know of an image at a point in the chain, without its pixels."""

    width: int
    height: int
    channels: int = 3  # colour channels: 1 or 3
    alpha: bool = False

    @classmethod
    def of(cls, pixels: np.ndarray) -> ImageInfo:
        """The description of an array of this shape."""
        shape = pixels.shape
        channels = 1 if len(shape) == 2 else shape[2]
        return cls.sized(shape[1], shape[0], 3 if channels >= 3 else 1, channels in (2, 4))

    @classmethod
    def sized(cls, width: int, height: int, channels: int, alpha: bool) -> ImageInfo:
        """One shared instance per description (it is frozen): a training loop's pictures of one
        size then find the geometry each transform remembered for it (see _remembered), not a
        new description that matches nothing, and no frozen dataclass is built per call."""
        key = (cls, width, height, channels, alpha)
        found = _INFOS.get(key)
        if found is None:
            found = _INFOS.keep(key, cls(width, height, channels, alpha))
        return found


_INFOS = BoundedMemo(256)  # sizes of a dataset in rotation (a crop's output among them); more are described again


def _integer(rng: np.random.Generator, span: tuple[int, int]) -> int:
    lo, hi = span
    if lo == hi:  # numpy draws nothing for a one-value range either: the same stream, a call less
        return int(lo)
    return int(rng.integers(lo, hi + 1))


class ImageTransform(Transform):
    """An image transform: `op` says what its sampled parameters do to the pixels."""

    def op(self, info: ImageInfo, **params: Any) -> Op:
        raise NotImplementedError

    def apply(self, pixels: np.ndarray, **params: Any) -> np.ndarray:
        """Apply already-sampled parameters to one image (handy for tests and replays)."""
        return run_ops(pixels, [self.op(ImageInfo.of(pixels), **params)])


class Resampling:
    interpolation = Choice("bilinear", ["bilinear", "nearest", "bicubic"], "how pixels are resampled")


class Bordered:
    border = Choice("constant", ["constant", "reflect", "replicate"], "what fills the area the image left")
    fill = Fill(0, "colour of a constant border, 0-255 (alpha, if any, becomes transparent)")


def _remembered(geometry: Any) -> Any:
    """A transform's `geometry`, answered again without recomputing for the same description and
    parameters: a copy asks for it when it is planned, when its pixels warp and for each target
    that moves (boxes, mask, keypoints), and an affine's matrix takes 28 us to build. One answer is
    kept per transform (a tuple replaced whole: threads see the old one or the new); its matrix is
    read-only, as every caller only reads it."""

    @functools.wraps(geometry)
    def remembered(self: Any, info: Any, **params: Any) -> tuple[np.ndarray, tuple[int, int]]:
        kept = self.__dict__.get("_geometry_kept")
        key = _params_key(params)
        if kept is not None and kept[0] is info and key is not None and kept[1] == key:
            return kept[2]
        answer = geometry(self, info, **params)
        answer[0].flags.writeable = False
        if key is not None:
            self._geometry_kept = (info, key, answer)
        return answer

    return remembered


def _kept_op(transform: Any, info: ImageInfo, params: dict[str, Any], build: Any) -> Op:
    """`build(info, **params)`, or the op the transform built last when the description and the
    parameters are the same (a flip, a fixed crop or colour change of one picture size: every
    call of a training loop). Ops are frozen and their arrays only read; one is kept per
    transform, as its geometry is."""
    kept = transform.__dict__.get("_op_kept")
    key = _params_key(params)
    if kept is not None and kept[0] is info and key is not None and kept[1] == key:
        return kept[2]
    op = build(info, **params)
    if key is not None:
        transform._op_kept = (info, key, op)
    return op


_PLAIN = frozenset({int, float, str, bool, type(None)})


def _params_key(params: dict[str, Any]) -> tuple | None:
    """Parameters as a memo compares them: a private, immutable snapshot with each value's type
    (a record's lists are the caller's to edit in place, and a numpy float32 equals a float yet
    computes in float32); None, and nothing is remembered, for any value but Python's plain
    numbers, strings and lists or tuples of them (a replay may hand numpy numbers or arrays)."""
    values = _frozen_sequence(tuple(params.values()))
    return None if values is None else (tuple(params), values)


def _frozen_sequence(values: list | tuple) -> tuple | None:
    """Each value with its type, lists and tuples opened up; None for anything else."""
    out = []
    for value in values:
        kind = type(value)
        if kind in _PLAIN:
            out.append((kind, value))
        elif kind is list or kind is tuple:
            inner = _frozen_sequence(value)
            if inner is None:
                return None
            out.append((kind, inner))
        else:
            return None
    return tuple(out)


class Geometric(ImageTransform):
    """Moves pixels: builds a matrix and an output size; consecutive ones warp once."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "geometry" in vars(cls):
            cls.geometry = _remembered(vars(cls)["geometry"])

    def geometry(self, info: ImageInfo, **params: Any) -> tuple[np.ndarray, tuple[int, int]]:
        raise NotImplementedError

    def output_info(self, info: ImageInfo, params: dict[str, Any]) -> ImageInfo:
        _, (width, height) = self.geometry(info, **params)
        if width == info.width and height == info.height:
            return info  # frozen: the same description serves (a flip, a rotation)
        if type(info) is ImageInfo:
            return ImageInfo.sized(width, height, info.channels, info.alpha)
        return replace(info, width=width, height=height)  # a video's frames, say

    def op(self, info: ImageInfo, **params: Any) -> Op:
        return _kept_op(self, info, params, self._warp)

    def _warp(self, info: ImageInfo, **params: Any) -> Op:
        matrix, size = self.geometry(info, **params)
        return Warp(
            matrix,
            size,
            interpolation=getattr(self, "interpolation", None),
            border=getattr(self, "border", None),
            fill=getattr(self, "fill", None),
        )


def _same_size(matrix: np.ndarray, info: ImageInfo) -> tuple[np.ndarray, tuple[int, int]]:
    return matrix, (info.width, info.height)


@register("image")
class Hflip(Geometric):
    """Mirror left to right."""

    def geometry(self, info, **params):
        return _same_size(geometry.hflip(info.width), info)


@register("image")
class Vflip(Geometric):
    """Mirror top to bottom."""

    def geometry(self, info, **params):
        return _same_size(geometry.vflip(info.height), info)


@register("image")
class Rot90(Geometric):
    """Turn by a random number of quarter turns counter-clockwise (odd turns swap width and height)."""

    turns = IntList([1, 2, 3], [0, 1, 2, 3], "quarter turns to choose from")

    def sample(self, rng, info):
        return {"turns": int(rng.choice(self.turns))}

    def geometry(self, info, turns):
        size = (info.height, info.width) if turns % 2 else (info.width, info.height)
        return geometry.rot90(turns, info.width, info.height), size


@register("image")
class Rotate(Geometric, Resampling, Bordered):
    """Rotate about the centre by a random angle (positive is counter-clockwise); size is kept."""

    degrees = Span(15, "angle range in degrees", scalar="symmetric", lo=-360, hi=360)

    def sample(self, rng, info):
        return {"angle": uniform(rng, self.degrees)}

    def geometry(self, info, angle):
        return _same_size(geometry.rotation(angle, info.width, info.height), info)


@register("image")
class Scale(Geometric, Resampling, Bordered):
    """Zoom in (factor > 1) or out (< 1) about the centre; size is kept."""

    factor = Span(0.1, "zoom factor range", scalar="around_one", lo=0.0, lo_open=True, hi=10)
    keep_aspect = Flag(True, "one factor for both axes; false draws x and y separately")

    def sample(self, rng, info):
        sx = uniform(rng, self.factor)
        return {"x": sx, "y": sx if self.keep_aspect else uniform(rng, self.factor)}

    def geometry(self, info, x, y):
        return _same_size(geometry.scaling(x, y, info.width, info.height), info)


@register("image")
class Translate(Geometric, Bordered):
    """Shift by whole pixels, drawn as fractions of the width and height."""

    x = Span(0.1, "horizontal shift as a fraction of the width", scalar="symmetric", lo=-1, hi=1)
    y = Span(0.1, "vertical shift as a fraction of the height", scalar="symmetric", lo=-1, hi=1)

    def sample(self, rng, info):
        return {"dx": round(uniform(rng, self.x) * info.width), "dy": round(uniform(rng, self.y) * info.height)}

    def geometry(self, info, dx, dy):
        return _same_size(geometry.translation(dx, dy), info)


@register("image")
class Shear(Geometric, Resampling, Bordered):
    """Shear about the centre: `x` tilts vertical lines, `y` horizontal ones (degrees)."""

    x = Span(10, "horizontal shear angle range in degrees", scalar="symmetric", lo=-80, hi=80)
    y = Span(0, "vertical shear angle range in degrees", scalar="symmetric", lo=-80, hi=80)

    def sample(self, rng, info):
        return {"x": uniform(rng, self.x), "y": uniform(rng, self.y)}

    def geometry(self, info, x, y):
        return _same_size(geometry.shearing(x, y, info.width, info.height), info)


@register("image")
class Affine(Geometric, Resampling, Bordered):
    """Rotate, scale, shear and translate in one step (each part off unless given)."""

    degrees = Span(0, "rotation range in degrees", scalar="symmetric", lo=-360, hi=360)
    scale = Span(0, "zoom factor range", scalar="around_one", lo=0.0, lo_open=True, hi=10)
    translate_x = Span(0, "shift as a fraction of the width", scalar="symmetric", lo=-1, hi=1)
    translate_y = Span(0, "shift as a fraction of the height", scalar="symmetric", lo=-1, hi=1)
    shear_x = Span(0, "horizontal shear range in degrees", scalar="symmetric", lo=-80, hi=80)
    shear_y = Span(0, "vertical shear range in degrees", scalar="symmetric", lo=-80, hi=80)

    def sample(self, rng, info):
        return {
            "angle": uniform(rng, self.degrees),
            "scale": uniform(rng, self.scale),
            "dx": uniform(rng, self.translate_x) * info.width,
            "dy": uniform(rng, self.translate_y) * info.height,
            "shear_x": uniform(rng, self.shear_x),
            "shear_y": uniform(rng, self.shear_y),
        }

    def geometry(self, info, angle, scale, dx, dy, shear_x, shear_y):
        w, h = info.width, info.height
        matrix = (
            geometry.translation(dx, dy)
            @ geometry.rotation(angle, w, h)
            @ geometry.scaling(scale, scale, w, h)
            @ geometry.shearing(shear_x, shear_y, w, h)
        )
        return _same_size(matrix, info)


@register("image")
class Perspective(Geometric, Resampling, Bordered):
    """Pull each corner inwards by a random amount, as if seen from another viewpoint."""

    distortion = Number(0.3, "largest corner move, as a fraction of half the width/height", lo=0, hi=1)

    def sample(self, rng, info):
        w, h = info.width - 1, info.height - 1
        dx, dy = self.distortion * w / 2, self.distortion * h / 2
        inward = rng.uniform(0, 1, size=(4, 2)) * [dx, dy]
        sign = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]]) + sign * inward
        return {"corners": [[float(x), float(y)] for x, y in corners]}

    def geometry(self, info, corners):
        w, h = info.width - 1, info.height - 1
        source = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=float)
        return _same_size(geometry.homography(source, np.array(corners)), info)


class _Cropping(Geometric):
    """Cut out a window; a window larger than the image is padded with `fill`."""

    border = "constant"
    fill = Fill(0, "colour of padding when the image is smaller than the crop, 0-255")

    def geometry(self, info, top, left):
        height, width = self.size
        return geometry.crop(left, top), (width, height)


@register("image")
class Crop(_Cropping):
    """Cut a window of `size` at a random position."""

    size = Size(doc="output [height, width]")

    def sample(self, rng, info):
        height, width = self.size
        return {"top": _offset(rng, info.height, height), "left": _offset(rng, info.width, width)}


def _offset(rng: np.random.Generator, have: int, want: int) -> int:
    return int(rng.integers(0, have - want + 1)) if have >= want else (have - want) // 2


@register("image")
class CenterCrop(_Cropping):
    """Cut a window of `size` from the centre."""

    size = Size(doc="output [height, width]")

    def sample(self, rng, info):
        height, width = self.size
        return {"top": (info.height - height) // 2, "left": (info.width - width) // 2}


@register("image")
class RandomResizedCrop(Geometric, Resampling):
    """Crop a random area and aspect ratio, then resize it (torchvision's algorithm)."""

    scale = Span((0.08, 1.0), "crop area as a fraction of the image", lo=0.0, lo_open=True, hi=1)
    ratio = Span((3 / 4, 4 / 3), "crop aspect ratio (width / height) range", lo=0.0, lo_open=True, hi=100)
    size = Size(None, "output [height, width]; default: the input size")

    def sample(self, rng, info):
        w, h = info.width, info.height
        area = w * h
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * uniform(rng, self.scale)
            aspect = math.exp(uniform(rng, log_ratio))
            cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                return {
                    "top": _integer(rng, (0, h - ch)),
                    "left": _integer(rng, (0, w - cw)),
                    "height": ch,
                    "width": cw,
                }
        # Fall back to the largest centred crop within the ratio range.
        aspect = min(max(w / h, self.ratio[0]), self.ratio[1])
        cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
        cw, ch = min(cw, w), min(ch, h)
        return {"top": (h - ch) // 2, "left": (w - cw) // 2, "height": ch, "width": cw}

    def geometry(self, info, top, left, height, width):
        out_h, out_w = self.size or (info.height, info.width)
        return geometry.resize(width, height, out_w, out_h) @ geometry.crop(left, top), (out_w, out_h)


@register("image")
class Pad(Geometric):
    """Add a border to each side: a fixed width, or one drawn per side from a range."""

    pixels = Span(8, "border width per side in pixels", integer=True, lo=0, hi=10000)
    border = Choice("constant", ["constant", "reflect", "replicate"], "how the border is filled")
    fill = Fill(0, "colour of a constant border, 0-255")

    def sample(self, rng, info):
        return {side: _integer(rng, self.pixels) for side in ("top", "right", "bottom", "left")}

    def replay_problem(self, params: dict[str, Any], info: ImageInfo) -> str | None:
        sides = ("top", "right", "bottom", "left")
        return first_problem(range_problem(side, params.get(side), self.pixels, integer=True) for side in sides)

    def geometry(self, info, top, right, bottom, left):
        return geometry.translation(left, top), (info.width + left + right, info.height + top + bottom)


@register("image")
class Resize(Geometric, Resampling):
    """Resize to `size`, or so the shorter side is `shorter_side` keeping the aspect ratio."""

    size = Size(None, "output [height, width]")
    shorter_side = Number(None, "length of the shorter side in pixels", integer=True, lo=1, hi=MAX_SIDE)

    def check(self):
        if (self.size is None) == (self.shorter_side is None):
            return [("size", "give exactly one of size or shorter_side")]
        return []

    def target(self, info: ImageInfo) -> tuple[int, int]:
        if self.size is not None:
            return self.size[1], self.size[0]
        ratio = self.shorter_side / min(info.width, info.height)
        return max(1, round(info.width * ratio)), max(1, round(info.height * ratio))

    def geometry(self, info, **params):
        width, height = self.target(info)
        return geometry.resize(info.width, info.height, width, height), (width, height)


# --- photometric ------------------------------------------------------------------------------


class _ColourAdjust(ImageTransform):
    """Photometric transforms that are affine colour maps; consecutive ones merge into one pass."""

    def colour_map(self, channels: int, **params: Any) -> color.ColorMap:
        raise NotImplementedError

    def op(self, info: ImageInfo, **params: Any) -> Op:
        return _kept_op(self, info, params, self._recolor)

    def _recolor(self, info: ImageInfo, **params: Any) -> Op:
        return Recolor(self.colour_map(info.channels, **params))


_FACTOR_BOUNDS = {"lo": 0.0, "hi": 100.0}


class _FactorAdjust(_ColourAdjust):
    """A colour adjustment by one random factor; `adjust` builds its colour map."""

    factor = Span(0.2, "factor range", scalar="around_one", **_FACTOR_BOUNDS)
    adjust: Any = None

    def sample(self, rng, info):
        return {"factor": uniform(rng, self.factor)}

    def colour_map(self, channels, factor):
        return type(self).adjust(factor, channels)


@register("image")
class Brightness(_FactorAdjust):
    """Multiply the colour values by a random factor (1 keeps the image)."""

    adjust = color.brightness


@register("image")
class Contrast(_FactorAdjust):
    """Blend with the image's mean grey by a random factor (0 flat grey, 1 unchanged)."""

    adjust = color.contrast


@register("image")
class Saturation(_FactorAdjust):
    """Blend each pixel with its grey by a random factor (0 grayscale, 1 unchanged)."""

    adjust = color.saturation


@register("image")
class Hue(_ColourAdjust):
    """Turn the hue by a random fraction of the colour circle, keeping luma."""

    shift = Span(0.05, "shift range, fractions of a full turn", scalar="symmetric", lo=-0.5, hi=0.5)

    def sample(self, rng, info):
        return {"shift": uniform(rng, self.shift)}

    def colour_map(self, channels, shift):
        return color.hue(shift, channels)


_JITTERS = {
    "brightness": color.brightness,
    "contrast": color.contrast,
    "saturation": color.saturation,
    "hue": color.hue,
}


@register("image")
class ColorJitter(_ColourAdjust):
    """Brightness, contrast, saturation and hue at once, in a random order (as torchvision)."""

    brightness = Span(0, "brightness factor range", scalar="around_one", **_FACTOR_BOUNDS)
    contrast = Span(0, "contrast factor range", scalar="around_one", **_FACTOR_BOUNDS)
    saturation = Span(0, "saturation factor range", scalar="around_one", **_FACTOR_BOUNDS)
    hue = Span(0, "hue shift range, fractions of a full turn", scalar="symmetric", lo=-0.5, hi=0.5)

    def _active(self) -> list[str]:
        neutral = {"brightness": (1.0, 1.0), "contrast": (1.0, 1.0), "saturation": (1.0, 1.0), "hue": (0.0, 0.0)}
        return [name for name in _JITTERS if tuple(getattr(self, name)) != neutral[name]]

    def check(self):
        if not self._active():
            return [
                ("brightness", "color_jitter does nothing: set at least one of brightness, contrast, saturation, hue")
            ]
        return []

    def sample(self, rng, info):
        active = self._active()
        order = [active[i] for i in rng.permutation(len(active))]
        return {"order": order, **{name: uniform(rng, getattr(self, name)) for name in order}}

    def colour_map(self, channels, order, **factors):
        cmap = color.identity(channels)
        for name in order:
            cmap = cmap.then(_JITTERS[name](factors[name], channels))
        return cmap


@register("image")
class Grayscale(_ColourAdjust):
    """Replace colour by its luma (ITU-R 601-2); the channel count is kept."""

    def colour_map(self, channels):
        return color.grayscale(channels)


@register("image")
class Invert(_ColourAdjust):
    """Negative: every colour value v becomes max - v."""

    def colour_map(self, channels):
        return color.invert(channels)


class _KernelTransform(ImageTransform):
    """A transform whose sampled parameters go straight to one pure kernel."""

    kernel: Any = None

    def op(self, info: ImageInfo, **params: Any) -> Op:
        return Kernel(type(self).kernel, params)


@register("image")
class Gamma(_KernelTransform):
    """Gamma curve: out = max * (in / max) ** gamma (>1 darkens mid-tones, <1 brightens)."""

    gamma = Span((0.7, 1.5), "exponent range", lo=0.0, lo_open=True, hi=10)
    kernel = F.gamma

    def sample(self, rng, info):
        return {"gamma": uniform(rng, self.gamma)}


@register("image")
class Equalize(_KernelTransform):
    """Histogram-equalise each colour channel."""

    kernel = F.equalize


@register("image")
class Posterize(_KernelTransform):
    """Keep only the top `bits` bits of each colour value."""

    bits = Span(4, "bits to keep, 1-8", integer=True, lo=1, hi=8)
    kernel = F.posterize

    def sample(self, rng, info):
        return {"bits": _integer(rng, self.bits)}


@register("image")
class Solarize(_KernelTransform):
    """Invert the colour values at or above a threshold (fraction of full scale)."""

    threshold = Span(0.5, "threshold range, 0-1", lo=0, hi=1)
    kernel = F.solarize

    def sample(self, rng, info):
        return {"threshold": uniform(rng, self.threshold)}


@register("image")
class Sharpness(_KernelTransform):
    """Sharpen (factor > 1) or soften (< 1) against Pillow's smoothing kernel."""

    factor = Span((0.5, 2.0), "factor range (1 keeps the image)", **_FACTOR_BOUNDS)
    kernel = F.sharpness

    def sample(self, rng, info):
        return {"factor": uniform(rng, self.factor)}


# --- noise and degradation --------------------------------------------------------------------


@register("image")
class GaussianNoise(_KernelTransform):
    """Add Gaussian noise; `std` is a fraction of full scale (0.02 is about 5 grey levels)."""

    std = Span((0.01, 0.05), "standard deviation range, fraction of full scale", lo=0, hi=1)
    per_channel = Flag(True, "independent noise per colour channel; false adds the same to all")
    kernel = F.gaussian_noise

    def sample(self, rng, info):
        return {"std": uniform(rng, self.std), "seed": draw_seed(rng), "per_channel": self.per_channel}


@register("image")
class SaltPepper(_KernelTransform):
    """Turn a random fraction of pixels white (salt) or black (pepper)."""

    amount = Span((0.01, 0.05), "fraction of pixels hit", lo=0, hi=1)
    salt_ratio = Number(0.5, "share of the hit pixels that turn white", lo=0, hi=1)
    kernel = F.salt_pepper

    def sample(self, rng, info):
        return {"amount": uniform(rng, self.amount), "salt_ratio": self.salt_ratio, "seed": draw_seed(rng)}


@register("image")
class GaussianBlur(_KernelTransform):
    """Blur with a Gaussian of random sigma (pixels); the kernel spans +-3 sigma unless `size` is given."""

    sigma = Span((0.5, 1.5), "sigma range in pixels", lo=0, hi=50)
    size = Number(
        None,
        "kernel side in pixels, odd (torchvision's kernel_size, albumentations' blur_limit); default 2*ceil(3 sigma)+1",
        integer=True,
        lo=1,
        hi=F.MAX_GAUSSIAN_SIDE,
    )
    kernel = F.gaussian_blur
    added_later = ("size",)

    def check(self):
        if self.size is not None and self.size % 2 == 0:
            return [("size", f"a kernel side is odd: use {self.size - 1} or {self.size + 1}")]
        return []

    def sample(self, rng, info):
        params = {"sigma": uniform(rng, self.sigma)}
        if self.size is not None:  # recorded only when set: older manifests stay as they were
            params["size"] = self.size
        return params


@register("image")
class MotionBlur(_KernelTransform):
    """Smear along a random line, like camera shake during the exposure."""

    length = Span((3, 15), "line length range in pixels", integer=True, lo=1, hi=201)
    angle = Span((0, 180), "line angle range in degrees", lo=-360, hi=360)
    kernel = F.motion_blur

    def sample(self, rng, info):
        return {"length": _integer(rng, self.length), "angle": uniform(rng, self.angle)}


@register("image")
class JpegCompression(_KernelTransform):
    """Re-encode as JPEG at a random quality, keeping its artefacts."""

    quality = Span((30, 90), "JPEG quality range, 1-100", integer=True, lo=1, hi=100)
    kernel = F.jpeg_compression

    def sample(self, rng, info):
        return {"quality": _integer(rng, self.quality)}


@register("image")
class Downscale(_KernelTransform, Resampling):
    """Shrink by a random factor and enlarge back, losing fine detail."""

    factor = Span((0.25, 0.5), "shrink factor range", lo=0.0, lo_open=True, hi=1)
    shrink = Choice(
        "area",
        ["area", "nearest", "bilinear"],
        "how the picture is shrunk: area averages (a low-resolution sensor), nearest drops pixels (aliasing)",
    )
    kernel = F.downscale
    added_later = ("shrink",)

    def sample(self, rng, info):
        params = {"factor": uniform(rng, self.factor), "interpolation": self.interpolation}
        if self.shrink != "area":  # recorded only when set: older manifests stay as they were
            params["shrink"] = self.shrink
        return params


# --- occlusion --------------------------------------------------------------------------------


class _Occlusion(_KernelTransform):
    fill = Choice("random", ["random", "constant", "mean"], "random values, the constant `value`, or the image mean")
    value = Fill(0, "colour for fill: constant, 0-255")
    kernel = F.erase

    def most_boxes(self) -> int:
        """How many boxes a copy can draw."""
        return 1

    def replay_problem(self, params: dict[str, Any], info: ImageInfo) -> str | None:
        """The boxes must be whole-pixel rectangles inside the picture, no more than the recipe draws."""
        boxes = params.get("boxes")
        why = list_problem("boxes", boxes, self.most_boxes())
        for box in boxes if why is None else ():
            whole = isinstance(box, list) and len(box) == 4 and all(is_whole(v) and v >= 0 for v in box)
            if not whole or box[0] + box[2] > info.height or box[1] + box[3] > info.width:
                return f"box {box!r} is not [top, left, height, width] inside the {info.width}x{info.height} picture"
        return why or super().replay_problem(params, info)

    def erase_params(self, rng: np.random.Generator, boxes: list[list[int]]) -> dict[str, Any]:
        params: dict[str, Any] = {"boxes": boxes, "fill": self.fill}
        if self.fill == "constant":
            params["value"] = list(self.value)
        if self.fill == "random":
            params["seed"] = draw_seed(rng)
        return params


@register("image")
class RandomErasing(_Occlusion):
    """Erase one random rectangle (torchvision's algorithm; no-op if none fits in 10 tries)."""

    area = Span((0.02, 0.33), "rectangle area as a fraction of the image", lo=0.0, lo_open=True, hi=1)
    ratio = Span((0.3, 3.3), "rectangle aspect ratio (height / width) range", lo=0.0, lo_open=True, hi=100)

    def sample(self, rng, info):
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = info.width * info.height * uniform(rng, self.area)
            aspect = math.exp(uniform(rng, log_ratio))
            h, w = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
            if 0 < h < info.height and 0 < w < info.width:
                box = [_integer(rng, (0, info.height - h)), _integer(rng, (0, info.width - w)), h, w]
                return self.erase_params(rng, [box])
        return self.erase_params(rng, [])


@register("image")
class Cutout(_Occlusion):
    """Erase square holes centred anywhere (they may hang over the edge), as DeVries & Taylor."""

    holes = Span(1, "number of holes", integer=True, lo=1, hi=1000)
    size = Span(0.2, "hole side as a fraction of the shorter image side", lo=0.0, lo_open=True, hi=1)
    fill = Choice("constant", ["random", "constant", "mean"], "random values, the constant `value`, or the image mean")

    def most_boxes(self) -> int:
        return int(self.holes[1])

    def sample(self, rng, info):
        boxes = []
        for _ in range(_integer(rng, self.holes)):
            side = max(1, round(uniform(rng, self.size) * min(info.width, info.height)))
            cy, cx = _integer(rng, (0, info.height - 1)), _integer(rng, (0, info.width - 1))
            top, left = max(0, cy - side // 2), max(0, cx - side // 2)
            bottom, right = min(info.height, cy - side // 2 + side), min(info.width, cx - side // 2 + side)
            boxes.append([top, left, bottom - top, right - left])
        return self.erase_params(rng, boxes)


# --- automatic augmentation policies (torchvision's definitions; see policies.py) ----------------


class _Policy(ImageTransform):
    """A policy draws ops by name with magnitudes from its table; records them as `ops`: a list of
    [name, magnitude], and `drawn`: {name: magnitude} (a repeat is name_2) for the run report.

    Geometric ops use torchvision's definitions (nearest, fill 0, shear about the top-left
    corner), not augcli's rotate/shear (bilinear, `border`); each op resamples on its own, as in
    torchvision, while boxes, masks and keypoints move by the product of their matrices."""

    @staticmethod
    def _recorded(ops: list[list[Any]]) -> dict[str, Any]:
        drawn: dict[str, float] = {}
        for name, value in ops:
            key, k = name, 1
            while key in drawn:
                k += 1
                key = f"{name}_{k}"
            drawn[key] = value
        return {"ops": ops, "drawn": drawn}

    def op(self, info: ImageInfo, ops=(), **params: Any) -> Op:
        return Kernel(policies.apply_ops, {"ops": [tuple(o) for o in ops]})

    def op_table(self) -> dict[str, Any]:
        return policies.STANDARD

    def most_ops(self) -> int:
        return 2

    def ops_problem(self, params: dict[str, Any]) -> str | None:
        """No more ops than the policy draws, each one of its table's with a finite magnitude."""
        return _ops_problem(params.get("ops"), self.most_ops(), self.op_table())

    def replay_problem(self, params: dict[str, Any], info: ImageInfo) -> str | None:
        return self.ops_problem(params) or super().replay_problem(params, info)


def _ops_problem(ops: Any, most: int, table: dict[str, Any]) -> str | None:
    why = list_problem("ops", ops, most)
    for op in ops if why is None else ():
        if not isinstance(op, list) or len(op) != 2 or op[0] not in table or range_problem("magnitude", op[1], None):
            return f"op {op!r} is not [name, magnitude] of one of this policy's ops"
    return why


class _MovingPolicy(_Policy):
    """A policy whose geometric ops move the copy's boxes, masks and keypoints."""

    def geometry(self, info, ops, **params):
        return _same_size(policies.chain_matrix(ops, info.width, info.height), info)


@register("image")
class TrivialAugment(_MovingPolicy):
    """TrivialAugmentWide: one op of 14, drawn uniformly, at a uniformly drawn strength (wide ranges)."""

    num_magnitude_bins = Number(31, "bins of each op's magnitude range", integer=True, lo=2, hi=1000)

    def op_table(self) -> dict[str, Any]:
        return policies.WIDE

    def most_ops(self) -> int:
        return 1

    def sample(self, rng, info):
        names = list(policies.WIDE)
        op = names[int(rng.integers(len(names)))]
        value = 0.0
        if policies.WIDE[op] is not None:
            level = int(rng.integers(self.num_magnitude_bins))
            value = policies.magnitude(policies.WIDE, op, level, self.num_magnitude_bins, info.width, info.height)
        return self._recorded([[op, policies.draw_sign(rng, op, value)]])


@register("image")
class RandAugment(_MovingPolicy):
    """RandAugment: `num_ops` ops of 14 drawn uniformly, each at bin `magnitude` (+- a spread)."""

    num_ops = Number(2, "ops applied one after another", integer=True, lo=1, hi=20)
    magnitude = Number(9, "magnitude bin, 0 .. num_magnitude_bins - 1", integer=True, lo=0, hi=999)
    num_magnitude_bins = Number(31, "bins of each op's magnitude range", integer=True, lo=2, hi=1000)
    mstd = Number(0.0, "spread of the magnitude, in bins (timm's mstd): a normal draw, clipped", lo=0, hi=100)

    def check(self):
        if self.magnitude >= self.num_magnitude_bins:
            return [
                ("magnitude", f"magnitude is a bin: at most num_magnitude_bins - 1 ({self.num_magnitude_bins - 1})")
            ]
        return []

    def most_ops(self) -> int:
        return self.num_ops

    def sample(self, rng, info):
        names, top = list(policies.STANDARD), self.num_magnitude_bins - 1
        ops = []
        for _ in range(self.num_ops):
            op = names[int(rng.integers(len(names)))]
            level = float(self.magnitude)
            if self.mstd > 0:
                level = min(max(float(rng.normal(level, self.mstd)), 0.0), float(top))
            value = policies.magnitude(policies.STANDARD, op, level, self.num_magnitude_bins, info.width, info.height)
            ops.append([op, policies.draw_sign(rng, op, value)])
        return self._recorded(ops)


@register("image")
class AutoAugment(_MovingPolicy):
    """AutoAugment: one of the 25 published sub-policies (two ops, each with its chance and bin)."""

    policy = Choice("imagenet", list(policies.AUTO_POLICIES), "the published policy")

    def op_table(self) -> dict[str, Any]:
        return policies.AUTO

    def sample(self, rng, info):
        pairs = policies.AUTO_POLICIES[self.policy]
        index = int(rng.integers(len(pairs)))
        chances, signs = rng.random(2), rng.integers(2, size=2)
        ops = []
        for (op, chance, level), draw, sign in zip(pairs[index], chances, signs, strict=True):
            if draw <= chance:
                value = (
                    0.0 if level is None else policies.magnitude(policies.AUTO, op, level, 10, info.width, info.height)
                )
                ops.append([op, -value if op in policies.SIGNED and sign == 0 else value])
        return {"sub_policy": index, **self._recorded(ops)}


@register("image")
class Augmix(_Policy):
    """AugMix: `width` chains of 1-3 ops mixed with Dirichlet weights, blended with the original."""

    name = "augmix"
    severity = Number(3, "magnitude bins drawn from, 1-10", integer=True, lo=1, hi=10)
    width = Number(3, "chains mixed together", integer=True, lo=1, hi=20)
    depth = Number(-1, "ops per chain; -1 draws 1-3", integer=True, lo=-1, hi=20)
    alpha = Number(1.0, "Dirichlet and Beta concentration", lo=0.0, lo_open=True, hi=100)
    all_ops = Flag(True, "also brightness, color, contrast and sharpness (torchvision's all_ops)")
    geometric = Flag(
        True, "also shear, translate and rotate; false (photometric ops only) is required with annotations or masks"
    )

    def check(self):
        return [("depth", "depth is -1 (draw 1-3) or at least 1")] if self.depth == 0 else []

    def sample(self, rng, info):
        table = policies.augmix_table(self.all_ops, self.geometric)
        names = list(table)
        mix = rng.dirichlet([self.alpha, self.alpha])
        weights = rng.dirichlet([self.alpha] * self.width) * mix[1]
        chains, flat = [], []
        for _ in range(self.width):
            chain = []
            for _ in range(self.depth if self.depth > 0 else int(rng.integers(1, 4))):
                op = names[int(rng.integers(len(names)))]
                value = 0.0
                if table[op] is not None:
                    level = int(rng.integers(self.severity))
                    value = policies.magnitude(table, op, level, 10, info.width, info.height)
                chain.append([op, policies.draw_sign(rng, op, value)])
            chains.append(chain)
            flat += chain
        recorded = self._recorded(flat)
        return {
            "mix": float(mix[0]),
            "weights": [float(w) for w in weights],
            "chains": chains,
            "drawn": recorded["drawn"],
        }

    # Chains that moved differently are blended into one picture: no single matrix moves its
    # boxes, so augmix has no `geometry`. A section with annotations or masks refuses augmix
    # unless `geometric: false` (policies.augmix_target_problems), so its targets never go stale.

    def ops_problem(self, params: dict[str, Any]) -> str | None:
        """No more chains than `width` nor ops per chain than `depth` (or 3), one weight per chain."""
        chains, weights = params.get("chains"), params.get("weights")
        table = policies.augmix_table(self.all_ops, self.geometric)
        why = list_problem("chains", chains, self.width)
        if why is not None:
            return why
        why = first_problem(_ops_problem(chain, self.depth if self.depth > 0 else 3, table) for chain in chains)
        if why is None and (not isinstance(weights, list) or len(weights) != len(chains)):
            return "weights must hold one number per chain"
        return why or first_problem(range_problem("weight", v, (0.0, 1.0)) for v in (*weights, params.get("mix")))

    def op(self, info, chains=(), weights=(), mix=1.0, **params):
        frozen = [[tuple(o) for o in chain] for chain in chains]
        return Kernel(policies.augmix, {"chains": frozen, "weights": list(weights), "mix": mix})
