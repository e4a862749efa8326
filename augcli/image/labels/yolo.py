"""YOLO label files: one line per object (a box, a segment polygon, or a box with pose keypoints),
coordinates normalised to [0, 1], as ultralytics reads and writes them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from augcli.core.errors import InputError
from augcli.core.files import read_input
from augcli.core.words import plural
from augcli.image.labels.shapes import Box

ROUNDING = 0.01  # coordinates this far outside [0, 1] are rounding noise: clipped with a warning


class BadLabels(InputError):
    """A label file that cannot be read; the message names the file and the line."""


def finite(values: Iterable[Any], where: str) -> list[float]:
    """Coordinates as floats; NaN, inf or text fail the image (never boxes that silently vanish)."""
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise BadLabels(f"{where}: coordinates are not numbers") from None
    for value in numbers:
        if not math.isfinite(value):
            raise BadLabels(f"{where}: coordinate {value} is not a finite number")
    return numbers


def _clip(value: float, where: str, clipped: list[int]) -> float:
    """A normalised coordinate inside [0, 1]; rounding noise is clipped (and counted), more fails."""
    if value < -ROUNDING or value > 1 + ROUNDING:
        raise BadLabels(f"{where}: coordinate {value:.4f} lies outside the image")
    if value < 0 or value > 1:
        clipped[0] += 1
        return min(max(value, 0.0), 1.0)
    return value


def _keypoints(values: list[float], dims: int, width: int, height: int) -> tuple[tuple[float, float, int], ...]:
    """Pose keypoints in pixel edges; (0, 0) or visibility 0 is a keypoint that is not there."""
    points = []
    for i in range(0, len(values), dims):
        x, y = values[i], values[i + 1]
        visible = round(values[i + 2]) if dims == 3 else 2
        if (x == 0 and y == 0) or x < 0 or y < 0:
            visible = 0
        points.append((x * width, y * height, visible) if visible else (0.0, 0.0, 0))
    return tuple(points)


def read(
    path: Path, width: int, height: int, class_count: int | None, kpt_shape: tuple[int, int] | None = None
) -> tuple[list[Box], list[str]]:
    """The objects of one label file (none if it does not exist) and warnings about what was clipped.

    A line is a box (`class cx cy w h`), a segment (`class x1 y1 x2 y2 x3 y3 ...`, its box the tight
    box of the polygon), or, with `kpt_shape` [K, D], a box followed by K keypoints of D values."""
    if not path.exists():
        return [], []
    boxes, clipped = [], [0]
    try:
        text = read_input(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadLabels(f"{path.name}: cannot read it: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path.name}, line {number}"
        pose = kpt_shape is not None and len(fields) == 5 + kpt_shape[0] * kpt_shape[1]
        segment = not pose and len(fields) >= 7 and len(fields) % 2 == 1
        if not (pose or segment or len(fields) == 5):
            shapes_known = "'class cx cy w h' or a segment 'class x1 y1 x2 y2 x3 y3 ...'"
            if kpt_shape is not None:
                shapes_known += f", or a box with {kpt_shape[0]}x{kpt_shape[1]} keypoint values (kpt_shape)"
            raise BadLabels(f"{where}: expected {shapes_known}, got {len(fields)} fields")
        try:
            label = int(fields[0])
        except ValueError:
            raise BadLabels(f"{where}: the class id is not a whole number: {line.strip()!r}") from None
        if label < 0 or (class_count is not None and label >= class_count):
            known = f" (the class list has {class_count})" if class_count is not None else ""
            raise BadLabels(f"{where}: class id {label} is not in the class list{known}")
        values = finite(fields[1:], where)
        if segment:
            flat = [_clip(v, where, clipped) for v in values]
            xs, ys = flat[0::2], flat[1::2]
            polygon = tuple(v * (width if i % 2 == 0 else height) for i, v in enumerate(flat))
            box = Box(min(xs) * width, min(ys) * height, max(xs) * width, max(ys) * height, label, (polygon,))
            boxes.append(replace(box, outline=True))
            continue
        cx, cy, w, h = values[:4]
        if w <= 0 or h <= 0:
            raise BadLabels(f"{where}: box of zero or negative size (w {w}, h {h})")
        x0, y0, x1, y1 = (_clip(v, where, clipped) for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        keypoints = _keypoints(values[4:], kpt_shape[1], width, height) if pose else ()
        boxes.append(Box(x0 * width, y0 * height, x1 * width, y1 * height, label, keypoints=keypoints))
    warnings = (
        [f"{path.name}: {plural(clipped[0], 'coordinate')} slightly outside [0, 1] clipped"] if clipped[0] else []
    )
    return boxes, warnings


def _number(value: float) -> str:
    return f"{min(max(value, 0.0), 1.0):.6f}"


def write(boxes: list[Box], width: int, height: int, keypoint_dims: int | None = None) -> bytes:
    """Boxes as `class cx cy w h` (+ keypoints), segments as `class x1 y1 ...`, normalised; a keypoint
    that left the picture is written as zeros, as ultralytics writes one that is not there."""
    lines = []
    for box in boxes:
        if box.outline:
            polygon = box.polygons[0]
            scaled = (v / (width if i % 2 == 0 else height) for i, v in enumerate(polygon))
            lines.append(" ".join([str(box.label), *map(_number, scaled)]) + "\n")
            continue
        cx, cy = (box.x0 + box.x1) / 2 / width, (box.y0 + box.y1) / 2 / height
        fields = [str(box.label), *map(_number, (cx, cy, box.width / width, box.height / height))]
        for x, y, visible in box.keypoints if keypoint_dims else ():
            fields += [_number(x / width), _number(y / height)] if visible else ["0.000000", "0.000000"]
            if keypoint_dims == 3:
                fields.append(str(visible))
        lines.append(" ".join(fields) + "\n")
    return "".join(lines).encode("utf-8")


def class_count(path: Path) -> int:
    """How many classes a classes.txt (one name per line) or a data.yaml (`names:`) lists."""
    if path.suffix.lower() in (".yaml", ".yml"):
        from augcli.image.labels.dataset_yaml import load

        names = load(path).get("names")
        if not isinstance(names, (list, dict)):
            raise ValueError(f"{path} has no 'names:' list")
        return len(names)
    text = read_input(path).decode("utf-8-sig")
    return len([line for line in text.splitlines() if line.strip()])
