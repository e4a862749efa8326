"""COCO detection JSON: one file for the whole dataset, read once per process, written once per run.

Boxes are [x, y, width, height] in pixels; polygon segmentations and keypoints move with the image
(run-length encoded masks cannot, and are dropped with a warning). The output keeps the input's
head (categories, `info`, `licenses`) as it was, and its identities:

- an original is written exactly as the input has it: its image entry and its annotations with
  their ids and every field (`area`, `iscrowd`, keys augcli does not know);
- a copy's image id is `image_base + slot(file_name)` and each of its annotations'
  `annotation_base + slot(file_name + NUL + source annotation id)`. A base is the first multiple of
  BLOCK (10**15) above the input's largest id, so copies never take an input's id and their ids do
  not move when inputs come or go (up to 10**15 ids in the input). A slot is a 64-bit blake2b digest
  of the identity (UTF-8) modulo BLOCK; when two copies' slots collide, the one whose output path
  sorts first keeps it and the other takes the slot of its identity with attempt 1, 2, ... appended.
  So a copy's id changes only if another output's digest collides with its own (odds about
  n**2 / 2e15 for n copies). Ids stay below 2**53: JSON readers in any language read them exactly.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.core.files import read_input
from augcli.image.labels.shapes import Box, polygon_area
from augcli.image.labels.yolo import BadLabels, finite

BLOCK = 10**15


@dataclass
class Dataset:
    head: dict[str, Any]  # everything but images and annotations (info, licenses, categories)
    by_file: dict[str, dict[str, Any]]  # file_name -> image entry
    annotations: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)  # image id -> annotations
    categories: set[Any] = field(default_factory=set)
    stray: list[Any] = field(default_factory=list)  # ids of annotations whose image 'images' does not list
    max_image_id: int = 0
    max_annotation_id: int = 0


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_id(value: Any, what: str, where: str) -> None:
    if not _whole(value):
        shown = json.dumps(value)[:60] if value is not None else "nothing"
        raise BadLabels(f"{where}: {what} must be a whole number (a COCO id), got {shown}")


def load(path: str) -> Dataset:
    """Parse and index a COCO file; a file that is not COCO, or whose ids or file names are missing
    or of the wrong kind, is refused with the file, the entry and what is wrong. Read once per
    process while the file stays as it was (a second run in one process sees an edited file)."""
    try:
        info = os.stat(path)
        version = (info.st_size, info.st_mtime_ns, info.st_ino)
    except OSError:
        version = None
    return _load(path, version)


@functools.lru_cache(maxsize=2)
def _load(path: str, version: tuple[int, int, int] | None) -> Dataset:
    name = Path(path).name
    try:
        data = json.loads(read_input(Path(path), None).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise BadLabels(f"COCO file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BadLabels(f"COCO file {path}: expected an object with 'images', 'annotations' and 'categories'")
    for key in ("annotations", "categories"):
        if not isinstance(data.get(key, []), list):
            raise BadLabels(f"COCO file {path}: '{key}' must be a list")
    head = {k: v for k, v in data.items() if k not in ("images", "annotations")}
    by_file: dict[str, dict[str, Any]] = {}
    ids: set[int] = set()
    for index, image in enumerate(data["images"]):
        where = f"{name}: images[{index}]"
        if not isinstance(image, dict):
            raise BadLabels(f"{where} is not an object with 'id' and 'file_name'")
        _check_id(image.get("id"), "'id'", where)
        file_name = image.get("file_name")
        if not isinstance(file_name, str) or not file_name:
            shown = "no 'file_name'" if file_name is None else f"'file_name' {json.dumps(file_name)[:60]}"
            raise BadLabels(f"{where} (id {image['id']}) has {shown}: it needs the image's path, e.g. train/a.jpg")
        if image["id"] in ids:
            raise BadLabels(f"{where} ({file_name}): id {image['id']} is already another image's")
        if file_name in by_file:
            raise BadLabels(f"{where} (id {image['id']}): {file_name} is listed twice")
        ids.add(image["id"])
        by_file[file_name] = image
    categories = set()
    for index, category in enumerate(data.get("categories", [])):
        where = f"{name}: categories[{index}]"
        if not isinstance(category, dict):
            raise BadLabels(f"{where} is not an object with 'id' and 'name'")
        _check_id(category.get("id"), "'id'", where)
        categories.add(category["id"])
    dataset = Dataset(head, by_file, categories=categories, max_image_id=max(ids, default=0))
    annotation_ids: set[int] = set()
    for index, annotation in enumerate(data.get("annotations", [])):
        where = f"{name}: annotations[{index}]"
        if not isinstance(annotation, dict):
            raise BadLabels(f"{where} is not an object with 'id', 'image_id', 'category_id' and 'bbox'")
        _check_id(annotation.get("id"), "'id'", where)
        where += f" (id {annotation['id']})"
        _check_id(annotation.get("image_id"), "'image_id'", where)
        _check_id(annotation.get("category_id"), "'category_id'", where)
        if annotation["id"] in annotation_ids:
            raise BadLabels(f"{where}: id {annotation['id']} is already another annotation's")
        annotation_ids.add(annotation["id"])
        if annotation["image_id"] not in ids:
            dataset.stray.append(annotation["id"])
        else:
            dataset.annotations.setdefault(annotation["image_id"], []).append(annotation)
    dataset.max_annotation_id = max(annotation_ids, default=0)
    return dataset


def _keypoints(flat: Any, name: str) -> tuple[tuple[float, float, int], ...]:
    """COCO keypoints [x1, y1, v1, ...] as (x, y, v) triples; v 0 is a keypoint that is not labelled."""
    if flat is None:
        return ()
    if not isinstance(flat, list) or len(flat) % 3:
        raise BadLabels(f"{name}: keypoints must be a list of x, y, v triples")
    values = finite(flat, f"{name}: keypoints")
    return tuple(
        (values[i], values[i + 1], int(values[i + 2])) if values[i + 2] > 0 else (0.0, 0.0, 0)
        for i in range(0, len(values), 3)
    )


def flip_idx(dataset: Dataset) -> tuple[int, ...]:
    """Left/right keypoint pairs from the categories' keypoint names (left_eye <-> right_eye)."""
    for category in dataset.head.get("categories", []):
        names = category.get("keypoints") if isinstance(category, dict) else None
        if not isinstance(names, list) or not names:
            continue
        index = {str(n): i for i, n in enumerate(names)}
        swapped = []
        for i, name in enumerate(map(str, names)):
            other = name.replace("left", "\0").replace("right", "left").replace("\0", "right")
            swapped.append(index.get(other, i))
        return tuple(swapped)
    return ()


def has_keypoints(layout: Any) -> bool:
    dataset = load(str(layout.input_root / layout.labels))
    return any(isinstance(c, dict) and c.get("keypoints") for c in dataset.head.get("categories", []))


def boxes_of(dataset: Dataset, file_name: str) -> tuple[list[Box], list[str]]:
    """The objects of one image; each box's `extra` holds its annotation's other fields and its id."""
    image = dataset.by_file.get(file_name)
    if image is None:
        return [], []
    boxes, warnings = [], []
    for annotation in dataset.annotations.get(image["id"], []):
        name = f"COCO annotation {annotation.get('id')}"
        if annotation.get("category_id") not in dataset.categories:
            raise BadLabels(f"{name} has category {annotation.get('category_id')}, which 'categories' lacks")
        bbox = annotation.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise BadLabels(f"{name}: bbox must be [x, y, width, height]")
        x, y, w, h = finite(bbox, f"{name}: bbox")
        if w <= 0 or h <= 0:
            raise BadLabels(f"{name}: box of zero or negative size ({w} x {h})")
        segmentation = annotation.get("segmentation")
        polygons: tuple = ()
        if isinstance(segmentation, list):
            polygons = tuple(
                tuple(finite(polygon, f"{name}: segmentation"))
                for polygon in segmentation
                if isinstance(polygon, list) and len(polygon) >= 6
            )
        elif segmentation:
            warnings.append(f"COCO annotation {annotation.get('id')}: run-length mask dropped (it cannot move)")
        keypoints = _keypoints(annotation.get("keypoints"), name)
        skipped = ("image_id", "bbox", "area", "segmentation", "keypoints", "num_keypoints")
        extra = {k: v for k, v in annotation.items() if k not in skipped}
        boxes.append(Box(x, y, x + w, y + h, annotation["category_id"], polygons, extra, keypoints=keypoints))
    return boxes, warnings


def original_entry(source: str) -> dict[str, Any]:
    """An original's entry: `assemble` writes the input's own image and annotations for it."""
    return {"source": source, "original": True}


def entry(
    source: str, file_name: str, width: int, height: int, boxes: list[Box], like: dict[str, Any] | None
) -> dict[str, Any]:
    """A copy's image and its moved annotations, before ids are given out; `from` lists the input
    annotation each one was moved from (its id derives from it). Areas are those of the moved shapes."""
    image = {k: v for k, v in (like or {}).items() if k not in ("id", "file_name", "width", "height")}
    image.update(file_name=file_name, width=width, height=height)
    annotations, origins = [], []
    for box in boxes:
        annotation = dict(box.extra)
        origins.append(annotation.pop("id", None))
        annotation["category_id"] = box.label
        annotation["bbox"] = [round(box.x0, 3), round(box.y0, 3), round(box.width, 3), round(box.height, 3)]
        if box.polygons:
            annotation["segmentation"] = [[round(v, 3) for v in polygon] for polygon in box.polygons]
            annotation["area"] = round(sum(polygon_area(p) for p in box.polygons), 3)
        else:
            annotation["segmentation"] = []
            annotation["area"] = round(box.area, 3)
        if box.keypoints:
            annotation["keypoints"] = [
                v for x, y, visible in box.keypoints for v in (round(x, 3), round(y, 3), visible)
            ]
            annotation["num_keypoints"] = sum(1 for *_, visible in box.keypoints if visible > 0)
        annotations.append(annotation)
    return {"source": source, "image": image, "annotations": annotations, "from": origins}


def base_above(largest: int) -> int:
    """The first multiple of BLOCK above the input's largest id: where copies' ids start."""
    return (max(largest, 0) // BLOCK + 1) * BLOCK


def _slot(identity: str, attempt: int) -> int:
    text = identity if attempt == 0 else f"{identity}\0{attempt}"
    digest = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BLOCK


class _Ids:
    """Ids from identities: base + the identity's slot, or its next attempt's when that slot is taken."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.taken: set[int] = set()

    def give(self, identity: str) -> int:
        attempt = 0
        while (slot := _slot(identity, attempt)) in self.taken:
            attempt += 1
        self.taken.add(slot)
        return self.base + slot


def copy_ids(dataset: Dataset, copies: list[tuple[str, list[Any]]]) -> list[tuple[int, list[int]]]:
    """The image id and annotation ids of each copy, given (its file_name, source annotation ids) in
    output-path order (the order decides only who keeps a slot two identities share)."""
    images, annotations = _Ids(base_above(dataset.max_image_id)), _Ids(base_above(dataset.max_annotation_id))
    result = []
    for path, origins in copies:
        seen: dict[str, int] = {}
        ids = []
        for index, origin in enumerate(origins):
            identity = f"{path}\0{origin if origin is not None else f'#{index}'}"
            seen[identity] = seen.get(identity, 0) + 1
            ids.append(annotations.give(identity if seen[identity] == 1 else f"{identity}\0{seen[identity]}"))
        result.append((images.give(path), ids))
    return result


def assemble(dataset: Dataset, entries: list[tuple[str, dict[str, Any]]]) -> bytes:
    """The output COCO file: the images sorted by output path, each followed (in 'annotations') by its
    annotations in their order. Originals come from the input as they are; copies get the ids of
    `copy_ids`. A copy's keys are put in sorted order: an entry made in this run and one read back
    from the state (saved with sorted keys) must give the same bytes."""
    items = sorted((path, item) for path, item in entries if isinstance(item, dict) and "source" in item)
    copies = [(path, item) for path, item in items if not item.get("original") and isinstance(item.get("image"), dict)]
    origins = [
        (str(item["image"].get("file_name")), [*(item.get("from") or [None] * len(item.get("annotations") or []))])
        for _, item in copies
    ]
    given = dict(zip((path for path, _ in copies), copy_ids(dataset, origins), strict=True))
    images, annotations = [], []
    for path, item in items:
        if item.get("original"):
            image = dataset.by_file.get(str(item["source"]))
            if image is not None:
                images.append(image)
                annotations += dataset.annotations.get(image["id"], [])
            continue
        if path not in given:
            continue
        image_id, annotation_ids = given[path]
        item = json.loads(json.dumps(item, sort_keys=True))
        images.append({"id": image_id, **item["image"]})
        for annotation_id, annotation in zip(annotation_ids, item.get("annotations") or [], strict=False):
            if isinstance(annotation, dict):  # an entry read back from the state is not trusted
                annotations.append({"id": annotation_id, "image_id": image_id, **annotation})
    return json.dumps({**dataset.head, "images": images, "annotations": annotations}, ensure_ascii=False).encode(
        "utf-8"
    )
