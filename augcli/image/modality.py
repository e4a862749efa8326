"""The image modality: decode once, plan and run each copy's transforms, encode.

With `annotations:` and/or `masks:`, every copy's boxes and masks move with its pixels (see
image/labels/): the same sampled parameters, one geometric step at a time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.core.errors import InputError
from augcli.core.globs import claims, tail_matches
from augcli.core.modality import FileModality, Prepared, Rendered, Written
from augcli.core.params import Choice, Flag, Indices, Number, Options, Text
from augcli.core.transforms import (
    Applied,
    ReplayError,
    Transform,
    draw_seed,
    first_problem,
    is_whole,
    leaves,
    plan_pipeline,
    records_of,
    replay_pipeline,
)
from augcli.image import io, policies, soft_labels
from augcli.image import transforms as image_transforms
from augcli.image.labels import coco, companions, dataset_yaml, yolo
from augcli.image.labels.companions import Annotations, Layout
from augcli.image.labels.shapes import Box
from augcli.image.mix import transforms as mix_transforms
from augcli.image.mix.transforms import Mixing, Partner, Picture, Rules
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo

if TYPE_CHECKING:
    from augcli.core.recipe import Section

OBJECT_BALANCE = "object_balance"  # the record of the objects `balance: {by: object}` pasted into a copy
CROPPING = (image_transforms.RandomResizedCrop, image_transforms.Crop, image_transforms.CenterCrop)


def _check_output_size(applied: list[Applied], out: ImageInfo | None = None) -> None:
    """Refuse a copy larger than Pillow's decompression-bomb limit before a pixel is allocated
    (an input's size can make a safe-looking recipe produce one, e.g. shorter_side on a panorama).
    `out`: the copy's size when the plan already knows it."""
    if not applied:
        return
    if out is None:
        last = applied[-1]
        out = last.transform.output_info(last.info, last.params)
    limit = io.Image.MAX_IMAGE_PIXELS
    if limit and out.width * out.height > limit:
        raise io.UnsupportedImage(
            f"this copy would be {out.width}x{out.height} pixels ({out.width * out.height:,}), over the "
            f"{limit:,}-pixel limit: lower the output size"
        )


def _mirrors(transforms: list[Transform]) -> bool:
    """Whether any step of the recipe can mirror a copy (left and right keypoints trade places)."""
    for transform in transforms:
        if transform.name in ("hflip", "vflip", "transpose") or _mirrors(getattr(transform, "children", [])):
            return True
    return False


class ImageModality(FileModality):
    name = "image"
    default_include = ("*.jpg", "*.jpeg", "*.png", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.gif")
    options = {
        "output": Options(
            {
                "format": Choice("same", ["same", "jpeg", "png", "webp"], "output format; same keeps the input's"),
                "quality": Number(95, "JPEG / WebP quality", integer=True, lo=1, hi=100),
                "png_compress_level": Number(1, "PNG zlib level (0 none, 9 smallest)", integer=True, lo=0, hi=9),
                "webp_lossless": Flag(False, "write lossless WebP"),
            },
            "how augmented copies are written",
        ),
        "images": Text("", "folder under INPUT that labels and masks pair against (e.g. images)", empty_ok=True),
        "annotations": Options(
            {
                "format": Choice(
                    "none",
                    ["none", "yolo", "coco", "voc", "yolo_obb", "dota"],
                    "box format (yolo_obb, dota: oriented boxes)",
                ),
                "path": Text(
                    None,
                    "labels folder (voc; yolo without it: ultralytics' rule, images/ -> labels/) or COCO json, "
                    "relative to INPUT",
                ),
                "classes": Text(
                    None, "yolo: data.yaml (default: INPUT's, if any) or classes.txt listing the classes, under INPUT"
                ),
            },
            "bounding boxes that move with their image",
        ),
        "masks": Options(
            {
                "path": Text(None, "folder of segmentation masks, relative to INPUT"),
                "suffix": Text("", "what follows the image's stem in a mask's name (e.g. _mask)", empty_ok=True),
                "erase_value": Number(
                    None,
                    "random_erasing / cutout write this class (ignore_index) into the mask",
                    integer=True,
                    lo=0,
                    hi=65535,
                ),
            },
            "segmentation masks that move with their image (written as PNG)",
        ),
        "keypoints": Options(
            {
                "flip_idx": Indices(
                    None,
                    "which keypoint takes each one's place in a mirrored copy (default: data.yaml's flip_idx, "
                    "or COCO's left_/right_ keypoint names)",
                ),
            },
            "pose keypoints (COCO keypoints, YOLO pose labels) that move with their image",
        ),
        "boxes": Options(
            {
                "min_visibility": Number(
                    0.0, "drop a box when less than this share of it stays in the picture", lo=0.0, hi=1.0
                ),
                "min_size": Number(1.0, "drop a box narrower or lower than this, pixels", lo=0.0),
                "from": Choice(
                    "corners", ["corners", "polygons"], "a moved box: tight box of its corners, or of its COCO polygons"
                ),
                "max_tries": Number(
                    1, "draw a copy again (up to this often) when a crop dropped every box", integer=True, lo=1, hi=100
                ),
                "bbox_safe": Flag(False, "if every try dropped all boxes, make the copy without its crops"),
            },
            "what happens to boxes in a copy",
        ),
    }

    def worker_init(self) -> None:
        """One process per core already: OpenCV's own threads would only contend."""
        import cv2

        cv2.setNumThreads(1)

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        annotations, problems = options["annotations"], []
        if annotations["format"] in ("coco", "voc", "dota") and annotations["path"] is None:
            what = "the COCO json" if annotations["format"] == "coco" else "the labels folder"
            problems.append(("annotations", f"format {annotations['format']} needs 'path' ({what}), relative to INPUT"))
        if annotations["format"] == "none" and annotations["path"] is not None:
            problems.append(("annotations", "give the 'format' of the labels: yolo, coco or voc"))
        if annotations["classes"] is not None and annotations["format"] not in ("yolo", "yolo_obb"):
            problems.append(("annotations", "'classes' is for yolo labels (COCO, VOC and DOTA name their classes)"))
        inside = (("images", options["images"]), ("annotations", annotations["path"]))
        inside += (("annotations", annotations["classes"]), ("masks", options["masks"]["path"]))
        for key, path in inside:
            if path and (PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts):
                problems.append(
                    (key, f"{path} must be a path inside INPUT, relative to it (outputs mirror it in OUTPUT)")
                )
        return problems + policies.augmix_target_problems(options, transforms)

    def prepare(self, section: Section, input_root: Path) -> Prepared:
        options = section.options
        section.bound["input_root"] = input_root
        annotations, mask_options, box_options = options["annotations"], options["masks"], options["boxes"]
        classes_file = annotations["classes"]
        if classes_file is None and annotations["format"] in ("yolo", "yolo_obb"):
            classes_file = dataset_yaml.find(input_root)
        dataset = None
        if classes_file is not None and PurePosixPath(classes_file).suffix.lower() in (".yaml", ".yml"):
            try:
                dataset = dataset_yaml.read(input_root, classes_file)
            except ValueError as exc:
                raise ValueError(f"image.annotations.classes: {exc}") from None
        splits = dataset.splits if dataset is not None else {}
        if annotations["format"] == "none" and mask_options["path"] is None:
            if any(leaf.name == "copy_paste" for leaf in leaves(section.transforms)):
                raise ValueError(
                    "image.transforms: copy_paste cuts objects out by their shape: give the section annotations "
                    "with polygons (COCO segmentation, YOLO segments) or masks (image.masks.path)"
                )
            return Prepared(splits=splits)
        for key, relative in (("annotations.path", annotations["path"]), ("masks.path", mask_options["path"])):
            if relative is not None and not (input_root / relative).exists():
                raise ValueError(f"image.{key}: {relative} not found under INPUT {input_root}")
        classes = dataset.class_count if dataset is not None else None
        if classes is None and classes_file is not None:
            try:
                classes = yolo.class_count(input_root / classes_file)
            except (OSError, ValueError) as exc:
                raise ValueError(f"image.annotations.classes: cannot read {classes_file}: {exc}") from None
        flip_idx = options["keypoints"]["flip_idx"]
        try:
            if flip_idx is not None:
                kpt_shape = dataset.kpt_shape if dataset is not None else None
                flip_idx = dataset_yaml.check_flip_idx(flip_idx, kpt_shape and kpt_shape[0], "keypoints.flip_idx")
            elif dataset is not None:
                flip_idx = dataset.flip_idx
            elif annotations["format"] == "coco" and annotations["path"] is not None:
                flip_idx = coco.flip_idx(coco.load(str(input_root / annotations["path"])))
        except ValueError as exc:
            raise ValueError(f"image.{exc}") from None
        layout = Layout(
            input_root,
            options["images"].strip("/"),
            annotations["format"],
            annotations["path"],
            classes,
            classes_file,
            mask_options["path"],
            mask_options["suffix"],
            mask_options["erase_value"],
            box_options["min_visibility"],
            box_options["min_size"],
            box_options["from"] == "polygons",
            dataset,
            tuple(flip_idx or ()),
            tuple(section.passthrough),
        )
        section.bound["layout"] = layout
        return Prepared(reserved=tuple(layout.reserved()), splits=splits)

    def review(self, section: Section, claimed: list[str]) -> list[str]:
        """Refuse layouts that would lose labels; warn about unused masks, orphans, unswapped keypoints."""
        layout: Layout | None = section.bound.get("layout")
        input_root = section.bound.get("input_root")
        warnings = companions.check_claims(input_root, claimed, layout is not None and bool(layout.masks))
        if layout is None:
            return warnings
        warnings += list(layout.dataset.warnings) if layout.dataset is not None else []
        warnings += companions.check_pairing(layout, claimed)
        has_keypoints = layout.kpt_shape is not None or (layout.format == "coco" and coco.has_keypoints(layout))
        if has_keypoints and not layout.flip_idx and _mirrors(section.transforms):
            warnings.append(
                "the recipe flips images but no flip_idx says which keypoints trade places (left eye <-> right "
                "eye): mirrored copies keep left labels on the right. Add flip_idx to data.yaml, or "
                "keypoints: {flip_idx: [...]} to the image section"
            )
        return warnings

    def classes_of(self, section: Section, relatives: list[str]) -> dict[str, str]:
        """With annotations, an image's class is its rarest object class; else its parent folder."""
        layout: Layout | None = section.bound.get("layout")
        if layout is None or layout.format == "none":
            return super().classes_of(section, relatives)
        return companions.rarest_classes(layout, relatives)

    def object_classes(self, section: Section, relatives: list[str]) -> dict[str, list[str]]:
        layout: Layout | None = section.bound.get("layout")
        if layout is None or layout.format == "none":
            return super().object_classes(section, relatives)
        return {relative: companions.class_names_of(layout, relative) for relative in relatives}

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return io.output_suffix(source_suffix, section.options["output"])

    def section_files(self, section: Section) -> list[str]:
        layout: Layout | None = section.bound.get("layout")
        named = []
        if layout is not None:
            named = [layout.classes, layout.labels if layout.format == "coco" else None]
        return super().section_files(section) + [str(layout.input_root / p) for p in named if p]

    def input_files(self, section: Section, relative: str) -> list[str]:
        layout: Layout | None = section.bound.get("layout")
        key = layout.key(relative) if layout is not None else None
        if key is None:
            return []
        label, mask = layout.label_path(key), layout.mask_file(key)
        return [str(p) for p in (label and layout.input_root / label, mask) if p]

    def original_settings(self, section: Section) -> Any:
        return {key: section.options[key] for key in ("images", "annotations", "masks")}

    def output_key(self, section: Section, suffix: str) -> dict[str, Any] | None:
        """JPEG and WebP copies depend on `quality`, WebP on `webp_lossless`, PNG on
        `png_compress_level`; `format` counts for all (its other options at their defaults)."""
        relevant = {".jpg": ("quality",), ".jpeg": ("quality",), ".webp": ("quality", "webp_lossless")}
        relevant[".png"] = ("png_compress_level",)
        chosen = section.options["output"]
        defaults = {key: param.default for key, param in self.options["output"].fields.items()}
        keep = ("format", *relevant.get(suffix, ()))
        return {key: chosen[key] if key in keep else defaults[key] for key in chosen}

    def key_version(self, section: Section) -> int:
        """2 for an annotated section: its outputs' entries now carry what the COCO json, VOC
        ImageSets and data.yaml lists keep of each original (made once again, then current)."""
        return 2 if section.bound.get("layout") is not None else 1

    def render(
        self,
        source: Path,
        section: Section,
        rngs: Iterable[np.random.Generator],
        partners: list[tuple[tuple[str, ...], ...]] | None = None,
        paste: list[tuple[str, ...]] | None = None,
    ) -> Iterator[Rendered]:
        """Decode once; per copy plan, warp and encode, one copy at a time (the caller writes each
        before the next is made, so memory does not grow with `copies`). With annotations, the
        copy's moved boxes and mask ride along in `extra` for companion_files to write.
        `partners`: per copy, the inputs each partner slot may take (mixing steps); `paste`: per
        copy, the classes whose objects `balance: {by: object}` pastes in."""
        mixing = bool(partners) or bool(paste)  # its partners may be its ring neighbours' too: kept at hand
        decoded, found = DecodedCache.of(section).get(self, source, section) if mixing else self._load(source, section)
        loader = PartnerLoader(self, section)
        own = loader.own_class(source)
        for index, rng in enumerate(rngs):
            slots = partners[index] if partners else ()
            drawn = PartnerSource(loader, section, slots)
            classes = paste[index] if paste else ()
            copy = augment_pixels(section, decoded.pixels, rng, found, drawn, own, classes)
            yield self._rendered(decoded, section, found, copy, tuple(drawn.visited))

    def replay(self, source: Path, section: Section, records: list[dict[str, Any]]) -> Rendered:
        """One copy made again from its manifest records, with no randomness (its partners are the
        recorded ones)."""
        decoded, found = self._load(source, section)
        loader = PartnerLoader(self, section)
        drawn = PartnerSource(loader, section, ())
        copy = replay_pixels(section, decoded.pixels, records, found, drawn, loader.own_class(source))
        return self._rendered(decoded, section, found, copy)

    @staticmethod
    def _load(source: Path, section: Section) -> tuple[io.Decoded, Annotations | None]:
        decoded = io.load(source)
        layout: Layout | None = section.bound.get("layout")
        if layout is None:
            return decoded, None
        height, width = decoded.pixels.shape[:2]
        return decoded, companions.read(layout, source.relative_to(layout.input_root).as_posix(), (width, height))

    @staticmethod
    def _rendered(
        decoded: io.Decoded, section: Section, found: Annotations | None, copy: ImageCopy, visited: tuple = ()
    ) -> Rendered:
        data, conversions = io.encode_noting(copy.pixels, decoded, section.options["output"])
        if found is None:
            extra = None if copy.shares is None else ("shares", copy.shares)
            return Rendered(data, copy.records, warnings=conversions, extra=extra, partners=visited)
        moved = ((copy.pixels.shape[1], copy.pixels.shape[0]), copy.boxes, copy.mask, found)
        return Rendered(data, copy.records, warnings=tuple(found.warnings) + conversions, extra=moved, partners=visited)

    def companion_paths(self, section: Section, relative: str, output: str, copy: int | None) -> list[str]:
        layout: Layout | None = section.bound.get("layout")
        return [] if layout is None else companions.planned(layout, relative, output, copy is not None)

    def companion_files(self, section: Section, source: Path, output: str, rendered: Rendered | None) -> Written | None:
        """The annotation files that go with one output image (an original when `rendered` is None)."""
        layout: Layout | None = section.bound.get("layout")
        if layout is None:
            if rendered is not None and rendered.extra is not None and rendered.extra[0] == "shares":
                return Written(run_entry={"shares": rendered.extra[1]})  # a mixed copy's soft label
            return None
        if rendered is not None:
            size, boxes, mask, found = rendered.extra
            return companions.write(layout, output, size, found, boxes, mask)
        return companions.original(layout, source.relative_to(layout.input_root).as_posix(), output)

    def finish(self, section: Section, entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
        """Files written once per run from every output's entry: data.yaml and its image lists, the
        class list, the COCO json, VOC's ImageSets/Main lists."""
        layout: Layout | None = section.bound.get("layout")
        if layout is None:
            return soft_labels.finish(entries)
        return companions.finish(layout, entries)


@dataclass
class ImageCopy:
    """One augmented image and what moved with it."""

    pixels: np.ndarray
    records: list[dict[str, Any]]
    boxes: list[Box] = field(default_factory=list)
    mask: np.ndarray | None = None
    applied: list[Applied] = field(default_factory=list)  # the steps, for keypoints of no box
    shares: dict[str, float] | None = None  # a mixed class-folder copy: each class's share (soft label)


def layout_of(section: Section) -> Layout:
    """The section's annotation settings: bound to INPUT by a run, or on their own (the Python API)."""
    layout = section.bound.get("layout")
    if layout is not None:
        return layout
    options = section.options
    return Layout(
        Path("."),
        erase_value=options["masks"]["erase_value"],
        min_visibility=options["boxes"]["min_visibility"],
        min_size=options["boxes"]["min_size"],
        from_polygons=options["boxes"]["from"] == "polygons",
        flip_idx=tuple(options["keypoints"]["flip_idx"] or ()),
    )


def augment_pixels(
    section: Section,
    pixels: np.ndarray,
    rng: np.random.Generator,
    found: Annotations | None = None,
    partners: PartnerSource | None = None,
    own_class: str | None = None,
    paste: tuple[str, ...] = (),
) -> ImageCopy:
    """One copy of decoded pixels (and of the boxes and mask in `found`): what `run` writes and what
    the Python API returns, by one code path. `partners` serve the mixing steps and the objects
    of `paste` classes (balance by object), pasted last."""
    info = ImageInfo.of(pixels)
    if found is None:
        applied, final = plan_pipeline(section.transforms, rng, info)
        return _apply(section, pixels, applied, None, [], partners, own_class, final)
    applied, notes = _plan_with_boxes(section, rng, info, layout_of(section), found)
    if paste:
        notes = [*notes, {"name": OBJECT_BALANCE, "params": {"classes": list(paste), "seed": draw_seed(rng)}}]
    return _apply(section, pixels, applied, found, notes, partners, own_class)


def replay_pixels(
    section: Section,
    pixels: np.ndarray,
    records: list[dict[str, Any]],
    found: Annotations | None = None,
    partners: PartnerSource | None = None,
    own_class: str | None = None,
) -> ImageCopy:
    """A copy rebuilt from its records: the recorded parameters (and partners), no randomness."""
    applied = replay_pipeline(section.transforms, records, ImageInfo.of(pixels))
    notes = [r for r in records if isinstance(r, dict) and r.get("name") in ("boxes", OBJECT_BALANCE)]
    why = first_problem(_balance_problem(section, note) for note in notes if note["name"] == OBJECT_BALANCE)
    if why is not None:
        raise ReplayError(f"the record of {OBJECT_BALANCE} is not one this recipe could have drawn: {why}")
    import cv2  # (loaded by the kernels already; the parent's planning does not import it)

    try:
        return _apply(section, pixels, applied, found, notes, partners, own_class)
    except cv2.error as exc:  # what replay_problem lets through and OpenCV still refuses
        raise ReplayError(f"OpenCV cannot replay these records: {exc.err or exc}") from None


def _balance_problem(section: Section, note: dict[str, Any]) -> str | None:
    """A `balance: {by: object}` note pastes one object per class it lists: distinct class names,
    of the dataset's classes where it names them, and a whole-number seed."""
    params = note.get("params")
    classes = params.get("classes") if isinstance(params, dict) else None
    if not isinstance(classes, list) or len(set(map(str, classes))) != len(classes):
        return "classes must be a list of distinct class names"
    known = set(companions.label_names(layout_of(section)).values()) if section.bound.get("layout") else set()
    unknown = next((c for c in classes if not isinstance(c, str) or (known and c not in known)), None)
    if unknown is not None:
        return f"class {unknown!r} is not one of the dataset's"
    return None if is_whole(params.get("seed")) else f"seed {params.get('seed')!r} is not a whole number"


def _apply(
    section: Section,
    pixels: np.ndarray,
    applied: list[Applied],
    found: Annotations | None,
    notes: list,
    partners: PartnerSource | None = None,
    own_class: str | None = None,
    final: ImageInfo | None = None,
) -> ImageCopy:
    _check_output_size(applied, final)
    if _mixes(applied) or any(n.get("name") == OBJECT_BALANCE for n in notes):
        return _apply_mixing(section, pixels, applied, found, notes, partners, own_class)
    out = run_ops(pixels, [a.transform.op(a.info, **a.params) for a in applied])
    records = records_of(section.transforms, applied) + notes
    if found is None:
        return ImageCopy(out, records, applied=applied)
    layout = layout_of(section)
    boxes = companions.move_boxes(layout, found.boxes, applied)
    mask = companions.move_mask(layout, found.mask.values, applied) if found.mask is not None else None
    return ImageCopy(out, records, boxes, mask, applied)


def _mixes(applied: list[Applied]) -> bool:
    """Whether a step of the copy mixes other pictures in (a class flag: this runs on every call)."""
    return any(step.transform.mixes for step in applied)


def _apply_mixing(
    section: Section,
    pixels: np.ndarray,
    applied: list[Applied],
    found: Annotations | None,
    notes: list,
    partners: PartnerSource | None,
    own_class: str | None,
) -> ImageCopy:
    """A copy whose chain mixes other pictures in: the ordinary steps between two mixing steps
    still run as one merged pass, and the targets follow each part."""
    if partners is None:
        raise TypeError("this recipe mixes pictures (mosaic, mixup, cutmix, copy_paste): pass partners=[...]")
    layout = layout_of(section)
    rules = Rules(layout.min_visibility, layout.min_size, layout.from_polygons, layout.flip_idx)
    picture = Picture(pixels, list(found.boxes) if found is not None else [])
    if found is not None and found.mask is not None:
        picture.mask = found.mask.values
    if found is None and own_class is not None:
        picture.shares = {own_class: 1.0}
    run: list[Applied] = []
    for step in [*applied, None]:
        if step is not None and not isinstance(step.transform, Mixing):
            run.append(step)
            continue
        if run:
            picture.pixels = run_ops(picture.pixels, [a.transform.op(a.info, **a.params) for a in run])
            if found is not None:
                picture.boxes = companions.move_boxes(layout, picture.boxes, run)
                if picture.mask is not None:
                    picture.mask = companions.move_mask(layout, picture.mask, run)
            run = []
        if step is not None:
            picture = step.transform.mix(picture, step.params, partners.taker(step), rules)
    balancing = [note for note in notes if note.get("name") == OBJECT_BALANCE and found is not None]
    names = companions.label_names(layout) if balancing else {}
    for note in balancing:  # balance by object: pasted last
        params = note["params"]
        picture, params["partners"] = mix_transforms.paste_objects(
            picture,
            list(params["classes"]),
            int(params["seed"]),
            partners.balance_taker(params),
            rules,
            lambda label: names.get(label, str(label)),
        )
    records = records_of(section.transforms, applied) + notes
    shares = None if found is not None or own_class is None else picture.shares
    return ImageCopy(picture.pixels, records, picture.boxes, picture.mask, applied, shares)


class DecodedCache:
    """Pictures one section decoded (with their annotations), kept across the jobs of a run up to
    a byte budget, least recently used out first: a worker that makes inputs in ring order meets
    the same partners again and again (see core/partners.py). It lives in the section's `bound`
    (one run: a later run, with other labels, starts empty), keyed by path and stat; a pickled
    copy (the recipe sent to a worker) starts empty too."""

    LIMIT = 256 << 20

    def __init__(self) -> None:
        self.items: OrderedDict[tuple, tuple[io.Decoded, Annotations | None, int]] = OrderedDict()
        self.size = 0

    def __reduce__(self):
        return (DecodedCache, ())

    @staticmethod
    def of(section: Section) -> DecodedCache:
        """The section's cache (made on first use)."""
        return section.bound.setdefault("decoded", DecodedCache())

    def get(self, modality: ImageModality, path: Path, section: Section) -> tuple[io.Decoded, Annotations | None]:
        info = path.stat()
        key = (str(path), info.st_mtime_ns, info.st_size, info.st_ino)
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
            return found[0], found[1]
        decoded, annotations = modality._load(path, section)
        size = decoded.pixels.nbytes + (annotations.mask.values.nbytes if annotations and annotations.mask else 0)
        self.items[key] = (decoded, annotations, size)
        self.size += size
        while self.size > self.LIMIT and len(self.items) > 1:
            _, (_, _, dropped) = self.items.popitem(last=False)
            self.size -= dropped
        return decoded, annotations


class PartnerLoader:
    """Reads partners (pixels and their targets) from INPUT for one section, through its
    DecodedCache."""

    def __init__(self, modality: ImageModality, section: Section) -> None:
        self.modality, self.section = modality, section
        self.root: Path | None = section.bound.get("input_root")

    def own_class(self, source: Path) -> str | None:
        """A class-folder input's class (its parent folder), for the soft labels of mixed copies."""
        if self.section.bound.get("layout") is not None or self.root is None:
            return None
        relative = source.relative_to(self.root).as_posix() if source.is_relative_to(self.root) else source.name
        return _folder_class(relative)

    def load(self, relative: str) -> Picture:
        parts = PurePosixPath(relative).parts
        if self.root is None or not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise InputError(f"partner {relative!r} is not a path under INPUT")
        if not claims(self.section, relative) or tail_matches(relative, self.section.passthrough):  # a record's
            raise InputError(f"partner {relative!r} is not an input this section augments")
        decoded, annotations = DecodedCache.of(self.section).get(self.modality, self.root / relative, self.section)
        picture = Picture(decoded.pixels)
        if annotations is not None:
            picture.boxes = list(annotations.boxes)
            picture.mask = annotations.mask.values if annotations.mask is not None else None
        else:
            picture.shares = {_folder_class(relative): 1.0}
        return picture


def _folder_class(relative: str) -> str:
    return relative.rpartition("/")[0].rpartition("/")[2] or "(top)"


class PartnerSource:
    """The partners of one copy: each slot's candidates tried in turn (a partner that cannot be
    read gives way to the next), or, in a replay, the partners its record names."""

    def __init__(self, loader: PartnerLoader, section: Section, slots: tuple[tuple[str, ...], ...]) -> None:
        self.loader, self.slots = loader, slots
        self.first_slot: dict[int, int] = {}
        count = 0
        for leaf in leaves(section.transforms):
            self.first_slot[id(leaf)] = count
            count += leaf.partner_slots()
        self.recipe_slots = count
        self.visited: list[tuple[int, str]] = []  # (slot, path) in the order tried: the state keeps it

    def balance_taker(self, params: dict[str, Any]):
        """The partners of `balance: {by: object}`'s pastes: the slots after the recipe's own."""
        recorded = params.get("partners")
        if isinstance(recorded, list):
            paths = [entry.get("path") if isinstance(entry, dict) else None for entry in recorded]
            return lambda k: self._recorded(paths, k)
        first = self.recipe_slots
        return lambda k: self._drawn(first + k, OBJECT_BALANCE)

    def taker(self, step: Applied):
        recorded = step.params.get("partners")
        if isinstance(recorded, list):  # a replay: the partners the copy took
            paths = [entry.get("path") if isinstance(entry, dict) else None for entry in recorded]
            return lambda k: self._recorded(paths, k)
        first = self.first_slot[id(step.transform)]
        return lambda k: self._drawn(first + k, step.transform.name)

    def _recorded(self, paths: list, k: int) -> Partner:
        if k >= len(paths) or not isinstance(paths[k], str):
            raise InputError(f"the record names no partner {k + 1}")
        return Partner(paths[k], self.loader.load(paths[k]))

    def _drawn(self, slot: int, name: str) -> Partner:
        candidates = self.slots[slot] if slot < len(self.slots) else ()
        reasons = []
        for relative in candidates:
            self.visited.append((slot, relative))
            try:
                return Partner(relative, self.loader.load(relative))
            except (InputError, OSError, ValueError) as exc:
                reasons.append(f"{relative}: {exc}")
        raise InputError(f"{name}: no partner could be read ({'; '.join(reasons) or 'none drawn'})")


class GivenPartners(PartnerSource):
    """Partners handed over by the Python API: the k-th slot of a copy takes the k-th of them (round
    the list when it is shorter); a record names them partners[k]."""

    def __init__(self, section: Section, pictures: list[Picture]) -> None:
        super().__init__(None, section, ())  # type: ignore[arg-type]
        if not pictures:
            raise ValueError("partners= is empty: give at least one picture to mix in")
        self.pictures = pictures

    def _picture(self, name: str) -> Partner:
        index = int(name.removeprefix("partners[").removesuffix("]")) if name.startswith("partners[") else -1
        if not 0 <= index < len(self.pictures):
            raise InputError(f"the record names partner {name!r}, but {len(self.pictures)} were given")
        return Partner(name, self.pictures[index])

    def _recorded(self, paths: list, k: int) -> Partner:
        if k >= len(paths) or not isinstance(paths[k], str):
            raise InputError(f"the record names no partner {k + 1}")
        return self._picture(paths[k])

    def _drawn(self, slot: int, name: str) -> Partner:
        return self._picture(f"partners[{slot % len(self.pictures)}]")


def _plan_with_boxes(
    section: Section, rng: np.random.Generator, info: ImageInfo, layout: Layout, found: Annotations
) -> tuple[list[Applied], list[dict[str, Any]]]:
    """Plan a copy; when a crop dropped every box, draw again (max_tries), then maybe drop the crops."""
    options = section.options["boxes"]
    for attempt in range(options["max_tries"]):
        applied, _ = plan_pipeline(section.transforms, rng, info)
        if not found.boxes or companions.move_boxes(layout, found.boxes, applied):
            return applied, [{"name": "boxes", "params": {"tries": attempt + 1}}] if attempt else []
    if options["bbox_safe"]:
        uncropped = [t for t in section.transforms if not isinstance(t, CROPPING)]
        applied, _ = plan_pipeline(uncropped, rng, info)
        return applied, [{"name": "boxes", "params": {"tries": options["max_tries"], "bbox_safe": True}}]
    return applied, [{"name": "boxes", "params": {"tries": options["max_tries"], "all_dropped": True}}]
