"""COCO detection JSON: one file for the whole dataset, read once per process, written once per run.

Boxes are [x, y, width, height] in pixels; polygon segmentations and keypoints move with the image
(run-length encoded masks cannot, and are dropped with a warning). The output gets fresh image and annotation
ids in the order of the output paths, the input's categories and `info` / `licenses` as they were.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.image.labels.shapes import Box, polygon_area
from augcli.image.labels.yolo import BadLabels, finite
from augcli.storage import read_input


@dataclass
class Dataset:
    head: dict[str, Any]  # everything but images and annotations (info, licenses, categories)
    by_file: dict[str, dict[str, Any]]  # file_name -> image entry
    annotations: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)  # image id -> annotations
    categories: set[Any] = field(default_factory=set)
    stray: list[Any] = field(default_factory=list)  # ids of annotations whose image 'images' does not list


@functools.lru_cache(maxsize=2)
def load(path: str) -> Dataset:
    """Parse and index a COCO file (a file that is not COCO at all is refused)."""
    try:
        data = json.loads(read_input(Path(path), None).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadLabels(f"COCO file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BadLabels(f"COCO file {path}: expected an object with 'images', 'annotations' and 'categories'")
    head = {k: v for k, v in data.items() if k not in ("images", "annotations")}
    by_file = {str(image["file_name"]): image for image in data["images"]}
    ids = {image["id"] for image in data["images"]}
    dataset = Dataset(head, by_file, categories={c["id"] for c in data.get("categories", [])})
    for annotation in data.get("annotations", []):
        if annotation.get("image_id") not in ids:
            dataset.stray.append(annotation.get("id"))
        else:
            dataset.annotations.setdefault(annotation["image_id"], []).append(annotation)
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
        skipped = ("id", "image_id", "bbox", "area", "segmentation", "keypoints", "num_keypoints")
        extra = {k: v for k, v in annotation.items() if k not in skipped}
        boxes.append(Box(x, y, x + w, y + h, annotation["category_id"], polygons, extra, keypoints=keypoints))
    return boxes, warnings


def entry(file_name: str, width: int, height: int, boxes: list[Box], like: dict[str, Any] | None) -> dict[str, Any]:
    """One output image with its annotations, before ids are given out."""
    image = {k: v for k, v in (like or {}).items() if k not in ("id", "file_name", "width", "height")}
    image.update(file_name=file_name, width=width, height=height)
    annotations = []
    for box in boxes:
        annotation = dict(box.extra)
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
    return {"image": image, "annotations": annotations}


def assemble(head: dict[str, Any], entries: list[tuple[str, dict[str, Any]]]) -> bytes:
    """The output COCO file: entries sorted by output path, ids 1, 2, 3, ... in that order. Each
    entry's keys are put in sorted order first: an entry made in this run and one read back from
    the state (saved with sorted keys) must give the same bytes."""
    images, annotations = [], []
    for image_id, (_, item) in enumerate(sorted(entries, key=lambda e: e[0]), start=1):
        item = json.loads(json.dumps(item, sort_keys=True))
        images.append({"id": image_id, **item["image"]})
        for annotation in item["annotations"]:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, **annotation})
    return json.dumps({**head, "images": images, "annotations": annotations}, ensure_ascii=False).encode("utf-8")
