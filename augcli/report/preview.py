"""`augcli preview`: a few inputs per section and their copies, rendered exactly as `run` makes
them (same generators, same bytes), shown per modality. Nothing is written but the page."""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcli.build.plan import Job, Plan, split_of
from augcli.core.recipe import Recipe
from augcli.core.seeding import FileRngs, rng_for, stable_hash
from augcli.core.words import plural
from augcli.report import draw, plots
from augcli.report.textdiff import diff, operations
from augcli.storage.tree import write_file

TEXT_SAMPLES = 8  # lines (or rows) of a text file shown with their copies
TABLE_FEATURES = 8


@dataclass
class Cell:
    """One original or copy: its label, the bytes `run` writes, and what the page shows of it."""

    label: str
    data: bytes
    records: list[dict[str, Any]] = field(default_factory=list)
    image: str = ""  # data URI
    audio: str = ""
    plot: str = ""
    pixels: np.ndarray | None = None  # for the contact sheet

    @property
    def caption(self) -> str:
        return "; ".join(_describe(r) for r in self.records) or "untouched"


@dataclass
class Shown:
    """One chosen input and what the page shows of it."""

    source: str
    split: str
    cells: list[Cell] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)  # text: original and copies as diffs
    plots: list[str] = field(default_factory=list)  # tables
    notes: list[str] = field(default_factory=list)
    error: str = ""


def _describe(record: dict[str, Any]) -> str:
    params = record.get("params") or {}
    shown = ", ".join(f"{k} {_short(v)}" for k, v in params.items() if k != "seeds")
    return f"{record.get('name')}({shown})" if shown else str(record.get("name"))


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list) and len(value) > 4:
        return f"[{len(value)} values]"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def choose(jobs: list[Job], count: int, seed: int, splits: dict[str, tuple[str, ...]]) -> list[Job]:
    """`count` jobs by a seeded choice, spread over class folders and splits: one from each group in
    turn (groups and their members in a seeded order)."""
    rng = np.random.default_rng([seed, stable_hash("preview")])
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        key = (split_of(job.relative, splits), job.relative.rpartition("/")[0])
        groups.setdefault(key, []).append(job)
    order = [groups[key] for key in sorted(groups)]
    rng.shuffle(order)
    queues = [list(rng.permutation(len(members))) for members in order]
    chosen: list[Job] = []
    while len(chosen) < count and any(queues):
        for members, queue in zip(order, queues, strict=True):
            if queue and len(chosen) < count:
                chosen.append(members[queue.pop(0)])
    return sorted(chosen, key=lambda job: job.relative)


def build(plan: Plan, recipe: Recipe, files: int, copies: int, splits: dict[str, tuple[str, ...]]) -> list[dict]:
    """The page's sections: per modality, the chosen inputs with their originals and copies."""
    sections = []
    for name, section in recipe.sections.items():
        jobs = [job for job in plan.jobs if job.modality == name and not job.passthrough]
        shown = []
        for job in choose(jobs, files, recipe.seed, splits):
            item = Shown(job.relative, split_of(job.relative, splits))
            try:
                if name == "image":
                    _image(item, job, section, recipe, copies, plan.drawers.get(name))
                else:
                    SHOW[name](item, job, section, recipe, copies)
            except Exception as exc:  # one bad input shows its error; the page is still made
                item.error = str(exc) or type(exc).__name__
            shown.append(item)
        sections.append({"modality": name, "files": shown, "total": len(jobs)})
    return sections


# --- per modality ---------------------------------------------------------------------------------


def _image(item: Shown, job: Job, section: Any, recipe: Recipe, copies: int, drawer: Any = None) -> None:
    from augcli.image import io as image_io
    from augcli.image.modality import ImageModality

    modality = ImageModality()
    decoded, found = modality._load(job.source, section)
    ignore = section.options["masks"]["erase_value"]
    sides = keypoint_sides(section.bound.get("layout"))
    boxes = found.boxes if found else ()
    mask = found.mask.values if found and found.mask is not None else None
    classes = draw.mask_classes(mask, boxes, ignore)  # the original's: every copy keeps its colours
    keep_png = draw.has_alpha(decoded.pixels)
    original = draw.overlay(decoded.pixels, boxes, mask, ignore, classes, sides)
    item.cells.append(_picture("original", job.source.read_bytes(), [], original, keep_png))
    if any(side != "centre" for side in sides):
        item.notes.append(KEYPOINT_LEGEND)
    rngs = [rng_for(recipe.seed, job.relative, k) for k in range(copies)]
    mixing = _partners(drawer, job, copies)
    for k, rendered in enumerate(modality.render(job.source, section, rngs, **mixing)):
        pixels = image_io.load_bytes(rendered.data)
        boxes, mask = ((), None)
        if rendered.extra is not None and rendered.extra[0] != "shares":
            _, boxes, mask, _ = rendered.extra
        shown = draw.overlay(pixels, boxes, mask, ignore, draw.mask_classes(mask, boxes, ignore, classes), sides)
        label = f"copy {k}"
        used = list(dict.fromkeys(path for _, path in rendered.partners))
        if used:  # a mixed copy: which inputs it took in
            label += " with " + ", ".join(used)
        item.cells.append(_picture(label, rendered.data, rendered.records, shown, draw.has_alpha(pixels)))


def _partners(drawer: Any, job: Job, copies: int) -> dict[str, Any]:
    """The partners of a preview's copies, as a run draws them (the same for the run's copies)."""
    if drawer is None:
        return {}
    paste = {o.copy: o.paste for o in job.outputs if o.copy is not None}
    pastes = [paste.get(k, ()) for k in range(copies)]
    mixing: dict[str, Any] = {"partners": [drawer.draw(job.relative, k, pastes[k]) for k in range(copies)]}
    if any(pastes):
        mixing["paste"] = pastes
    return mixing


KEYPOINT_LEGEND = (
    "keypoints: white dots are left ones, black squares right ones (flip_idx pairs: the lower index, or "
    "the left_ name, is left), unpaired ones dots in the class colour. In a mirrored copy each marker "
    "should stay on its side of the body; dots and squares that traded sides mean flip_idx is wrong"
)


def keypoint_sides(layout: Any) -> tuple[str, ...]:
    """Left, right or centre for each keypoint index of an annotation layout (draw.keypoint_sides):
    by flip_idx, with COCO's keypoint names deciding which of a pair is left."""
    if layout is None:
        return ()
    names: list[str] = []
    if layout.format == "coco" and layout.labels:
        from augcli.image.labels import coco

        try:
            categories = coco.load(str(layout.input_root / layout.labels)).head.get("categories", [])
        except (OSError, ValueError):
            categories = []
        names = next(
            (list(map(str, c["keypoints"])) for c in categories if isinstance(c, dict) and c.get("keypoints")), []
        )
    return draw.keypoint_sides(layout.flip_idx, names)


def _picture(label: str, data: bytes, records: list, shown: np.ndarray, keep_png: bool = False) -> Cell:
    """A cell showing `shown` (already at its display size, draw.overlay): JPEG when it is a photograph."""
    small = draw.thumbnail(shown, 2 * draw.DISPLAY_WIDTH)
    return Cell(label, data, records, image=draw.picture_uri(small, keep_png), pixels=small)


def _audio(item: Shown, job: Job, section: Any, recipe: Recipe, copies: int) -> None:
    from augcli.audio import io as audio_io
    from augcli.audio.modality import AudioModality

    decoded = audio_io.load(job.source)
    item.cells.append(_sound("original", job.source.read_bytes(), [], decoded.samples, decoded.rate, job.source.suffix))
    rngs = [rng_for(recipe.seed, job.relative, k) for k in range(copies)]
    suffix = AudioModality().output_suffix(job.source.suffix, section)
    for k, rendered in enumerate(AudioModality().render(job.source, section, rngs)):
        copy = audio_io.load_bytes(rendered.data)
        item.cells.append(_sound(f"copy {k}", rendered.data, rendered.records, copy.samples, copy.rate, suffix))


MIME = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".mp3": "audio/mpeg"}


def _sound(label: str, data: bytes, records: list, samples: np.ndarray, rate: int, suffix: str) -> Cell:
    picture = plots.audio(samples, rate, label)
    cell = Cell(label, data, records, plot=draw.data_uri(picture, "image/png"))
    cell.audio = draw.data_uri(data, MIME.get(suffix.lower(), "audio/wav"))
    from PIL import Image

    cell.pixels = np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"))
    return cell


def _text(item: Shown, job: Job, section: Any, recipe: Recipe, copies: int) -> None:
    from augcli.text.modality import TextModality, records_of, vocabulary_line

    modality = TextModality()
    if job.table:
        _, cells, places = modality._read_table(job.source, section)
        texts = [cells[r][j] for r, j in places]
        rngs = FileRngs(recipe.seed, job.relative)
        # copy k of a table depends on k alone: the first `copies` of the run's, whatever its count
        parts = [modality.render_table_part(job.source, section, recipe.copies, rngs, k) for k in range(copies)]
        made = [part.edited.texts for part in parts]
        records = records_of(section, [part.edited for part in parts])
        item.notes.append(
            f"{plural(len(texts), 'text cell')}; {plural(copies, 'copy', 'copies')} of each, as the run writes them"
        )
    else:
        from augcli.core.textfile import decode, split_lines
        from augcli.text.io import ENCODING_HINT

        text, _ = decode(job.source.read_bytes(), section.options["encoding"], ENCODING_HINT)
        pieces = split_lines(text) if section.options["unit"] == "line" else [text]
        texts = [p for k, p in enumerate(pieces) if k % 2 == 0 and p.strip()]
        rngs_ = [rng_for(recipe.seed, job.relative, k) for k in range(copies)]
        made, records = [], []
        for rendered in modality.render(job.source, section, rngs_):
            records += rendered.records
            copy, _ = decode(rendered.data, section.options["encoding"], ENCODING_HINT)
            parts = split_lines(copy) if section.options["unit"] == "line" else [copy]
            made.append([p for k, p in enumerate(parts) if k % 2 == 0 and p.strip()])
    item.notes.append(f"text vocabulary: {vocabulary_line(section, records)}")
    for index in range(min(TEXT_SAMPLES, len(texts))):
        rows = []
        for k, copy in enumerate(made):
            pieces = diff(texts[index], copy[index])
            rows.append({"label": f"copy {k}", "pieces": pieces, "operations": operations(pieces)})
        item.samples.append({"original": texts[index], "copies": rows})


def _tabular(item: Shown, job: Job, section: Any, recipe: Recipe, copies: int) -> None:
    """The run's output table, with the augmented rows of copies 0 .. copies-1: a copy's rows depend
    on its number alone, so they are the run's first copies (past the recipe's `copies`, those a
    run with more would make). The synthetic rows are the run's: resampling tops classes up to
    what the recipe's copies make, so they do not follow --copies."""
    import pandas as pd

    kinds = _table_kinds(job, section, recipe, recipe.copies)
    if section.transforms and copies != recipe.copies:
        made = max(copies, recipe.copies)
        wider = kinds if made == recipe.copies else _table_kinds(job, section, recipe, made)
        per_copy = len(wider["augmented"]) // made
        kinds = {**kinds, "augmented": wider["augmented"].iloc[: per_copy * copies]}
    shown = {name: len(frame) for name, frame in kinds.items()}
    table = pd.concat(list(kinds.values()), ignore_index=True)
    original = kinds["original"] if len(kinds["original"]) else _read_frame(job.source, job.source.suffix)
    for column in numeric_features(table, section.options)[:TABLE_FEATURES]:
        groups = {name: frame[column].to_numpy(dtype=np.float64, na_value=np.nan) for name, frame in kinds.items()}
        item.plots.append(draw.data_uri(plots.distributions(groups, column), "image/png"))
    label = section.options["label"]
    if label and label in table.columns:
        before = original[label].astype(str).value_counts().to_dict()
        after = table[label].astype(str).value_counts().to_dict()
        item.plots.append(draw.data_uri(plots.counts(before, after, f"{label}: rows per class"), "image/png"))
    each = plural(copies if section.transforms else 0, "copy", "copies")
    item.notes.append(
        f"{plural(shown['original'], 'original row')}, {plural(shown['augmented'], 'augmented row')} "
        f"({each} of each row), {plural(shown['synthetic'], 'synthetic row')}"
    )
    if shown["synthetic"] and copies != recipe.copies:
        run_copies = plural(recipe.copies, "copy", "copies")
        item.notes.append(f"the synthetic rows are the run's, made to go with the recipe's {run_copies}")


def _table_kinds(job: Job, section: Any, recipe: Recipe, copies: int) -> dict[str, Any]:
    """The output table `augcli run` would write with `copies` copies, cut into its original,
    augmented and synthetic rows."""
    from augcli.tabular.modality import TabularModality

    rendered = TabularModality().render_table(job.source, section, copies, FileRngs(recipe.seed, job.relative))
    data = rendered.data if isinstance(rendered.data, bytes) else b"".join(rendered.data)
    table = _read_frame(io.BytesIO(data), job.source.suffix)
    counts = rendered.rows or {}
    bounds = np.cumsum([0, counts.get("original", 0), counts.get("augmented", 0), counts.get("synthetic", 0)])
    kinds = {
        name: table.iloc[bounds[i] : bounds[i + 1]] for i, name in enumerate(("original", "augmented", "synthetic"))
    }
    return kinds


def _read_frame(source: Any, suffix: str):
    import pandas as pd

    if suffix.lower() == ".parquet":
        return pd.read_parquet(source)
    return pd.read_csv(source, sep="\t" if suffix.lower() == ".tsv" else ",")


def numeric_features(table: Any, options: dict[str, Any]) -> list[str]:
    """The columns a table preview plots as numeric features: numeric, not boolean, and none of the
    section's label, id_column, provenance_column, `ignore:` or `categorical:` columns."""
    import pandas as pd

    left_out = {options.get("label"), options.get("id_column"), options.get("provenance_column")}
    left_out |= set(options.get("ignore") or ()) | set(options.get("categorical") or ())
    return [
        column
        for column in table.columns
        if column not in left_out
        and pd.api.types.is_numeric_dtype(table[column])
        and not pd.api.types.is_bool_dtype(table[column])
    ]


def _video(item: Shown, job: Job, section: Any, recipe: Recipe, copies: int) -> None:
    """A strip of frames (first, a third, two thirds, last) for the original and each copy."""
    from augcli.video import io as video_io
    from augcli.video.modality import VideoModality

    modality = VideoModality()
    item.cells.append(_picture("original", b"", [], _strip(video_io, job.source)))
    rngs = [rng_for(recipe.seed, job.relative, k) for k in range(copies)]
    suffix = modality.output_suffix(job.source.suffix, section)
    for k, rendered in enumerate(modality.render(job.source, section, rngs)):
        data = b"".join(rendered.data)
        with tempfile.NamedTemporaryFile(suffix=suffix) as made:
            made.write(data)
            made.flush()
            strip = _strip(video_io, Path(made.name))
        item.cells.append(_picture(f"copy {k}", data, rendered.records, strip))


def _strip(video_io: Any, path: Path, count: int = 4) -> np.ndarray:
    """`count` frames of a clip side by side, evenly spaced, each at the display height."""
    frames = video_io.probe(path).frames
    wanted = {round(k * (frames - 1) / max(count - 1, 1)) for k in range(count)}
    chosen = [frame for index, frame in enumerate(video_io.frames(path)) if index in wanted]
    height = min(frame.shape[0] for frame in chosen)
    return np.hstack([frame[:height] for frame in chosen])


SHOW = {"image": _image, "audio": _audio, "text": _text, "tabular": _tabular, "video": _video}


def contact_sheet(sections: list[dict]) -> bytes:
    """Images and spectrograms only: one row per input."""
    rows = []
    for section in sections:
        for item in section["files"]:
            cells = [(c.pixels, c.label, c.caption) for c in item.cells if c.pixels is not None]
            if cells:
                rows.append((f"{section['modality']}: {item.source}", cells))
    return draw.contact_sheet(rows)


def write(recipe: Recipe, plan: Plan, destination: Path, files: int, copies: int, fmt: str) -> list[dict]:
    """Make the preview of `plan` and write it to `destination` (HTML page or PNG contact sheet)."""
    from augcli import __version__
    from augcli.report import page

    splits = {}
    for section in recipe.sections.values():
        layout = section.bound.get("layout")
        if layout is not None and layout.dataset is not None:
            splits.update(layout.dataset.splits)
    sections = build(plan, recipe, files, copies, splits)
    if fmt == "png":
        data = contact_sheet(sections)
    else:
        html = page.render(
            title=f"augcli preview: {recipe.source}",
            subtitle=f"seed {recipe.seed}; {plural(files, 'file')} per section, {plural(copies, 'copy', 'copies')} "
            f"each, made as `augcli run` makes them (augcli {__version__})",
            summary=[],
            failures=[],
            recipe_text=recipe.text,
            fired=[],
            parameters=[],
            policy_ops=[],
            classes=[],
            sections=sections,
        )
        data = html.encode("utf-8")
    write_file(destination, data)
    return sections
