"""Segmentation masks: class values as pixels, read and written in their own mode and palette."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from augcli.core.files import read_input
from augcli.image.labels.yolo import BadLabels

MODES = {"L", "P", "I;16", "1"}
SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".gif")


@dataclass(frozen=True)
class Mask:
    values: np.ndarray  # (height, width) class values, uint8 or uint16
    mode: str
    palette: list[int] | None


def find(folder: Path, stem: str) -> Path | None:
    """The mask file for an image stem: the first of stem.png, stem.bmp, ... that exists."""
    for suffix in SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def load(path: Path, size: tuple[int, int]) -> Mask:
    """A mask that must match its image's (width, height)."""
    try:
        with Image.open(io.BytesIO(read_input(path))) as image:
            image.load()
            mode, palette = image.mode, image.getpalette() if image.mode == "P" else None
            if mode not in MODES:
                raise BadLabels(f"mask {path.name}: mode {mode} is not a class-value mode (L, P, I;16 or 1)")
            values = np.asarray(image.convert("L") if mode == "1" else image)
    except (OSError, ValueError) as exc:
        raise BadLabels(f"mask {path.name}: cannot read it: {exc}") from None
    if (values.shape[1], values.shape[0]) != size:
        raise BadLabels(f"mask {path.name} is {values.shape[1]}x{values.shape[0]}, its image {size[0]}x{size[1]}")
    return Mask(values.astype(np.uint16 if mode == "I;16" else np.uint8), mode, palette)


def encode(values: np.ndarray, like: Mask) -> bytes:
    """PNG (lossless) in the input mask's mode, with its palette."""
    if like.mode == "1":
        image = Image.fromarray(values.astype(np.uint8)).convert("1")
    elif like.mode == "I;16":
        image = Image.fromarray(values.astype(np.uint16))
    else:
        image = Image.fromarray(values.astype(np.uint8), mode="L")
        if like.mode == "P":
            image = image.convert("P") if like.palette is None else _with_palette(image, like.palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _with_palette(image: Image.Image, palette: list[int]) -> Image.Image:
    indexed = Image.frombytes("P", image.size, image.tobytes())
    indexed.putpalette(palette)
    return indexed
