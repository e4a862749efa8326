"""Boxes and polygons through the geometric steps of a copy: pure geometry, no file formats.

Coordinates are pixel edges: a box over pixels 0..w-1 spans [0, w]. The image matrices map pixel
centres, so points are shifted by half a pixel on the way in and out. After each step a shape is
clipped to that step's canvas, so what a crop cut away does not return with a later pad.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Box:
    """One object: its box (x0, y0, x1, y1 in pixel edges), class, polygons and format extras."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: Any
    polygons: tuple[tuple[float, ...], ...] = ()  # flat x, y, x, y, ... in pixel edges
    extra: dict[str, Any] = field(default_factory=dict)  # kept as read: VOC difficult, COCO iscrowd, ...
    unclipped: tuple[float, float, float, float] | None = None  # where it would be had nothing clipped it
    keypoints: tuple[tuple[float, float, int], ...] = ()  # (x, y, visibility) in pixel edges; 0: not in the image
    outline: bool = False  # the polygon is the object (YOLO segment): its box is always the polygon's
    # the visible outline of a box-only object once something was pasted over part of it: later
    # steps take its box from these (never written: the labels have no polygons)
    visible: tuple[tuple[float, ...], ...] = ()

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


def _map(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(n, 2) pixel-edge points through a pixel-centre matrix."""
    homogeneous = np.hstack([points - 0.5, np.ones((len(points), 1))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3] + 0.5


def _corners(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _tight(points: np.ndarray) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def clip_polygon(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Sutherland-Hodgman: the part of a polygon inside [0, width] x [0, height]."""
    edges = ((0, 0.0, 1), (0, width, -1), (1, 0.0, 1), (1, height, -1))  # axis, limit, inside direction
    for axis, limit, direction in edges:
        if len(points) == 0:
            break
        out = []
        for i in range(len(points)):
            current, previous = points[i], points[i - 1]
            inside_now = (current[axis] - limit) * direction >= 0
            inside_before = (previous[axis] - limit) * direction >= 0
            if inside_now != inside_before:
                t = (limit - previous[axis]) / (current[axis] - previous[axis])
                out.append(previous + t * (current - previous))
            if inside_now:
                out.append(current)
        points = np.array(out).reshape(-1, 2)
    return points


def polygon_area(flat: tuple[float, ...] | np.ndarray) -> float:
    points = np.asarray(flat, dtype=float).reshape(-1, 2)
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def mirrors(matrix: np.ndarray) -> bool:
    """Whether a step turns the picture into its mirror image (a flip): left and right trade places."""
    return bool(np.linalg.det(matrix) < 0)


def move_keypoints(
    points: tuple[tuple[float, float, int], ...], matrix: np.ndarray, size: tuple[int, int], flip_idx: tuple[int, ...]
) -> tuple[tuple[float, float, int], ...]:
    """Keypoints after one step: moved, set to (0, 0, 0) once they leave the canvas (they do not come
    back with a later pad), and swapped left for right by `flip_idx` when the step mirrors."""
    if not points:
        return points
    width, height = size
    xy = _map(np.array([(x, y) for x, y, _ in points], dtype=float), matrix)
    moved = []
    for (x, y), (_, _, visible) in zip(xy.tolist(), points, strict=True):
        inside = visible > 0 and 0.0 <= x <= width and 0.0 <= y <= height
        moved.append((x, y, visible) if inside else (0.0, 0.0, 0))
    if flip_idx and mirrors(matrix):
        moved = [moved[i] for i in flip_idx]
    return tuple(moved)


def move(
    box: Box, matrix: np.ndarray, size: tuple[int, int], from_polygons: bool, flip_idx: tuple[int, ...] = ()
) -> Box:
    """A box after one geometric step onto a (width, height) canvas: the tight box of its moved
    corners (or of its moved polygons, when `from_polygons` or the polygon is the object), clipped to
    the canvas; its keypoints move with it."""
    width, height = size
    from_polygons = from_polygons or box.outline
    keypoints = move_keypoints(box.keypoints, matrix, size, flip_idx)
    polygons = []
    for flat in box.polygons:
        moved = clip_polygon(_map(np.asarray(flat, dtype=float).reshape(-1, 2), matrix), width, height)
        if len(moved) >= 3:
            polygons.append(tuple(float(v) for v in moved.reshape(-1)))
    visible = []
    for flat in box.visible:
        moved = clip_polygon(_map(np.asarray(flat, dtype=float).reshape(-1, 2), matrix), width, height)
        if len(moved) >= 3:
            visible.append(tuple(float(v) for v in moved.reshape(-1)))
    unclipped = _tight(_map(_corners(*(box.unclipped or (box.x0, box.y0, box.x1, box.y1))), matrix))
    if from_polygons and box.polygons:
        points = np.array([v for flat in polygons for v in flat]).reshape(-1, 2)
    elif box.visible:
        points = np.array([v for flat in visible for v in flat]).reshape(-1, 2)
    else:
        points = clip_polygon(_map(_corners(box.x0, box.y0, box.x1, box.y1), matrix), width, height)
    if len(points) == 0:
        return replace(
            box, x0=0.0, y0=0.0, x1=0.0, y1=0.0, polygons=(), unclipped=unclipped, keypoints=keypoints, visible=()
        )
    x0, y0, x1, y1 = _tight(points)
    return replace(
        box,
        x0=max(x0, 0.0),
        y0=max(y0, 0.0),
        x1=min(x1, float(width)),
        y1=min(y1, float(height)),
        polygons=tuple(polygons),
        unclipped=unclipped,
        keypoints=keypoints,
        visible=tuple(visible),
    )


def visibility(box: Box) -> float:
    """The share of the box that is still in the picture (1 when nothing clipped it)."""
    if box.unclipped is None:
        return 1.0
    x0, y0, x1, y1 = box.unclipped
    full = (x1 - x0) * (y1 - y0)
    return box.area / full if full > 0 else 0.0


def keep(box: Box, min_visibility: float, min_size: float) -> bool:
    """Whether a moved box survives: some area left, enough of it visible, big enough."""
    if box.area <= 0 or box.width < min_size or box.height < min_size:
        return False
    return visibility(box) >= min_visibility
