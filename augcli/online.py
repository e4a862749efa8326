"""Samples in memory through a section: the Python API's side of each modality.

Each function takes a sample in the kind a training loop holds it, converts it to what the
modality's file path decodes to, calls the same augment/replay function `augcli run` calls for a
file, and converts the result back to the kind it was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.core.transforms import ReplayError

if TYPE_CHECKING:
    from augcli.core.recipe import Section

BOX_FORMATS = ("xyxy", "xywh", "yolo")  # pixel corners (Pascal VOC), pixel x, y, w, h (COCO), normalised cx cy w h


@dataclass
class Augmented:
    """What a pipeline returns: the augmented sample in the kind it was given, the records the
    manifest would hold for it, and the targets that moved with an image. Unpacks as
    `sample, records = pipeline(...)`."""

    sample: Any
    records: list[dict[str, Any]]
    boxes: np.ndarray | None = None
    labels: list[Any] | None = None
    mask: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    shares: dict[str, float] | None = None  # a mixed picture given its `label=`: each class's share

    def __iter__(self) -> Iterator[Any]:
        yield self.sample
        yield self.records


def _augmented(*args: Any, **kwargs: Any) -> Augmented:
    return Augmented(*args, **kwargs)


# --- images --------------------------------------------------------------------------------------


def _boxes_in(boxes: Any, box_format: str, width: int, height: int) -> np.ndarray:
    """N x 4 boxes in `box_format` as pixel corners x0, y0, x1, y1."""
    values = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if box_format == "xyxy":
        return values.copy()
    if box_format == "xywh":
        return np.column_stack([values[:, 0], values[:, 1], values[:, 0] + values[:, 2], values[:, 1] + values[:, 3]])
    if box_format == "yolo":
        cx, cy, w, h = values[:, 0] * width, values[:, 1] * height, values[:, 2] * width, values[:, 3] * height
        return np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    raise ValueError(f"box_format must be one of {', '.join(BOX_FORMATS)}, got {box_format!r}")


def _boxes_out(corners: np.ndarray, box_format: str, width: int, height: int) -> np.ndarray:
    x0, y0, x1, y1 = (corners[:, i] for i in range(4))
    if box_format == "xywh":
        return np.column_stack([x0, y0, x1 - x0, y1 - y0])
    if box_format == "yolo":
        return np.column_stack([(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height])
    return corners


def _keypoints_in(points: Any) -> tuple[np.ndarray, int]:
    values = np.asarray(points, dtype=np.float64)
    if values.shape[-1] not in (2, 3):
        raise ValueError(f"keypoints must be K x 2 (x, y) or K x 3 (x, y, visibility), got shape {values.shape}")
    return values, values.shape[-1]


def _as_triples(values: np.ndarray) -> tuple[tuple[float, float, int], ...]:
    """Pixel keypoints as the annotation code holds them; a 2-column keypoint is visible (2)."""
    return tuple(
        (float(v[0]), float(v[1]), int(v[2]) if len(v) == 3 else 2) if len(v) == 2 or v[2] > 0 else (0.0, 0.0, 0)
        for v in values
    )


def _triples_out(points: tuple[tuple[float, float, int], ...], dims: int) -> np.ndarray:
    rows = [(x, y, v)[:dims] for x, y, v in points]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), dims)


def _image_array(sample: Any) -> np.ndarray:
    pixels = np.ascontiguousarray(sample)
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3):
        raise TypeError(f"an image is an HxW or HxWxC uint8 or uint16 array, got {pixels.dtype} {pixels.shape}")
    return pixels


def _pixels_alone(section: Section, sample: np.ndarray, rng: Any) -> Augmented:
    """The training loop's usual call, an array and nothing else: straight to the copy (a few
    microseconds of target handling less on every call)."""
    copy = _image_modality().augment_pixels(section, _image_array(sample), rng)
    result = Augmented(copy.pixels, copy.records)
    result.shares = copy.shares
    return result


def _image_modality() -> Any:
    """augcli.image.modality, imported on the first image call (audio and text users never load
    OpenCV) and kept: an import statement on every call costs more than some transforms."""
    global _IMAGE_MODALITY
    if _IMAGE_MODALITY is None:
        from augcli.image import modality

        _IMAGE_MODALITY = modality
    return _IMAGE_MODALITY


_IMAGE_MODALITY: Any = None


def image(section: Section, sample: Any, rng: Any, records: list | None, targets: dict[str, Any]) -> Augmented:
    """One image (array or PIL) and its boxes, mask and keypoints through the image section."""
    if not targets and records is None and isinstance(sample, np.ndarray):
        return _pixels_alone(section, sample, rng)
    from PIL import Image

    from augcli.image import io
    from augcli.image.labels import masks
    from augcli.image.labels.companions import Annotations, move_points
    from augcli.image.labels.shapes import Box
    from augcli.image.modality import GivenPartners, augment_pixels, layout_of, replay_pixels

    unknown = set(targets) - {"boxes", "box_format", "labels", "mask", "keypoints", "partners", "label"}
    if unknown:
        raise TypeError(
            f"unknown image targets {sorted(unknown)}: boxes, box_format, labels, mask, keypoints, partners, label"
        )
    is_pil = isinstance(sample, Image.Image)
    pixels = io.to_array(sample)[0] if is_pil else _image_array(sample)
    height, width = pixels.shape[:2]
    box_format = targets.get("box_format", "xyxy")
    found = None
    standalone = None
    if any(targets.get(k) is not None for k in ("boxes", "mask", "keypoints")):
        found = Annotations()
        keypoints, dims = (None, 0) if targets.get("keypoints") is None else _keypoints_in(targets["keypoints"])
        if targets.get("boxes") is not None:
            corners = _boxes_in(targets["boxes"], box_format, width, height)
            labels = list(targets.get("labels") if targets.get("labels") is not None else range(len(corners)))
            if len(labels) != len(corners):
                raise ValueError(f"{len(labels)} labels for {len(corners)} boxes")
            per_box = keypoints is not None and keypoints.ndim == 3
            for i, (corner, label) in enumerate(zip(corners, labels, strict=True)):
                points = _as_triples(keypoints[i]) if per_box else ()
                found.boxes.append(Box(*map(float, corner), label, extra={"index": i}, keypoints=points))
            standalone = None if per_box else keypoints
        else:
            standalone = keypoints
        if targets.get("mask") is not None:
            values = np.asarray(targets["mask"])
            if values.shape != (height, width):
                raise ValueError(f"the mask is {values.shape}, the image {(height, width)}: they must match")
            found.mask = masks.Mask(values, "L" if values.dtype == np.uint8 else "I;16", None)
    given = targets.get("partners")
    drawn = None if given is None else GivenPartners(section, [_partner(item, box_format) for item in given])
    own = None if targets.get("label") is None else str(targets["label"])  # the class, for soft labels
    copy = (
        augment_pixels(section, pixels, rng, found, drawn, own)
        if records is None
        else replay_pixels(section, pixels, records, found, drawn, own)
    )
    out_height, out_width = copy.pixels.shape[:2]
    result = _augmented(Image.fromarray(copy.pixels) if is_pil else copy.pixels, copy.records)
    result.shares = copy.shares
    if found is None:
        return result
    if targets.get("boxes") is not None:
        corners = np.array([[b.x0, b.y0, b.x1, b.y1] for b in copy.boxes], dtype=np.float64).reshape(-1, 4)
        result.boxes = _boxes_out(corners, box_format, out_width, out_height)
        result.labels = [b.label for b in copy.boxes]
        if keypoints is not None and standalone is None:
            result.keypoints = (
                np.stack([_triples_out(b.keypoints, dims) for b in copy.boxes])
                if copy.boxes
                else (np.zeros((0, keypoints.shape[1], dims)))
            )
    if standalone is not None:
        steps = copy.applied
        moved = move_points(_as_triples(standalone), steps, layout_of(section).flip_idx)
        result.keypoints = _triples_out(moved, dims)
    result.mask = copy.mask
    return result


def _partner(item: Any, box_format: str) -> Any:
    """A partner for the mixing steps: an image (array or PIL), or a dict with its `image` and its
    `boxes`, `labels` (`box_format` as the sample's), `mask` and `label` (its class, for soft labels)."""
    from PIL import Image

    from augcli.image import io
    from augcli.image.labels.shapes import Box
    from augcli.image.mix.transforms import Picture

    entry = item if isinstance(item, dict) else {"image": item}
    unknown = set(entry) - {"image", "boxes", "labels", "mask", "label"}
    if unknown or "image" not in entry:
        raise TypeError(f"a partner is an image or a dict of image, boxes, labels, mask, label; got {sorted(entry)}")
    image = entry["image"]
    pixels = io.to_array(image)[0] if isinstance(image, Image.Image) else np.ascontiguousarray(image)
    height, width = pixels.shape[:2]
    picture = Picture(pixels)
    if entry.get("boxes") is not None:
        corners = _boxes_in(entry["boxes"], box_format, width, height)
        labels = list(entry.get("labels") if entry.get("labels") is not None else range(len(corners)))
        picture.boxes = [Box(*map(float, c), label) for c, label in zip(corners, labels, strict=True)]
    if entry.get("mask") is not None:
        picture.mask = np.asarray(entry["mask"])
    if entry.get("label") is not None:
        picture.shares = {str(entry["label"]): 1.0}
    return picture


# --- audio ---------------------------------------------------------------------------------------


def audio(section: Section, sample: Any, rng: Any, records: list | None, targets: dict[str, Any]) -> Augmented:
    """Float samples, (frames,) or (channels, frames), at `sample_rate=`."""
    from augcli.audio.modality import augment_audio, replay_audio

    unknown = set(targets) - {"sample_rate"}
    if unknown or "sample_rate" not in targets:
        raise TypeError("audio takes sample_rate= (and no other target)")
    samples = np.asarray(sample, dtype=np.float32)
    mono = samples.ndim == 1
    samples = samples.reshape(1, -1) if mono else samples
    rate = int(targets["sample_rate"])
    if records is None:
        out, done = augment_audio(section, samples, rate, rng)
    else:
        out, done = replay_audio(section, samples, rate, records)
    out = np.asarray(out, dtype=np.float32)
    return _augmented(out.reshape(-1) if mono and out.shape[0] == 1 else out, done)


# --- text ----------------------------------------------------------------------------------------


def text(section: Section, sample: Any, rng: Any, records: list | None, targets: dict[str, Any]) -> Augmented:
    """A string, or a list of strings (one batch: one copy of each)."""
    from augcli.text.modality import augment_texts, edit_texts, recorded_seeds, records_of

    if targets:
        raise TypeError(f"text takes no targets, got {sorted(targets)}")
    single = isinstance(sample, str)
    texts = [sample] if single else [str(t) for t in sample]
    if records is None:
        edited = augment_texts(section, texts, rng)
    else:
        (seed,) = recorded_seeds(records)
        edited = edit_texts(section, texts, seed)
    return _augmented(edited.texts[0] if single else edited.texts, records_of(section, [edited]))


# --- tables --------------------------------------------------------------------------------------


def tabular(section: Section, sample: Any, rng: Any, records: list | None, targets: dict[str, Any]) -> Augmented:
    """A DataFrame: one augmented variant of every row (row-level transforms; resampling is a
    whole-file step of `augcli run`)."""
    import pandas as pd

    from augcli.core.transforms import draw_seed
    from augcli.tabular import table

    if targets:
        raise TypeError(f"tabular takes no targets, got {sorted(targets)}")
    if not isinstance(sample, pd.DataFrame):
        raise TypeError(f"tabular takes a pandas DataFrame, got {type(sample).__name__}")
    if records is None:
        seed = draw_seed(rng)
    else:
        seeds = next((r["params"]["seeds"] for r in records if r.get("name") == "draws"), None)
        if not seeds:
            raise ReplayError("the records have no 'draws' entry with the seed to replay")
        seed = int(seeds[0])
    frame, done = table.augment_frame(sample, section, np.random.default_rng(seed))
    return _augmented(frame, [*done, {"name": "draws", "params": {"seeds": [seed]}}])
