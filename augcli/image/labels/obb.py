"""Oriented boxes: YOLO-OBB (`class x1 y1 x2 y2 x3 y3 x4 y4`, normalised, as ultralytics reads
them) and DOTA (`x1 y1 ... x4 y4 classname difficult`, pixels) label files.

An oriented box travels as its four corners (a polygon that is the object, so every geometric
and mixing step moves it as it moves a segment); it is written as the minimum-area rectangle of
what is left of it, so a perspective step or a cut by the border still gives a rectangle.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from augcli.core.files import read_input
from augcli.core.words import plural
from augcli.image.labels.shapes import Box
from augcli.image.labels.yolo import ROUNDING, BadLabels, finite


def _box(corners: list[float], label: object, extra: dict | None = None) -> Box:
    xs, ys = corners[0::2], corners[1::2]
    box = Box(min(xs), min(ys), max(xs), max(ys), label, (tuple(corners),), extra={**(extra or {}), ORIENTED: True})
    return replace(box, outline=True)


ORIENTED = "oriented"  # in a Box's extra: its polygon is a rectangle (an OBB), cut down as one


def shrunk(box: Box, visible: np.ndarray, left: int, top: int) -> tuple[tuple[float, ...], ...]:
    """An oriented box cut down to its visible pixels (a boolean window at left, top) along its own
    axes: the same orientation, tight to what is still seen."""
    corners = np.asarray(box.polygons[0], dtype=np.float64).reshape(-1, 2)[:4]
    origin, along, across = corners[0], corners[1] - corners[0], corners[3] - corners[0]
    units = [axis / (np.linalg.norm(axis) or 1.0) for axis in (along, across)]
    rows, cols = np.nonzero(visible)
    centres = np.column_stack([cols + left + 0.5, rows + top + 0.5]) - origin
    spans = []
    for unit in units:
        reach = 0.5  # the edge lies about half a pixel beyond the last centre inside it
        projected = centres @ unit
        spans.append((projected.min() - reach, projected.max() + reach))
    (a0, a1), (b0, b1) = spans
    out = [origin + a * units[0] + b * units[1] for a, b in ((a0, b0), (a1, b0), (a1, b1), (a0, b1))]
    return (tuple(float(v) for point in out for v in point),)


def _text(path: Path) -> str:
    try:
        return read_input(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadLabels(f"{path.name}: cannot read it: {exc}") from None


def read_yolo(path: Path, width: int, height: int, class_count: int | None) -> tuple[list[Box], list[str]]:
    """The oriented boxes of a YOLO-OBB label file (none when it does not exist)."""
    if not path.exists():
        return [], []
    boxes, clipped = [], 0
    for number, line in enumerate(_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path.name}, line {number}"
        if len(fields) != 9:
            raise BadLabels(f"{where}: expected 'class x1 y1 x2 y2 x3 y3 x4 y4' (9 fields), got {len(fields)}")
        try:
            label = int(fields[0])
        except ValueError:
            raise BadLabels(f"{where}: the class id is not a whole number: {line.strip()!r}") from None
        if label < 0 or (class_count is not None and label >= class_count):
            raise BadLabels(f"{where}: class id {label} is not in the class list")
        values = finite(fields[1:], where)
        if any(v < -ROUNDING or v > 1 + ROUNDING for v in values):
            raise BadLabels(f"{where}: a corner lies outside the image")
        clipped += sum(v < 0 or v > 1 for v in values)
        values = [min(max(v, 0.0), 1.0) for v in values]
        boxes.append(_box([v * (width if i % 2 == 0 else height) for i, v in enumerate(values)], label))
    warnings = [f"{path.name}: {plural(clipped, 'coordinate')} slightly outside [0, 1] clipped"] if clipped else []
    return boxes, warnings


def read_dota(path: Path) -> tuple[list[Box], list[str]]:
    """The oriented boxes of a DOTA label file: `x1 y1 x2 y2 x3 y3 x4 y4 class difficult` lines in
    pixels; header lines (`imagesource:`, `gsd:`) are kept as they are, in the boxes' order."""
    if not path.exists():
        return [], []
    boxes = []
    for number, line in enumerate(_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields or ":" in fields[0]:
            continue  # a header line (imagesource:..., gsd:...)
        where = f"{path.name}, line {number}"
        if len(fields) not in (9, 10):
            raise BadLabels(f"{where}: expected 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]', got {len(fields)} fields")
        corners = finite(fields[:8], where)
        difficult = fields[9] if len(fields) == 10 else "0"
        boxes.append(_box(corners, fields[8], {"difficult": difficult}))
    return boxes, []


def headers(path: Path) -> list[str]:
    """A DOTA file's header lines, written again at the top of every copy's file."""
    if not path.exists():
        return []
    return [line for line in _text(path).splitlines() if line.split() and ":" in line.split()[0]]


def rectangle(box: Box, width: int, height: int) -> list[tuple[float, float]]:
    """The minimum-area rectangle of what is left of an oriented box, its corners kept inside the
    picture (ultralytics refuses corners outside [0, 1])."""
    points = np.array([v for flat in box.polygons for v in flat], dtype=np.float32).reshape(-1, 2)
    if len(points) < 3:
        points = np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]], np.float32)
    corners = cv2.boxPoints(cv2.minAreaRect(points))
    return [(float(min(max(x, 0.0), width)), float(min(max(y, 0.0), height))) for x, y in corners]


def write_yolo(boxes: list[Box], width: int, height: int) -> bytes:
    lines = []
    for box in boxes:
        values = [f"{v:.6f}" for x, y in rectangle(box, width, height) for v in (x / width, y / height)]
        lines.append(" ".join([str(box.label), *values]) + "\n")
    return "".join(lines).encode("utf-8")


def write_dota(boxes: list[Box], width: int, height: int, header: list[str]) -> bytes:
    lines = [line + "\n" for line in header]
    for box in boxes:
        corners = " ".join(f"{v:.1f}" for x, y in rectangle(box, width, height) for v in (x, y))
        lines.append(f"{corners} {box.label} {box.extra.get('difficult', '0')}\n")
    return "".join(lines).encode("utf-8")


def class_ids(text: str, dota: bool) -> list[str]:
    """The class of every object line of a label file's text (DOTA: the name; YOLO-OBB: the id)."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or (dota and ":" in fields[0]):
            continue
        found.append(fields[8] if dota and len(fields) > 8 else fields[0])
    return found
