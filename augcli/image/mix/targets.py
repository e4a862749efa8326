"""Boxes, polygons, keypoints and masks through a mix: placed with their pixels, and cut down
where pasted pixels now cover them (a box shrinks to what is still visible, or goes)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from augcli.image import geometry
from augcli.image.labels import obb, shapes
from augcli.image.labels.shapes import Box
from augcli.image.mix.kernels import place, polygon_raster


def placed(
    boxes: list[Box],
    matrix: np.ndarray,
    cell: tuple[int, int, int, int],
    canvas: tuple[int, int],
    from_polygons: bool,
    flip_idx: tuple[int, ...] = (),
) -> list[Box]:
    """Boxes through a placement `matrix` into the cell (left, top, right, bottom) of a canvas:
    clipped to the cell (what falls outside it is another picture's), then set on the canvas."""
    left, top, right, bottom = cell
    size = (right - left, bottom - top)
    if _scales_only(matrix):  # a tile's scale and shift: bare boxes by arithmetic, the rest as shapes
        bare = [box for box in boxes if not (box.polygons or box.keypoints or box.visible or box.outline)]
        if len(bare) == len(boxes):
            return [b for b in (_scaled(box, matrix, cell) for box in boxes) if b is not None]
    moved = [shapes.move(box, matrix, size, from_polygons, flip_idx) for box in boxes]
    shift = geometry.translation(left, top)
    return [shapes.move(box, shift, canvas, from_polygons) for box in moved if box.area > 0]


def _scales_only(matrix: np.ndarray) -> bool:
    axis_aligned = matrix[0, 1] == matrix[1, 0] == 0 and (matrix[2] == (0, 0, 1)).all()
    return bool(axis_aligned and matrix[0, 0] > 0 and matrix[1, 1] > 0)


def _scaled(box: Box, matrix: np.ndarray, cell: tuple[int, int, int, int]) -> Box | None:
    """A bare box through a scale-and-shift matrix into a cell, clipped to it and set on the canvas:
    what shapes.move does twice (cell, then canvas), in a few multiplications."""
    left, top, right, bottom = cell
    a, c, e, f = matrix[0, 0], matrix[0, 2], matrix[1, 1], matrix[1, 2]
    x0, y0, x1, y1 = box.unclipped or (box.x0, box.y0, box.x1, box.y1)
    full = (a * (x0 - 0.5) + c + 0.5, e * (y0 - 0.5) + f + 0.5, a * (x1 - 0.5) + c + 0.5, e * (y1 - 0.5) + f + 0.5)
    mx0, my0 = a * (box.x0 - 0.5) + c + 0.5, e * (box.y0 - 0.5) + f + 0.5
    mx1, my1 = a * (box.x1 - 0.5) + c + 0.5, e * (box.y1 - 0.5) + f + 0.5
    cx0, cy0 = max(mx0, 0.0), max(my0, 0.0)
    cx1, cy1 = min(mx1, float(right - left)), min(my1, float(bottom - top))
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    unclipped = (full[0] + left, full[1] + top, full[2] + left, full[3] + top)
    return replace(box, x0=cx0 + left, y0=cy0 + top, x1=cx1 + left, y1=cy1 + top, unclipped=unclipped)


def kept(boxes: list[Box], min_visibility: float, min_size: float) -> list[Box]:
    return [box for box in boxes if shapes.keep(box, min_visibility, min_size)]


def placed_mask(values: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A mask through a placement matrix, nearest-neighbour (class values never mix)."""
    return place(values, matrix, size, "nearest")


def _object_raster(box: Box, left: int, top: int, width: int, height: int) -> np.ndarray:
    """The pixels of the window (left, top, width, height) whose centres the object covers."""
    if box.polygons or box.visible:
        return polygon_raster(box.polygons or box.visible, (width, height), (left, top))
    xs = np.arange(left, left + width) + 0.5
    ys = np.arange(top, top + height) + 0.5
    return ((ys >= box.y0) & (ys <= box.y1))[:, None] & ((xs >= box.x0) & (xs <= box.x1))[None, :]


def _visible_polygons(visible: np.ndarray, left: int, top: int) -> tuple[tuple[float, ...], ...]:
    """The outlines of the visible pixels, as polygons in pixel edges, largest first."""
    contours, _ = cv2.findContours(visible.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        points = contour.reshape(-1, 2).astype(np.float64) + (left + 0.5, top + 0.5)
        if len(points) >= 3 and shapes.polygon_area(points.reshape(-1)) > 0:
            found.append(tuple(float(v) for v in points.reshape(-1)))
    return tuple(sorted(found, key=shapes.polygon_area, reverse=True))


def _visible_rectangles(visible: np.ndarray, left: int, top: int, most: int = 64) -> tuple[tuple[float, ...], ...]:
    """The visible pixels as rectangles in pixel edges (runs of columns that repeat over rows
    merged), so a later step's box of them is exact; () when they would be more than `most`."""
    found: list[tuple[float, ...]] = []
    open_runs: dict[tuple[int, int], int] = {}
    for row in range(visible.shape[0] + 1):
        runs: set[tuple[int, int]] = set()
        if row < visible.shape[0]:
            steps = np.diff(np.concatenate([[0], visible[row].astype(np.int8), [0]]))
            runs = set(zip(np.nonzero(steps == 1)[0].tolist(), np.nonzero(steps == -1)[0].tolist(), strict=True))
        for (c0, c1), start in list(open_runs.items()):
            if (c0, c1) not in runs:
                x0, y0, x1, y1 = left + c0, top + start, left + c1, top + row
                found.append((x0, y0, x1, y0, x1, y1, x0, y1))
                del open_runs[(c0, c1)]
        for run in runs:
            open_runs.setdefault(run, row)
        if len(found) + len(open_runs) > most:
            return ()
    return tuple(tuple(float(v) for v in rect) for rect in found)


def occluded(box: Box, cover: np.ndarray, min_visibility: float) -> Box | None:
    """A box once `cover` (a boolean canvas of pasted pixels) lies on top of it: unchanged when
    nothing covers it, else shrunk to its visible pixels (its polygons traced from them), or None
    when less than `min_visibility` of it is still seen."""
    height, width = cover.shape
    left, top = max(int(np.floor(box.x0)), 0), max(int(np.floor(box.y0)), 0)
    right, bottom = min(int(np.ceil(box.x1)), width), min(int(np.ceil(box.y1)), height)
    if right <= left or bottom <= top:
        return box
    over = cover[top:bottom, left:right]
    if not over.any():
        return box
    body = _object_raster(box, left, top, right - left, bottom - top)
    visible = body & ~over
    before, after = int(body.sum()), int(visible.sum())
    if after == 0 or (before and after / before * shapes.visibility(box) < min_visibility):
        return None
    rows, cols = np.nonzero(visible)
    x0, y0 = float(left + cols.min()), float(top + rows.min())
    x1, y1 = float(left + cols.max() + 1), float(top + rows.max() + 1)
    whole = ((x0, y0, x1, y0, x1, y1, x0, y1),)
    if box.polygons and box.extra.get(obb.ORIENTED):  # an oriented box stays a rectangle of its own angle
        polygons, outline = obb.shrunk(box, visible, left, top), ()
    elif box.polygons:
        traced = _visible_polygons(visible, left, top)
        if sum(shapes.polygon_area(flat) for flat in traced) < 0.5 * after:  # slivers trace to almost nothing
            traced = _visible_rectangles(visible, left, top) or whole
        polygons, outline = traced, ()
    else:  # a bare box keeps its visible shape apart, exactly, to take its box from after later steps
        polygons, outline = (), _visible_rectangles(visible, left, top) or _visible_polygons(visible, left, top)
    points = tuple(_hidden(point, cover) for point in box.keypoints)
    return replace(box, x0=x0, y0=y0, x1=x1, y1=y1, polygons=polygons, keypoints=points, visible=outline)


def _hidden(point: tuple[float, float, int], cover: np.ndarray) -> tuple[float, float, int]:
    """A keypoint under pasted pixels is labelled but not visible (COCO's 1)."""
    x, y, visible = point
    row, col = int(y), int(x)
    if visible == 2 and 0 <= row < cover.shape[0] and 0 <= col < cover.shape[1] and cover[row, col]:
        return (x, y, 1)
    return point


def occlude(boxes: list[Box], cover: np.ndarray, min_visibility: float) -> list[Box]:
    """Every box under `cover`, cut down or dropped (see occluded)."""
    if not cover.any():
        return list(boxes)
    return [b for b in (occluded(box, cover, min_visibility) for box in boxes) if b is not None]
