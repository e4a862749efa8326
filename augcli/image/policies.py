"""Automatic augmentation policies: TrivialAugmentWide, RandAugment, AutoAugment and AugMix.

The ops and their magnitude tables follow torchvision's `transforms.autoaugment` on PIL images:
each op is the Pillow call torchvision makes (nearest resampling, fill 0 for the geometric ones),
so 8-bit grey and RGB pixels are the same bytes. Other images (16-bit, grey + alpha) go through
the same maps per channel (geometry) or numpy equivalents on the full scale (colour); alpha moves
with the geometric ops and is left alone by the photometric ones.

A drawn op is recorded as `[name, magnitude]`; `matrix` gives a geometric op's 3x3 matrix in
augcli's pixel-centre coordinates, so boxes, polygons, masks and keypoints follow it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageEnhance, ImageOps, ImageStat

from augcli.image import functional as F
from augcli.image import geometry
from augcli.image.lookup import lookup, lookup_per_channel

GEOMETRIC = ("shear_x", "shear_y", "translate_x", "translate_y", "rotate")
SIGNED = {"shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color", "contrast", "sharpness"}
NO_MAGNITUDE = {"identity", "autocontrast", "equalize", "invert"}

# op -> (value at bin 0, value at the last bin) for linear tables; width/height-relative translates
# are given as a fraction of the side; posterize is (top bits, bits removed over the range).
WIDE = {  # TrivialAugmentWide
    "identity": None,
    "shear_x": (0.0, 0.99),
    "shear_y": (0.0, 0.99),
    "translate_x": (0.0, 32.0),
    "translate_y": (0.0, 32.0),
    "rotate": (0.0, 135.0),
    "brightness": (0.0, 0.99),
    "color": (0.0, 0.99),
    "contrast": (0.0, 0.99),
    "sharpness": (0.0, 0.99),
    "posterize": ("bits", 8, 6),
    "solarize": (255.0, 0.0),
    "autocontrast": None,
    "equalize": None,
}
STANDARD = {  # RandAugment (with identity) and AutoAugment (without, plus invert)
    "identity": None,
    "shear_x": (0.0, 0.3),
    "shear_y": (0.0, 0.3),
    "translate_x": ("width", 150.0 / 331.0),
    "translate_y": ("height", 150.0 / 331.0),
    "rotate": (0.0, 30.0),
    "brightness": (0.0, 0.9),
    "color": (0.0, 0.9),
    "contrast": (0.0, 0.9),
    "sharpness": (0.0, 0.9),
    "posterize": ("bits", 8, 4),
    "solarize": (255.0, 0.0),
    "autocontrast": None,
    "equalize": None,
}
AUTO = {**{k: v for k, v in STANDARD.items() if k != "identity"}, "invert": None}
AUGMIX = {
    "shear_x": (0.0, 0.3),
    "shear_y": (0.0, 0.3),
    "translate_x": ("width", 1.0 / 3.0),
    "translate_y": ("height", 1.0 / 3.0),
    "rotate": (0.0, 30.0),
    "posterize": ("bits", 4, 4),
    "solarize": (255.0, 0.0),
    "autocontrast": None,
    "equalize": None,
}
AUGMIX_ALL = {**AUGMIX, "brightness": (0.0, 0.9), "color": (0.0, 0.9), "contrast": (0.0, 0.9), "sharpness": (0.0, 0.9)}


def augmix_table(all_ops: bool, geometric: bool) -> dict:
    """augmix's ops: torchvision's (all_ops adds the four enhancers); without the geometric ones
    when `geometric` is false."""
    table = AUGMIX_ALL if all_ops else AUGMIX
    return table if geometric else {op: spec for op, spec in table.items() if op not in GEOMETRIC}


def augmix_target_problems(options: dict, transforms: Sequence) -> list[tuple[str, str]]:
    """An image section with boxes, keypoints or masks refuses an augmix step that may draw geometric
    ops: it blends chains that moved differently, so no matrix could move the targets with it."""
    targets = []
    if options["annotations"]["format"] != "none":
        targets.append("annotations")
    if options["masks"]["path"] is not None:
        targets.append("masks")
    if not targets or not any(_moving_augmix(t) for t in transforms):
        return []
    message = (
        "augmix blends chains that moved differently, so boxes, keypoints and masks cannot follow its "
        "shear/translate/rotate: give it `geometric: false` (photometric ops only) in a section with "
        f"{' or '.join(targets)}, or use trivial_augment / rand_augment / auto_augment, whose geometric ops move them"
    )
    return [(targets[0], message)]


def _moving_augmix(transform) -> bool:
    if transform.name == "augmix" and transform.geometric:
        return True
    return any(_moving_augmix(child) for child in getattr(transform, "children", []))


# AutoAugment's published sub-policies: ((op, probability, magnitude bin of 10), (op, p, bin)).
_A, _C, _E, _I, _P, _R = "autocontrast", "color", "equalize", "invert", "posterize", "rotate"
_S, _SX, _SY, _SH, _TX, _TY = "solarize", "shear_x", "shear_y", "sharpness", "translate_x", "translate_y"
_B, _CO = "brightness", "contrast"
AUTO_POLICIES = {
    "imagenet": [
        ((_P, 0.4, 8), (_R, 0.6, 9)), ((_S, 0.6, 5), (_A, 0.6, None)), ((_E, 0.8, None), (_E, 0.6, None)),
        ((_P, 0.6, 7), (_P, 0.6, 6)), ((_E, 0.4, None), (_S, 0.2, 4)), ((_E, 0.4, None), (_R, 0.8, 8)),
        ((_S, 0.6, 3), (_E, 0.6, None)), ((_P, 0.8, 5), (_E, 1.0, None)), ((_R, 0.2, 3), (_S, 0.6, 8)),
        ((_E, 0.6, None), (_P, 0.4, 6)), ((_R, 0.8, 8), (_C, 0.4, 0)), ((_R, 0.4, 9), (_E, 0.6, None)),
        ((_E, 0.0, None), (_E, 0.8, None)), ((_I, 0.6, None), (_E, 1.0, None)), ((_C, 0.6, 4), (_CO, 1.0, 8)),
        ((_R, 0.8, 8), (_C, 1.0, 2)), ((_C, 0.8, 8), (_S, 0.8, 7)), ((_SH, 0.4, 7), (_I, 0.6, None)),
        ((_SX, 0.6, 5), (_E, 1.0, None)), ((_C, 0.4, 0), (_E, 0.6, None)), ((_E, 0.4, None), (_S, 0.2, 4)),
        ((_S, 0.6, 5), (_A, 0.6, None)), ((_I, 0.6, None), (_E, 1.0, None)), ((_C, 0.6, 4), (_CO, 1.0, 8)),
        ((_E, 0.8, None), (_E, 0.6, None)),
    ],
    "cifar10": [
        ((_I, 0.1, None), (_CO, 0.2, 6)), ((_R, 0.7, 2), (_TX, 0.3, 9)), ((_SH, 0.8, 1), (_SH, 0.9, 3)),
        ((_SY, 0.5, 8), (_TY, 0.7, 9)), ((_A, 0.5, None), (_E, 0.9, None)), ((_SY, 0.2, 7), (_P, 0.3, 7)),
        ((_C, 0.4, 3), (_B, 0.6, 7)), ((_SH, 0.3, 9), (_B, 0.7, 9)), ((_E, 0.6, None), (_E, 0.5, None)),
        ((_CO, 0.6, 7), (_SH, 0.6, 5)), ((_C, 0.7, 7), (_TX, 0.5, 8)), ((_E, 0.3, None), (_A, 0.4, None)),
        ((_TY, 0.4, 3), (_SH, 0.2, 6)), ((_B, 0.9, 6), (_C, 0.2, 8)), ((_S, 0.5, 2), (_I, 0.0, None)),
        ((_E, 0.2, None), (_A, 0.6, None)), ((_E, 0.2, None), (_E, 0.6, None)), ((_C, 0.9, 9), (_E, 0.6, None)),
        ((_A, 0.8, None), (_S, 0.2, 8)), ((_B, 0.1, 3), (_C, 0.7, 0)), ((_S, 0.4, 5), (_A, 0.9, None)),
        ((_TY, 0.9, 9), (_TY, 0.7, 9)), ((_A, 0.9, None), (_S, 0.8, 3)), ((_E, 0.8, None), (_I, 0.1, None)),
        ((_TY, 0.7, 9), (_A, 0.9, None)),
    ],
    "svhn": [
        ((_SX, 0.9, 4), (_I, 0.2, None)), ((_SY, 0.9, 8), (_I, 0.7, None)), ((_E, 0.6, None), (_S, 0.6, 6)),
        ((_I, 0.9, None), (_E, 0.6, None)), ((_E, 0.6, None), (_R, 0.9, 3)), ((_SX, 0.9, 4), (_A, 0.8, None)),
        ((_SY, 0.9, 8), (_I, 0.4, None)), ((_SY, 0.9, 5), (_S, 0.2, 6)), ((_I, 0.9, None), (_A, 0.8, None)),
        ((_E, 0.6, None), (_R, 0.9, 3)), ((_SX, 0.9, 4), (_S, 0.3, 3)), ((_SY, 0.8, 8), (_I, 0.7, None)),
        ((_E, 0.9, None), (_TY, 0.6, 6)), ((_I, 0.9, None), (_E, 0.6, None)), ((_CO, 0.3, 3), (_R, 0.8, 4)),
        ((_I, 0.8, None), (_TY, 0.0, 2)), ((_SY, 0.7, 6), (_S, 0.4, 8)), ((_I, 0.6, None), (_R, 0.8, 4)),
        ((_SY, 0.3, 7), (_TX, 0.9, 3)), ((_SX, 0.1, 6), (_I, 0.6, None)), ((_S, 0.7, 2), (_TY, 0.6, 7)),
        ((_SY, 0.8, 4), (_I, 0.8, None)), ((_SX, 0.7, 9), (_TY, 0.8, 3)), ((_SY, 0.8, 5), (_A, 0.7, None)),
        ((_SX, 0.7, 2), (_I, 0.1, None)),
    ],
}  # fmt: skip


def magnitude(
    table: dict, op: str, level: float, num_bins: int, width: int = 0, height: int = 0
) -> float:  # fmt: skip
    """The value of `op` at `level` (a bin, 0 .. num_bins - 1; fractional levels interpolate) of `table`,
    as torchvision's `_augmentation_space` (float32 linspace) gives it."""
    spec = table[op]
    if spec is None:
        return 0.0
    fraction = level / (num_bins - 1) if num_bins > 1 else 0.0
    if spec[0] == "bits":
        return float(int(spec[1] - np.round(level / ((num_bins - 1) / spec[2]))))
    if spec[0] in ("width", "height"):
        top = spec[1] * (width if spec[0] == "width" else height)
        return float(np.float32(top * fraction))
    lo, hi = spec
    return float(np.float32(lo + (hi - lo) * fraction))


def table_values(table: dict, op: str, num_bins: int, width: int = 0, height: int = 0) -> list[float]:
    """Every bin of an op's magnitude table (one 0.0 for ops without a magnitude)."""
    if table[op] is None:
        return [0.0]
    return [magnitude(table, op, k, num_bins, width, height) for k in range(num_bins)]


def draw_sign(rng: np.random.Generator, op: str, value: float) -> float:
    """torchvision's rule: a signed op's magnitude is negated when a fair coin says so."""
    if op in SIGNED and int(rng.integers(2)):
        return -value
    return value


# --- geometry ---------------------------------------------------------------------------------


def _pil_affine(op: str, value: float) -> tuple[float, ...] | None:
    """The inverse affine data torchvision's F.affine hands Pillow (PIL coordinates: pixel edges
    at integers, shear about the top-left corner), or None for rotate."""
    if op == "shear_x":
        return (1.0, math.tan(math.atan(value)), 0.0, 0.0, 1.0, 0.0)
    if op == "shear_y":
        return (1.0, 0.0, 0.0, math.tan(math.atan(value)), 1.0, 0.0)
    if op == "translate_x":
        return (1.0, 0.0, -float(int(value)), 0.0, 1.0, 0.0)
    if op == "translate_y":
        return (1.0, 0.0, 0.0, 0.0, 1.0, -float(int(value)))
    return None


def matrix(op: str, value: float, width: int, height: int) -> np.ndarray:
    """A geometric op's source->output matrix in augcli's coordinates (pixel centres on integers)."""
    if op == "rotate":
        return geometry.rotation(value, width, height)
    inverse = np.vstack([np.reshape(_pil_affine(op, value), (2, 3)), [0.0, 0.0, 1.0]])
    pil = np.linalg.inv(inverse)  # output = pil @ source, in PIL coordinates
    return geometry.translation(-0.5, -0.5) @ pil @ geometry.translation(0.5, 0.5)


def warp_image(image: Image.Image, op: str, value: float) -> Image.Image:
    if op == "rotate":
        return image.rotate(value, Image.Resampling.NEAREST, fillcolor=0)
    return image.transform(
        image.size, Image.Transform.AFFINE, _pil_affine(op, value), Image.Resampling.NEAREST, fillcolor=0
    )


_NATIVE = {1: "L", 3: "RGB", 4: "RGBA"}


def _shift(pixels: np.ndarray, op: str, value: float) -> np.ndarray:
    """A whole-pixel translate as a slice copy: the bytes Pillow's nearest affine gives (an output
    pixel's centre maps to the input pixel `int(value)` away), without resampling every pixel."""
    out = np.zeros_like(pixels)
    axis = 1 if op == "translate_x" else 0
    step = int(value)
    side = pixels.shape[axis]
    if abs(step) >= side:
        return out
    target = [slice(None)] * pixels.ndim
    source = [slice(None)] * pixels.ndim
    target[axis] = slice(max(step, 0), side + min(step, 0))
    source[axis] = slice(max(-step, 0), side - max(step, 0))
    out[tuple(target)] = pixels[tuple(source)]
    return out


def warp(pixels: np.ndarray, op: str, value: float) -> np.ndarray:
    """A geometric op through Pillow, nearest, fill 0 (alpha too: the border is transparent);
    translates are the same whole-pixel shift done as a slice copy."""
    if op in ("translate_x", "translate_y"):
        return _shift(pixels, op, value)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if pixels.dtype == np.uint8 and channels in _NATIVE:
        out = np.asarray(warp_image(Image.fromarray(pixels), op, value))
        return out.reshape(pixels.shape)
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    moved = [
        np.asarray(warp_image(Image.fromarray(planes[:, :, c].astype(np.float32), "F"), op, value))
        for c in range(channels)
    ]
    return np.dstack(moved).reshape(pixels.shape).astype(pixels.dtype)


# --- colour -----------------------------------------------------------------------------------

_ENHANCERS = {
    "brightness": ImageEnhance.Brightness,
    "color": ImageEnhance.Color,
    "contrast": ImageEnhance.Contrast,
    "sharpness": ImageEnhance.Sharpness,
}


def pil_colour(image: Image.Image, op: str, value: float) -> Image.Image:
    """A photometric op on an 8-bit L or RGB PIL image: the call torchvision makes."""
    if op in _ENHANCERS:
        image = _ENHANCERS[op](image).enhance(1.0 + value)
    elif op == "posterize":
        image = ImageOps.posterize(image, int(value))
    elif op == "solarize":
        image = ImageOps.solarize(image, value)
    elif op == "autocontrast":
        image = ImageOps.autocontrast(image)
    elif op == "equalize":
        image = ImageOps.equalize(image)
    elif op == "invert":
        image = ImageOps.invert(image)
    return image


# Ops whose output byte depends on its input byte alone (brightness blends with black; contrast
# with one grey level, the image's mean): one 256-entry table made by Pillow itself on a ramp,
# applied by a byte lookup, gives Pillow's bytes without Pillow's per-copy image conversions.
_POINTWISE = {"brightness", "posterize", "solarize", "invert"}
_RAMP = np.arange(256, dtype=np.uint8).reshape(1, 256)


@lru_cache(maxsize=4096)
def _table(op: str, value: float, mean: int = 0) -> np.ndarray:
    ramp = Image.fromarray(_RAMP)
    if op == "contrast":
        out = Image.blend(Image.new("L", ramp.size, mean), ramp, 1.0 + value)
    else:
        out = pil_colour(ramp, op, value)
    return np.asarray(out, dtype=np.uint8).reshape(256).copy()


def _contrast_mean(colour: np.ndarray) -> int:
    """ImageEnhance.Contrast's grey level: the mean of the image's L conversion, rounded."""
    grey = Image.fromarray(colour).convert("L") if colour.ndim == 3 else Image.fromarray(colour)
    return int(ImageStat.Stat(grey).mean[0] + 0.5)


class _Histogram:
    """What ImageOps.autocontrast and ImageOps.equalize read of an image (its mode and histogram),
    with `point` handing back the table they built: Pillow's own table code, run on a histogram
    counted by cv2, so the table is applied by a byte lookup without converting the image to Pillow's."""

    def __init__(self, colour: np.ndarray) -> None:
        self.mode = "L" if colour.ndim == 2 else "RGB"
        self.counts = [plane.tolist() for plane in F.channel_histograms(colour)]

    def getbands(self) -> tuple[str, ...]:
        return tuple(self.mode)

    def histogram(self, mask: object = None) -> list[int]:
        return [count for plane in self.counts for count in plane]

    def point(self, table: list[int]) -> np.ndarray:
        return np.clip(np.array(table), 0, 255).astype(np.uint8).reshape(len(self.counts), 256)  # Pillow clips too


def _histogram_op(colour: np.ndarray, op: str) -> np.ndarray:
    tables = (ImageOps.autocontrast if op == "autocontrast" else ImageOps.equalize)(_Histogram(colour))
    return lookup_per_channel(colour, tables)


def _pillow_colour(colour: np.ndarray, op: str, value: float) -> np.ndarray:
    if op in ("autocontrast", "equalize"):
        return _histogram_op(colour, op)
    if op in _POINTWISE or op == "contrast":
        mean = _contrast_mean(colour) if op == "contrast" else 0
        return lookup(colour, _table(op, float(value), mean))
    return np.asarray(pil_colour(Image.fromarray(colour), op, value)).reshape(colour.shape)


def _grey(values: np.ndarray) -> np.ndarray:
    if values.ndim == 2 or values.shape[2] == 1:
        return values.reshape(values.shape[:2])
    return values[..., 0] * 0.299 + values[..., 1] * 0.587 + values[..., 2] * 0.114


def _numpy_colour(colour: np.ndarray, op: str, value: float) -> np.ndarray:
    """The same ops on the full scale of a 16-bit image (Pillow's formulas, float, rounded)."""
    top = F.full_scale(colour.dtype)
    if op in ("posterize", "equalize"):
        return F.posterize(colour, int(value)) if op == "posterize" else F.equalize(colour)
    if op == "sharpness":
        return F.sharpness(colour, 1.0 + value)
    if op == "solarize":
        return F.solarize(colour, value / 255.0)
    v = colour.astype(np.float64)
    if op == "brightness":
        out = v * (1.0 + value)
    elif op == "color":
        grey = _grey(v)
        out = v if v.ndim == 2 else grey[..., None] + (1.0 + value) * (v - grey[..., None])
    elif op == "contrast":
        mean = float(np.mean(_grey(v)))
        out = mean + (1.0 + value) * (v - mean)
    elif op == "autocontrast":
        planes = v[..., None] if v.ndim == 2 else v
        lo, hi = planes.min(axis=(0, 1)), planes.max(axis=(0, 1))
        span = np.where(hi > lo, hi - lo, 1.0)
        out = np.where(hi > lo, (planes - lo) * top / span, planes).reshape(v.shape)
    elif op == "invert":
        out = top - v
    else:
        return colour
    return np.clip(np.rint(out), 0, top).astype(colour.dtype)


def recolour(pixels: np.ndarray, op: str, value: float) -> np.ndarray:
    """A photometric op on the colour channels (alpha is kept)."""
    if op == "identity":
        return pixels
    colour, alpha = F.split_alpha(pixels)
    if colour.dtype == np.uint8 and (colour.ndim == 2 or colour.shape[2] in (1, 3)):
        plane = colour.reshape(colour.shape[:2]) if colour.ndim == 3 and colour.shape[2] == 1 else colour
        out = _pillow_colour(plane, op, value).reshape(colour.shape)
    else:
        out = _numpy_colour(colour, op, value)
    return F.join_alpha(out, alpha)


def apply_op(pixels: np.ndarray, op: str, value: float) -> np.ndarray:
    return warp(pixels, op, value) if op in GEOMETRIC else recolour(pixels, op, value)


def apply_ops(pixels: np.ndarray, ops: Sequence[Sequence]) -> np.ndarray:
    """Run recorded `[name, magnitude]` ops one after another (each resamples on its own)."""
    for op, value in ops:
        pixels = apply_op(pixels, op, float(value))
    return pixels


def chain_matrix(ops: Sequence[Sequence], width: int, height: int) -> np.ndarray:
    """The product of the geometric ops' matrices: where boxes and keypoints go."""
    out = np.eye(3)
    for op, value in ops:
        if op in GEOMETRIC:
            out = matrix(op, float(value), width, height) @ out
    return out


def augmix(
    pixels: np.ndarray, chains: Sequence[Sequence[Sequence]], weights: Sequence[float], mix: float
) -> np.ndarray:  # fmt: skip
    """AugMix: mix * original + sum(weights[i] * chain_i(original)), truncated as torchvision does."""
    total = pixels.astype(np.float32) * np.float32(mix)
    for chain, weight in zip(chains, weights, strict=True):
        total += np.float32(weight) * apply_ops(pixels, chain).astype(np.float32)
    top = F.full_scale(pixels.dtype)
    return np.clip(total, 0, top).astype(pixels.dtype)


def op_table(table: dict, num_bins: int, signed_note: bool = True) -> list[tuple[str, str]]:
    """(op, range) rows for the documentation."""
    rows = []
    for op, spec in table.items():
        if spec is None:
            rows.append((op, "-"))
        elif spec[0] == "bits":
            rows.append((op, f"{spec[1]} .. {spec[1] - spec[2]} bits"))
        elif spec[0] in ("width", "height"):
            rows.append((op, f"+-0 .. {spec[1]:.3f} x {spec[0]} px"))
        else:
            sign = "+-" if op in SIGNED and signed_note else ""
            rows.append((op, f"{sign}{spec[0]:g} .. {spec[1]:g}"))
    return rows
