"""An image's annotations through one copy: read them once, move them with the sampled steps,
write them in the input's format beside the copy.

Paths: `images`, the annotation path and the mask folder are relative to INPUT (a dataset's own
layout, e.g. images/, labels/, masks/). An image at images/train/a.jpg pairs with
labels/train/a.txt (YOLO), labels/train/a.xml (VOC), the COCO entry whose file_name is
train/a.jpg, and masks/train/a<suffix>.png. YOLO labels with no `path` follow ultralytics' own
rule: the last images/ folder of the image's path becomes labels/, the suffix .txt. Outputs
mirror that under OUTPUT.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from augcli.core.files import read_input
from augcli.core.modality import Written
from augcli.core.transforms import Applied
from augcli.core.words import plural
from augcli.image import functional as F
from augcli.image.labels import coco, dataset_yaml, masks, obb, shapes, voc, yolo
from augcli.image.labels.dataset_yaml import DatasetFile
from augcli.image.labels.shapes import Box
from augcli.image.ops import Kernel, Op, Warp, run_ops


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
    dataset: DatasetFile | None = None  # the ultralytics data.yaml, when `classes` is one
    flip_idx: tuple[int, ...] = ()  # which keypoint takes which one's place when a copy is mirrored
    passthrough: tuple[str, ...] = ()  # the section's passthrough globs (files copied untouched)

    @property
    def kpt_shape(self) -> tuple[int, int] | None:
        return self.dataset.kpt_shape if self.dataset is not None else None

    @property
    def ultralytics_rule(self) -> bool:
        """YOLO labels found the way ultralytics finds them (no labels folder named)."""
        return self.format in YOLO_FORMATS and self.labels is None

    @property
    def label_suffix(self) -> str | None:
        """The suffix of a label file of one image (None: COCO keeps them all in one json)."""
        return {"yolo": ".txt", "yolo_obb": ".txt", "dota": ".txt", "voc": ".xml"}.get(self.format)

    def key(self, relative: str) -> str | None:
        """The image's path relative to the images folder (None if it lies outside)."""
        if not self.images:
            return relative
        prefix = self.images.rstrip("/") + "/"
        return relative[len(prefix) :] if relative.startswith(prefix) else None

    def label_path(self, key: str) -> str | None:
        if self.ultralytics_rule:
            return ultralytics_label(f"{self.images.rstrip('/')}/{key}" if self.images else key)
        if self.label_suffix is not None and self.labels is not None:
            return str(PurePosixPath(self.labels) / PurePosixPath(key).with_suffix(self.label_suffix))
        return None

    def mask_folder_and_stem(self, key: str) -> tuple[str, str]:
        """With no `images` folder named, a mask pairs by ultralytics' rule: the path after the image's
        last images/ folder (images/train/a.jpg -> <masks>/train/a.png)."""
        if not self.images:
            key = ("/" + key).rpartition("/images/")[2].lstrip("/")
        path = PurePosixPath(self.masks or "") / PurePosixPath(key)
        return str(path.parent), path.stem + self.mask_suffix

    def mask_file(self, key: str) -> Path | None:
        """The input mask of the image with this key, if there is one."""
        if not self.masks:
            return None
        folder, stem = self.mask_folder_and_stem(key)
        return masks.find(self.input_root / folder, stem)

    @functools.cached_property
    def voc_sets(self) -> str | None:
        """VOC's ImageSets/Main folder, relative to INPUT: at the VOC root, the folder that holds the
        annotations folder (Annotations/) or, failing that, the images folder (JPEGImages/)."""
        if self.format != "voc":
            return None
        for folder in (self.labels, self.images):
            parent = PurePosixPath(folder or "").parent if folder else None
            if parent is not None:
                sets = (parent / "ImageSets" / "Main").as_posix().removeprefix("./")
                if (self.input_root / sets).is_dir():
                    return sets
        return None

    @functools.cached_property
    def voc_other_sets(self) -> tuple[str, ...]:
        """VOC's ImageSets/Segmentation and ImageSets/Layout folders beside ImageSets/Main (or where
        it would be), relative to INPUT: carried over as Main is, for the loaders that read them
        (torchvision's VOCSegmentation reads ImageSets/Segmentation)."""
        if self.format != "voc":
            return ()
        for folder in (self.labels, self.images):
            parent = PurePosixPath(folder or "").parent if folder else None
            if parent is None:
                continue
            found = tuple(
                sets
                for kind in ("Segmentation", "Layout")
                if (self.input_root / (sets := (parent / "ImageSets" / kind).as_posix().removeprefix("./"))).is_dir()
            )
            if found:
                return found
        return ()

    @property
    def lists(self) -> tuple[str, ...]:
        """The image lists data.yaml names as splits (train.txt), relative to INPUT."""
        return tuple(self.dataset.lists) if self.dataset is not None else ()

    def keeps_entries(self) -> bool:
        """Whether each output records an entry for the run-wide files (COCO json, VOC sets, image lists)."""
        return self.format == "coco" or self.voc_sets is not None or bool(self.voc_other_sets or self.lists)

    def reserved(self) -> list[str]:
        """Paths under INPUT that hold annotations, not samples: no section claims them."""
        return [
            p for p in (self.labels, self.masks, self.classes, self.voc_sets, *self.voc_other_sets, *self.lists) if p
        ]


YOLO_FORMATS = ("yolo", "yolo_obb")  # label files found by ultralytics' rule, classes by number


def ultralytics_label(relative: str) -> str:
    """images/train/a.jpg -> labels/train/a.txt: the last images/ folder becomes labels/ (a label
    sits beside its image when the path has no images/ folder)."""
    head, found, tail = ("/" + relative).rpartition("/images/")
    path = f"{head}/labels/{tail}" if found else "/" + relative
    return str(PurePosixPath(path.lstrip("/")).with_suffix(".txt"))


@dataclass
class Annotations:
    """What one image carries into its copies."""

    boxes: list[Box] = field(default_factory=list)
    mask: masks.Mask | None = None
    voc_tree: Any = None
    coco_image: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    key: str = ""  # the image's path relative to the images folder (its COCO file_name, its VOC id + suffix)


def read(layout: Layout, relative: str, size: tuple[int, int]) -> Annotations:
    key = layout.key(relative)
    found = Annotations()
    if key is None:
        return found
    found.key = key
    width, height = size
    if layout.format == "yolo":
        found.boxes, found.warnings = yolo.read(
            layout.input_root / layout.label_path(key), width, height, layout.class_count, layout.kpt_shape
        )
    elif layout.format == "voc":
        found.boxes, found.voc_tree = voc.read(layout.input_root / layout.label_path(key))
    elif layout.format == "yolo_obb":
        path = layout.input_root / layout.label_path(key)
        found.boxes, found.warnings = obb.read_yolo(path, width, height, layout.class_count)
    elif layout.format == "dota":
        found.boxes, found.warnings = obb.read_dota(layout.input_root / layout.label_path(key))
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
            moved = [shapes.move(box, matrix, size, layout.from_polygons, layout.flip_idx) for box in moved]
    return [box for box in moved if shapes.keep(box, layout.min_visibility, layout.min_size)]


def move_points(
    points: tuple[tuple[float, float, int], ...], steps: list[Applied], flip_idx: tuple[int, ...]
) -> tuple[tuple[float, float, int], ...]:
    """Keypoints that belong to no box through every geometric step of a copy."""
    for step in steps:
        if _is_geometric(step):
            matrix, size = step.transform.geometry(step.info, **step.params)
            points = shapes.move_keypoints(points, matrix, size, flip_idx)
    return points


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
        dims = layout.kpt_shape[1] if layout.kpt_shape else None
        written.files.append((layout.label_path(key), yolo.write(boxes, width, height, dims)))
    elif layout.format == "voc":
        data = voc.write(found.voc_tree, boxes, width, height, PurePosixPath(output_relative).name)
        written.files.append((layout.label_path(key), data))
    elif layout.format == "yolo_obb":
        written.files.append((layout.label_path(key), obb.write_yolo(boxes, width, height)))
    elif layout.format == "dota":
        header = obb.headers(layout.input_root / layout.label_path(found.key)) if found.key else []
        written.files.append((layout.label_path(key), obb.write_dota(boxes, width, height, header)))
    if layout.format == "coco":
        written.run_entry = coco.entry(found.key, key, width, height, boxes, found.coco_image)
    elif layout.keeps_entries():
        written.run_entry = {"source": found.key, "original": False}
        if layout.voc_sets is not None:
            written.run_entry["objects"] = voc.objects(found.voc_tree, boxes)
    if mask is not None and found.mask is not None:
        folder, stem = layout.mask_folder_and_stem(key)
        written.files.append((str(PurePosixPath(folder) / f"{stem}.png"), masks.encode(mask, found.mask)))
    return written


def label_names(layout: Layout) -> dict[Any, str]:
    """Each box label's class name, as class_names_of names them (a label not listed: its text)."""
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        return {c.get("id"): str(c.get("name", c.get("id"))) for c in dataset.head.get("categories", [])}
    names = layout.dataset.names if layout.dataset is not None and layout.format in YOLO_FORMATS else ()
    return dict(enumerate(names))


def class_names_of(layout: Layout, relative: str) -> list[str]:
    """The class of every object of one image (a class once per object), without decoding it."""
    key = layout.key(relative)
    if key is None:
        return []
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        image = dataset.by_file.get(key)
        names = {c.get("id"): str(c.get("name", c.get("id"))) for c in dataset.head.get("categories", [])}
        annotations = dataset.annotations.get(image["id"], []) if image is not None else []
        return [names.get(a.get("category_id"), str(a.get("category_id"))) for a in annotations]
    path = layout.input_root / (layout.label_path(key) or "")
    if not path.is_file():
        return []
    if layout.format == "voc":
        _, tree = voc.read(path)
        return [node.findtext("name") or "" for node in tree.getroot().findall("object")] if tree else []
    if layout.format == "dota":
        return obb.class_ids(read_input(path).decode("utf-8-sig", errors="replace"), dota=True)
    names = layout.dataset.names if layout.dataset is not None else ()
    text = read_input(path).decode("utf-8-sig", errors="replace")
    ids = [line.split()[0] for line in text.splitlines() if line.strip()]
    return [names[int(i)] if i.isdigit() and int(i) < len(names) else i for i in ids]


def _class_names(layout: Layout, relative: str) -> set[str]:
    """The classes of one image's objects, read without decoding the image."""
    return set(class_names_of(layout, relative))


def rarest_classes(layout: Layout, relatives: list[str]) -> dict[str, str]:
    """Each image's rarest class (the one fewest images hold), so balancing copies the images that
    carry rare objects; an image without objects is "(no objects)"."""
    held = {relative: _class_names(layout, relative) for relative in relatives}
    frequency: dict[str, int] = {}
    for names in held.values():
        for name in names:
            frequency[name] = frequency.get(name, 0) + 1
    return {
        relative: min(names, key=lambda n: (frequency[n], n)) if names else "(no objects)"
        for relative, names in held.items()
    }


def _stem(relative: str) -> str:
    return str(PurePosixPath(relative).with_suffix(""))


def _label_roots(layout: Layout, claimed: list[str]) -> list[str]:
    """The folders under INPUT that hold this layout's label files."""
    if layout.label_suffix is None:
        return []
    if not layout.ultralytics_rule:
        return [layout.labels] if layout.labels else []
    roots = set()
    for relative in claimed:
        label = layout.label_path(layout.key(relative) or "")
        head, found, _ = ("/" + (label or "")).rpartition("/labels/")
        if found:
            roots.add((head + "/labels").lstrip("/"))
    return sorted(roots)


def _misplaced_labels(layout: Layout, unlabeled: list[str], expected: set[str]) -> dict[str, str]:
    """Label files anywhere under INPUT named like an image that has none: image -> that file (of
    several, the one whose folders match the image's most closely)."""
    suffix = layout.label_suffix or ""
    by_stem: dict[str, list[str]] = {}
    for image in unlabeled:
        by_stem.setdefault(PurePosixPath(image).stem, []).append(image)
    best: dict[str, tuple[int, str]] = {}
    for path in layout.input_root.rglob(f"*{suffix}"):
        relative = path.relative_to(layout.input_root).as_posix()
        if relative in expected:
            continue
        for image in by_stem.get(path.stem, []):
            shared = 0
            for a, b in zip(reversed(image.split("/")[:-1]), reversed(relative.split("/")[:-1]), strict=False):
                if a != b:
                    break
                shared += 1
            if image not in best or (-shared, relative) < (-best[image][0], best[image][1]):
                best[image] = (shared, relative)
    return {image: best[image][1] for image in sorted(best)}


def _layout_hint(layout: Layout, image: str, label: str) -> str:
    """What to write so that `image` pairs with `label`."""
    if layout.labels and label.startswith(layout.labels.rstrip("/") + "/"):
        inner = _stem(label[len(layout.labels.rstrip("/")) + 1 :])
        stem = _stem(image)
        if stem.endswith("/" + inner):
            return f"set images: {stem[: -len(inner) - 1]} (the folder the label paths mirror)"
    return (
        "name both sides: 'images:' (the folder that image paths start from) and 'annotations.path:' (the labels "
        "folder), or use ultralytics' layout (images/... beside labels/...) and leave 'path' out"
    )


def check_pairing(layout: Layout, claimed: list[str]) -> list[str]:
    """Warnings for annotation files and masks whose image is not among the claimed files; raise
    ValueError when the layout is probably wrong (most images without labels while label files
    pair with nothing: the run would write copies with empty labels)."""
    stems: dict[str, str] = {}
    for relative in claimed:
        key = layout.key(relative)
        if key is None:
            continue
        other = stems.setdefault(_stem(key), relative)
        if other != relative:
            raise ValueError(f"{other} and {relative} share a stem: their labels and masks would be the same files")
    keys = set(stems)
    inside = [r for r in claimed if layout.key(r) is not None]
    warnings = []
    if layout.label_suffix is not None:
        suffix = layout.label_suffix
        expected = {layout.label_path(layout.key(r)): r for r in inside}
        unlabeled = [image for label, image in expected.items() if not (layout.input_root / label).is_file()]
        lonely = sorted(
            p.relative_to(layout.input_root).as_posix()
            for root in _label_roots(layout, claimed)
            for p in (layout.input_root / root).rglob(f"*{suffix}")
            if p.relative_to(layout.input_root).as_posix() not in expected
        )
        if claimed and len(unlabeled) * 2 > len(claimed):
            misplaced = _misplaced_labels(layout, unlabeled, set(expected))
            if misplaced or lonely:
                image, label = next(iter(misplaced.items())) if misplaced else (unlabeled[0], lonely[0])
                raise ValueError(
                    f"{len(unlabeled)} of {len(claimed)} images have no {layout.format} label file while label files "
                    f"pair with no image: e.g. {image} looks for {layout.label_path(layout.key(image))}, but {label} "
                    f"exists. The copies would have empty labels; {_layout_hint(layout, image, label)}"
                )
        if lonely:
            have = "has" if len(lonely) == 1 else "have"
            warnings.append(f"{plural(len(lonely), 'label file')} {have} no image, e.g. {lonely[0]}")
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        if dataset.stray:
            warnings.append(
                f"{layout.labels}: {plural(len(dataset.stray), 'annotation')} "
                f"{'names an image' if len(dataset.stray) == 1 else 'name images'} it does not list "
                f"(skipped), e.g. id {dataset.stray[0]}"
            )
        named = set(dataset.by_file)
        absent = sorted(name for name in named if _stem(name) not in keys)
        unlabeled = [r for r in inside if layout.key(r) not in named]
        if absent and claimed and len(unlabeled) * 2 > len(claimed):
            raise ValueError(
                f"{len(unlabeled)} of {len(claimed)} images are not in {layout.labels}, which lists images that are "
                f"not under INPUT: e.g. {unlabeled[0]} looks for file_name {layout.key(unlabeled[0])}, but the file "
                f"lists {absent[0]}. Set 'images:' to the folder that COCO file names start from"
            )
        if absent:
            are = "is" if len(absent) == 1 else "are"
            warnings.append(
                f"{layout.labels} lists {plural(len(absent), 'image')} that {are} not under INPUT, e.g. {absent[0]}"
            )
    warnings += _listed_leaks(layout, inside)
    if layout.masks:
        expected_masks = {"/".join(layout.mask_folder_and_stem(layout.key(r))).lstrip("/") for r in inside}
        lonely = [
            p.relative_to(layout.input_root).as_posix()
            for p in sorted((layout.input_root / layout.masks).rglob("*"))
            if p.suffix.lower() in masks.SUFFIXES
            and p.relative_to(layout.input_root).with_suffix("").as_posix() not in expected_masks
            and p.is_file()
        ]
        if lonely:
            have = "has" if len(lonely) == 1 else "have"
            warnings.append(f"{plural(len(lonely), 'mask')} {have} no image, e.g. {lonely[0]}")
    return warnings


def _listed_leaks(layout: Layout, claimed: list[str]) -> list[str]:
    """The leak warning for image-list splits (`val: val.txt`): the planner's covers split folders."""
    from augcli.core.globs import tail_matches

    if layout.dataset is None:
        return []
    warnings = []
    for split in ("val", "test", "minival"):
        members = layout.dataset.listed.get(split, frozenset())
        augmented = [r for r in claimed if r in members and not tail_matches(r, layout.passthrough)]
        if augmented:
            lists = ", ".join(f for f in layout.dataset.entries.get(split, ()) if f in layout.dataset.lists)
            shown = ", ".join(f'"{r}"' for r in augmented[:3]) + (", ..." if len(augmented) > 3 else "")
            warnings.append(
                f"data.yaml names {lists} as the {split} split, but the recipe augments {len(augmented)} of the "
                f"images it lists (e.g. {augmented[0]}): evaluation data would leak augmented copies. Add "
                f"passthrough: [{shown}] (or globs that match them) to the section to carry them over untouched"
            )
    return warnings


def check_claims(input_root: Path, claimed: list[str], masks_named: bool) -> list[str]:
    """Refuse pictures that sit in a labels/ or masks/ folder beside an images/ folder (they are
    annotations: augmenting them with draws of their own breaks the pairs); warn about a masks/
    folder beside images/ that the section does not name."""
    sibling_masks: set[str] = set()
    folders: dict[tuple[str, ...], bool] = {}  # one stat per folder, not one per file

    def is_folder(*parts: str) -> bool:
        if parts not in folders:
            folders[parts] = input_root.joinpath(*parts).is_dir()
        return folders[parts]

    for relative in claimed:
        parts = relative.split("/")[:-1]
        for i, part in enumerate(parts):
            if part.lower() in ("labels", "masks") and is_folder(*parts[:i], "images"):
                folder = "/".join(parts[: i + 1])
                key = "masks: {path: " + folder + "}" if part.lower() == "masks" else "annotations: {format: ...}"
                raise ValueError(
                    f"{relative} would be augmented as a picture, but it sits in {folder}/ beside "
                    f"{'/'.join([*parts[:i], 'images'])}/: it is an annotation. Add {key} to the image section so it "
                    f'moves with its image, or exclude: ["{folder}/**"] to leave it out'
                )
            if part.lower() == "images" and is_folder(*parts[:i], "masks"):
                sibling_masks.add("/".join([*parts[:i], "masks"]))
    if masks_named:
        return []
    return [
        f"{folder}/ beside the images is not used: add masks: {{path: {folder}}} to the image section to move "
        "the masks with their images"
        for folder in sorted(sibling_masks)
    ]


def planned(layout: Layout, relative: str, output_relative: str, is_copy: bool) -> list[str]:
    """The files `write` (a copy) or `original` will write with one output, named before it is made."""
    key = layout.key(relative)
    if key is None:
        return []
    paths = []
    if is_copy:
        out_key = layout.key(output_relative)
        if out_key is None:
            return []
        if layout.label_suffix is not None and layout.label_path(out_key) is not None:
            paths.append(layout.label_path(out_key))
        if layout.mask_file(key) is not None:
            folder, stem = layout.mask_folder_and_stem(out_key)
            paths.append(str(PurePosixPath(folder) / f"{stem}.png"))
        return paths
    label = layout.label_path(key)
    if label is not None and (layout.input_root / label).exists():
        paths.append(label)
    mask = layout.mask_file(key)
    if mask is not None:
        paths.append(mask.relative_to(layout.input_root).as_posix())
    return paths


def original(layout: Layout, relative: str, output_relative: str) -> Written:
    """An original's annotation files, copied byte for byte, and its COCO entry."""
    written = Written()
    key = layout.key(relative)
    if key is None:
        return written
    label = layout.label_path(key)
    if label is not None and (layout.input_root / label).exists():
        written.files.append((label, read_input(layout.input_root / label)))
    mask = layout.mask_file(key)
    if mask is not None:
        written.files.append((mask.relative_to(layout.input_root).as_posix(), read_input(mask)))
    if layout.format == "coco":
        dataset = coco.load(str(layout.input_root / layout.labels))
        if key in dataset.by_file:
            coco.boxes_of(dataset, key)  # a bad annotation fails the original too
            written.run_entry = coco.original_entry(key)
    elif layout.keeps_entries():
        written.run_entry = coco.original_entry(key)
    return written


def finish(layout: Layout, entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
    """The run-wide files, from every output's entry (output path, entry): data.yaml and its image
    lists, the class list, the COCO json, VOC's ImageSets/Main lists."""
    mine = [(path, item) for path, item in entries if isinstance(item, dict) and isinstance(item.get("source"), str)]
    files = []
    if layout.dataset is not None:  # data.yaml, pointing at OUTPUT
        files.append((layout.classes, dataset_yaml.rewrite(layout.input_root, layout.dataset)))
        if layout.lists:
            outputs: dict[str, list[str]] = {}
            prefix = layout.images.rstrip("/") + "/" if layout.images else ""
            for path, item in sorted(mine, key=lambda e: (not e[1].get("original"), e[0])):
                outputs.setdefault(prefix + item["source"], []).append(path)
            for relative in layout.lists:
                files.append((relative, dataset_yaml.rewrite_list(layout.dataset, relative, outputs)))
    elif layout.classes is not None:  # the output dataset needs its class list too
        files.append((layout.classes, read_input(layout.input_root / layout.classes)))
    if layout.format == "coco":
        files.append((layout.labels, coco.assemble(coco.load(str(layout.input_root / layout.labels)), mine)))
    if layout.voc_sets is not None:
        outputs_by_id = [(layout.key(path), item) for path, item in mine]
        sets = voc.image_sets(layout.input_root / layout.voc_sets, [(k, i) for k, i in outputs_by_id if k is not None])
        files += [(f"{layout.voc_sets}/{name}", data) for name, data in sets]
    for folder in layout.voc_other_sets:
        # a copy is listed where it carries what the list is for: a segmentation list when masks
        # travel with the copies; a person-layout list (parts by object index) never
        copies = folder.endswith("/Segmentation") and layout.masks is not None
        outputs_by_id = [(layout.key(path), item) for path, item in mine if copies or item.get("original")]
        sets = voc.image_sets(layout.input_root / folder, [(k, i) for k, i in outputs_by_id if k is not None])
        files += [(f"{folder}/{name}", data) for name, data in sets]
    return files
