"""YOLO label files: one `class cx cy w h` line per object, coordinates normalised to [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from augcli.errors import InputError
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


def read(path: Path, width: int, height: int, class_count: int | None) -> tuple[list[Box], list[str]]:
    """The boxes of one label file (none if it does not exist) and warnings about what was clipped."""
    if not path.exists():
        return [], []
    boxes, clipped = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path.name}, line {number}"
        if len(fields) != 5:
            raise BadLabels(f"{where}: expected 'class cx cy w h', got {len(fields)} fields")
        try:
            label = int(fields[0])
        except ValueError:
            raise BadLabels(f"{where}: the class id is not a whole number: {line.strip()!r}") from None
        cx, cy, w, h = finite(fields[1:], where)
        if label < 0 or (class_count is not None and label >= class_count):
            known = f" (the class list has {class_count})" if class_count is not None else ""
            raise BadLabels(f"{where}: class id {label} is not in the class list{known}")
        if w <= 0 or h <= 0:
            raise BadLabels(f"{where}: box of zero or negative size (w {w}, h {h})")
        x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        if min(x0, y0) < -ROUNDING or max(x1, y1) > 1 + ROUNDING:
            raise BadLabels(f"{where}: box ({x0:.4f}, {y0:.4f}, {x1:.4f}, {y1:.4f}) lies outside the image")
        if min(x0, y0) < 0 or max(x1, y1) > 1:
            clipped += 1
            x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, 1.0), min(y1, 1.0)
        boxes.append(Box(x0 * width, y0 * height, x1 * width, y1 * height, label))
    warnings = [f"{path.name}: {clipped} box(es) slightly outside [0, 1] clipped to the image"] if clipped else []
    return boxes, warnings


def write(boxes: list[Box], width: int, height: int) -> bytes:
    lines = []
    for box in boxes:
        cx, cy = (box.x0 + box.x1) / 2 / width, (box.y0 + box.y1) / 2 / height
        lines.append(f"{box.label} {cx:.6f} {cy:.6f} {box.width / width:.6f} {box.height / height:.6f}\n")
    return "".join(lines).encode("utf-8")


def class_count(path: Path) -> int:
    """How many classes a classes.txt (one name per line) or a data.yaml (`names:`) lists."""
    import yaml

    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        names = (yaml.safe_load(text) or {}).get("names")
        if not isinstance(names, (list, dict)):
            raise ValueError(f"{path} has no 'names:' list")
        return len(names)
    return len([line for line in text.splitlines() if line.strip()])
