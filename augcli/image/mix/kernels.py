"""Pure pixel kernels for mixing pictures: arrays and explicit parameters in, arrays out."""

from __future__ import annotations

import cv2
import numpy as np

from augcli.image import functional as F
from augcli.image import geometry


def conform(pixels: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`pixels` in the bit depth and channel layout of `like` (grey, RGB, with or without alpha), so
    a partner read from a grey PNG can join an RGB JPEG's copy."""
    if pixels.dtype != like.dtype:
        ratio = F.full_scale(like.dtype) / F.full_scale(pixels.dtype)
        pixels = np.clip(np.rint(pixels.astype(np.float64) * ratio), 0, F.full_scale(like.dtype)).astype(like.dtype)
    colour, alpha = F.split_alpha(pixels)
    wanted_colour = F.colour_count(like)
    wants_alpha = like.ndim == 3 and like.shape[2] in (2, 4)
    if wanted_colour == 3 and colour.ndim == 2:
        colour = np.dstack([colour] * 3)
    elif wanted_colour == 1 and colour.ndim == 3:
        colour = cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_RGB2GRAY)
    if wants_alpha and alpha is None:
        alpha = np.full(colour.shape[:2], F.full_scale(like.dtype), dtype=like.dtype)
    return F.join_alpha(colour, alpha if wants_alpha else None)


def scale_matrix(scale_x: float, scale_y: float) -> np.ndarray:
    """A pixel-centre matrix that scales pixel edges by (scale_x, scale_y) about the origin."""
    return np.array([[scale_x, 0.0, 0.5 * scale_x - 0.5], [0.0, scale_y, 0.5 * scale_y - 0.5], [0.0, 0.0, 1.0]])


def cover_matrix(size: tuple[int, int], cell: tuple[int, int], offset: tuple[float, float]) -> np.ndarray:
    """Scale a (width, height) picture so it covers a (width, height) cell, keeping its aspect, and
    shift it so the window at `offset` (fractions 0..1 of the overhang) lands in the cell."""
    (width, height), (cell_w, cell_h) = size, cell
    scale = max(cell_w / width, cell_h / height)
    spare_x, spare_y = width * scale - cell_w, height * scale - cell_h
    return geometry.translation(-offset[0] * spare_x, -offset[1] * spare_y) @ scale_matrix(scale, scale)


def stretch_matrix(size: tuple[int, int], cell: tuple[int, int]) -> np.ndarray:
    """Scale a (width, height) picture to fill a cell exactly (its aspect is not kept)."""
    return scale_matrix(cell[0] / size[0], cell[1] / size[1])


def place(pixels: np.ndarray, matrix: np.ndarray, cell: tuple[int, int], interpolation: str = "bilinear") -> np.ndarray:
    """The picture resampled through `matrix` into a (width, height) cell."""
    return F.warp(pixels, matrix, cell, interpolation, "replicate", (0.0,))


def blend(ours: np.ndarray, theirs: np.ndarray, weight: float) -> np.ndarray:
    """weight * ours + (1 - weight) * theirs, rounded to the pictures' integer type (mixup)."""
    mixed = cv2.addWeighted(ours.astype(np.float32), weight, theirs.astype(np.float32), 1.0 - weight, 0.0)
    return np.clip(np.rint(mixed), 0, F.full_scale(ours.dtype)).astype(ours.dtype)


def paste(canvas: np.ndarray, patch: np.ndarray, where: np.ndarray) -> np.ndarray:
    """`canvas` with `patch` (same shape) copied in where the boolean `where` is set."""
    out = canvas.copy()
    out[where] = patch[where]
    return out


def cell_edges(length: int, cuts: list[float]) -> list[int]:
    """The pixel edges of a grid's rows or columns: 0, each cut (a fraction) rounded, `length`."""
    edges = [0, *(round(cut * length) for cut in cuts), length]
    return [min(max(edge, 0), length) for edge in edges]


def polygon_raster(polygons: tuple[tuple[float, ...], ...], size: tuple[int, int], origin=(0.0, 0.0)) -> np.ndarray:
    """A boolean (height, width) raster of the pixels whose centres the polygons (pixel edges,
    shifted by -origin) cover."""
    # fillPoly also sets the pixels its outline crosses: drawn 5x finer and read at the pixel
    # centres (5i + 2), a pixel is in when its centre is, give or take a fifth of a pixel
    fine = 5
    raster = np.zeros((size[1] * fine, size[0] * fine), dtype=np.uint8)
    shapes = []
    for flat in polygons:
        points = (np.asarray(flat, dtype=np.float64).reshape(-1, 2) - np.asarray(origin)) * fine - 0.5
        if len(points) >= 3:
            shapes.append(np.rint(points * 16).astype(np.int32))
    if shapes:
        cv2.fillPoly(raster, shapes, 1, lineType=cv2.LINE_8, shift=4)
    return raster[fine // 2 :: fine, fine // 2 :: fine].astype(bool)
