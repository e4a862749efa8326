"""Pictures for the preview and the report: annotations drawn over images (boxes, polygons,
keypoints, a translucent class-coloured mask layer), data URIs, and the PNG contact sheet."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

PALETTE = [
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
]
MASK_ALPHA = 0.45


def colour(label: Any) -> tuple[int, int, int]:
    """A class's colour: integer ids index the palette, names hash into it (the same in every run)."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return PALETTE[int(label) % len(PALETTE)]
    return PALETTE[sum(str(label).encode()) % len(PALETTE)]


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """Any decoded image as 8-bit RGB, for display."""
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        return np.stack([pixels] * 3, axis=-1)
    if pixels.shape[2] in (2, 4):  # alpha over a grey checker-free white
        alpha = pixels[:, :, -1:].astype(np.float32) / 255.0
        base = pixels[:, :, :-1] if pixels.shape[2] == 4 else np.repeat(pixels[:, :, :1], 3, axis=2)
        return (base * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return pixels


def overlay(
    pixels: np.ndarray, boxes: Sequence[Any] = (), mask: np.ndarray | None = None, ignore: Any = None
) -> np.ndarray:
    """The image with its mask as a translucent layer (class 0 and `ignore` left clear), each box's
    outline, polygons and keypoints in its class's colour."""
    rgb = as_rgb(pixels).copy()
    if mask is not None:
        layer = np.zeros_like(rgb)
        shown = np.zeros(mask.shape, bool)
        for value in np.unique(mask):
            if value == 0 or (ignore is not None and value == ignore):
                continue
            where = mask == value
            layer[where] = colour(int(value))
            shown |= where
        mixed = rgb[shown].astype(np.float32) * (1 - MASK_ALPHA) + layer[shown].astype(np.float32) * MASK_ALPHA
        rgb[shown] = mixed.astype(np.uint8)
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    for box in boxes:
        tint = colour(box.label)
        for polygon in box.polygons:
            points = list(zip(polygon[0::2], polygon[1::2], strict=True))
            if len(points) >= 3:
                draw.polygon(points, outline=tint)
        draw.rectangle([box.x0, box.y0, max(box.x1 - 1, box.x0), max(box.y1 - 1, box.y0)], outline=tint, width=2)
        for x, y, visible in box.keypoints:
            if visible:
                draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=tint, outline=(0, 0, 0))
    return np.asarray(image)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(as_rgb(pixels)).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def thumbnail(pixels: np.ndarray, longest: int = 320) -> np.ndarray:
    """At most `longest` pixels on the long side (a page of full-size copies would be too heavy)."""
    height, width = pixels.shape[:2]
    scale = longest / max(height, width)
    if scale >= 1:
        return pixels
    image = Image.fromarray(pixels).resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)
    return np.asarray(image)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def contact_sheet(rows: Sequence[tuple[str, Sequence[tuple[np.ndarray, str]]]], cell: int = 200) -> bytes:
    """A PNG grid: one row per input (its name, then original and copies with their labels)."""
    columns = max((len(cells) for _, cells in rows), default=1)
    label_height, title_height, pad = 14, 16, 6
    width = pad + columns * (cell + pad)
    height = pad + len(rows) * (title_height + cell + label_height + pad)
    sheet = Image.new("RGB", (max(width, 200), max(height, 40)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    y = pad
    for title, cells in rows:
        draw.text((pad, y), title, fill=(0, 0, 0))
        y += title_height
        for index, (pixels, label) in enumerate(cells):
            small = Image.fromarray(thumbnail(as_rgb(pixels), cell))
            x = pad + index * (cell + pad)
            sheet.paste(small, (x, y))
            draw.text((x, y + cell + 1), label, fill=(60, 60, 60))
        y += cell + label_height + pad
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
