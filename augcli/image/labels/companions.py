"""An image's annotations through one copy: read them once, move them with the sampled steps,
write them in the input's format beside the copy.

Paths: `images`, the annotation path and the mask folder are relative to INPUT (a dataset's own
layout, e.g. images/, labels/, masks/). An image at images/train/a.jpg pairs with
labels/train/a.txt (YOLO), labels/train/a.xml (VOC), the COCO entry whose file_name is
train/a.jpg, and masks/train/a<suffix>.png. Outputs mirror that under OUTPUT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from augcli.image import functional as F
from augcli.image.labels import coco, masks, shapes, voc, yolo
from augcli.image.labels.shapes import Box
from augcli.image.ops import Kernel, Op, Warp, run_ops
from augcli.transforms import Applied


@dataclass(frozen=True)
class Layout:
    """Where a section's annotations live, bound to INPUT when the run is planned."""

    input_root: Path
    images: str = ""
    format: str = "none"
    labels: str | None = None  # folder (yolo, voc) or file (coco), relative to INPUT
    class_count: int | None = None
    classes: str | None = None  # the class list file, relative to INPUT (copied to OUTPUT)
    masks: str | None = None
    mask_suffix: str = ""
    erase_value: int | None = None
    min_visibility: float = 0.0
    min_size: float = 1.0
    from_polygons: bool = False

    def key(self, relative: str) -> str | None:
        """The image's path relative to the images folder (None if it lies outside)."""
        if not self.images:
            return relative
        prefix = self.images.rstrip("/") + "/"
        return relative[len(prefix) :] if relative.startswith(prefix) else None

    def label_path(self, key: str) -> str | None:
        if self.format in ("yolo", "voc") and self.labels is not None:
            suffix = ".txt" if self.format == "yolo" else ".xml"
            return str(PurePosixPath(self.labels) / PurePosixPath(key).with_suffix(suffix))
        return None

    def mask_folder_and_stem(self, key: str) -> tuple[str, str]:
        path = PurePosixPath(self.masks or "") / PurePosixPath(key)
        return str(path.parent), path.stem + self.mask_suffix

    def mask_file(self, key: str) -> Path | None:
        """The input mask of the image with this key, if there is one."""
        if not self.masks:
            return None
        folder, stem = self.mask_folder_and_stem(key)
        return masks.find(self.input_root / folder, stem)

    def reserved(self) -> list[str]:
        """Paths under INPUT that hold annotations, not samples: no section claims them."""
        return [p for p in (self.labels, self.masks, self.classes) if p]


@dataclass
class Annotations:
    """What one image carries into its copies."""

    boxes: list[Box] = field(default_factory=list)
    mask: masks.Mask | None = None
    voc_tree: Any = None
    coco_image: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


def read(layout: Layout, relative: str, size: tuple[int, int]) -> Annotations:
    key = layout.key(relative)
    found = Annotations()
    if key is None:
        return found
    width, height = size
    if layout.format == "yolo":
        found.boxes, found.warnings = yolo.read(
            layout.input_root / layout.label_path(key), width, height, layout.class_count
        )
    elif layout.format == "voc":
        found.boxes, found.voc_tree = voc.read(layout.input_root / layout.label_path(key))
    elif layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        found.boxes, found.warnings = coco.boxes_of(dataset, key)
        found.coco_image = dataset.by_file.get(key)
    mask = layout.mask_file(key)
    if mask is not None:
        found.mask = masks.load(mask, size)
    return found


def _is_geometric(applied: Applied) -> bool:
    return hasattr(applied.transform, "geometry")


def move_boxes(layout: Layout, boxes: list[Box], steps: list[Applied]) -> list[Box]:
    """The boxes after every geometric step of a copy, filtered by visibility and size."""
    moved = list(boxes)
    for step in steps:
        if _is_geometric(step):
            matrix, size = step.transform.geometry(step.info, **step.params)
            moved = [shapes.move(box, matrix, size, layout.from_polygons) for box in moved]
    return [box for box in moved if shapes.keep(box, layout.min_visibility, layout.min_size)]


def move_mask(layout: Layout, values: np.ndarray, steps: list[Applied]) -> np.ndarray:
    """The mask through the same geometric steps, nearest-neighbour (class values are never mixed);
    erasing transforms write `erase_value` into it when one is set."""
    ops: list[Op] = []
    scale = 255.0 / F.full_scale(values.dtype)
    for step in steps:
        if _is_geometric(step):
            matrix, size = step.transform.geometry(step.info, **step.params)
            border = getattr(step.transform, "border", None) or "constant"
            ops.append(Warp(matrix, size, interpolation="nearest", border=border, fill=(0.0,)))
        elif (
            layout.erase_value is not None
            and "boxes" in step.params
            and step.transform.name in ("random_erasing", "cutout")
        ):
            value = (layout.erase_value * scale,)
            ops.append(Kernel(F.erase, {"boxes": step.params["boxes"], "fill": "constant", "value": value}))
    return run_ops(values, ops)


@dataclass
class Written:
    """A copy's (or an original's) annotation files, and its entry for a COCO output."""

    files: list[tuple[str, bytes]] = field(default_factory=list)  # (path relative to OUTPUT, bytes)
    coco_entry: dict[str, Any] | None = None


def write(
    layout: Layout,
    output_relative: str,
    size: tuple[int, int],
    found: Annotations,
    boxes: list[Box],
    mask: np.ndarray | None,
) -> Written:
    key = layout.key(output_relative)
    written = Written()
    if key is None:
        return written
    width, height = size
    if layout.format == "yolo":
        written.files.append((layout.label_path(key), yolo.write(boxes, width, height)))
    elif layout.format == "voc":
        data = voc.write(found.voc_tree, boxes, width, height, PurePosixPath(output_relative).name)
        written.files.append((layout.label_path(key), data))
    elif layout.format == "coco":
        written.coco_entry = coco.entry(key, width, height, boxes, found.coco_image)
    if mask is not None and found.mask is not None:
        folder, stem = layout.mask_folder_and_stem(key)
        written.files.append((str(PurePosixPath(folder) / f"{stem}.png"), masks.encode(mask, found.mask)))
    return written


def orphans(layout: Layout, claimed: list[str]) -> list[str]:
    """Warnings for annotation files and masks whose image is not among the claimed files, and
    COCO entries whose image file is missing."""
    stems: dict[str, str] = {}
    for relative in claimed:
        key = layout.key(relative)
        if key is None:
            continue
        other = stems.setdefault(str(PurePosixPath(key).with_suffix("")), relative)
        if other != relative:
            raise ValueError(f"{other} and {relative} share a stem: their labels and masks would be the same files")
    keys = set(stems)
    warnings = []
    if layout.format in ("yolo", "voc") and layout.labels:
        suffix = ".txt" if layout.format == "yolo" else ".xml"
        folder = layout.input_root / layout.labels
        lonely = sorted(
            p.relative_to(layout.input_root).as_posix()
            for p in folder.rglob(f"*{suffix}")
            if p.relative_to(folder).with_suffix("").as_posix() not in keys
        )
        if lonely:
            warnings.append(f"{len(lonely)} label file(s) have no image, e.g. {lonely[0]}")
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        if dataset.stray:
            warnings.append(
                f"{layout.labels}: {len(dataset.stray)} annotation(s) name images it does not list "
                f"(skipped), e.g. id {dataset.stray[0]}"
            )
        named = set(dataset.by_file)
        absent = sorted(name for name in named if str(PurePosixPath(name).with_suffix("")) not in keys)
        if absent:
            warnings.append(f"{layout.labels} lists {len(absent)} image(s) that are not under INPUT, e.g. {absent[0]}")
    if layout.masks:
        folder = layout.input_root / layout.masks
        lonely = []
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.suffix.lower() in masks.SUFFIXES:
                stem = p.relative_to(folder).with_suffix("").as_posix()
                image = (
                    stem[: len(stem) - len(layout.mask_suffix)]
                    if layout.mask_suffix and stem.endswith(layout.mask_suffix)
                    else stem
                )
                if image not in keys:
                    lonely.append(p.relative_to(layout.input_root).as_posix())
        if lonely:
            warnings.append(f"{len(lonely)} mask(s) have no image, e.g. {lonely[0]}")
    return warnings


def original(layout: Layout, relative: str, output_relative: str) -> Written:
    """An original's annotation files, copied byte for byte, and its COCO entry."""
    written = Written()
    key = layout.key(relative)
    if key is None:
        return written
    label = layout.label_path(key)
    if label is not None and (layout.input_root / label).exists():
        written.files.append((label, (layout.input_root / label).read_bytes()))
    mask = layout.mask_file(key)
    if mask is not None:
        written.files.append((mask.relative_to(layout.input_root).as_posix(), mask.read_bytes()))
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        image = dataset.by_file.get(key)
        if image is not None:
            boxes, _ = coco.boxes_of(dataset, key)
            written.coco_entry = coco.entry(key, int(image["width"]), int(image["height"]), boxes, image)
    return written
