"""The run report (OUTPUT/report.html): what the last run did, read from OUTPUT alone (the manifest,
the state and .augcli/run.json), so `augcli report OUTPUT` makes it again for any finished run."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from augcli.build import manifest, state
from augcli.build.plan import MANIFEST_NAME, REPORT_NAME, split_of
from augcli.core.recipe import Recipe, RecipeError, parse_recipe
from augcli.core.transforms import Composition, OneOf, SomeOf
from augcli.core.words import noun, plural
from augcli.report import draw, plots
from augcli.report.preview import KEYPOINT_LEGEND, Cell, Shown, _picture, _sound, keypoint_sides
from augcli.report.textdiff import diff, operations
from augcli.storage.tree import walk_tree
from augcli.storage.untrusted import RECORD_FILE_LIMIT, read_state_file

GRID_FILES = 4
GRID_COPIES = 4
PER_SAMPLE = ("text", "tabular")  # counted per sample (line, cell, row); every other modality per copy


class ReportError(Exception):
    """OUTPUT holds no finished run to report on."""


def expected_shares(transforms: list[Any], chance: float = 1.0) -> list[tuple[Any, float]]:
    """Each leaf transform with the chance that it fires in a copy, compositions included."""
    out: list[tuple[Any, float]] = []
    for transform in transforms:
        here = chance * transform.p
        if isinstance(transform, OneOf):
            weights = transform.weights or [1.0] * len(transform.children)
            for child, weight in zip(transform.children, weights, strict=True):
                out += expected_shares([child], here * weight / sum(weights))
        elif isinstance(transform, SomeOf):
            lo, hi = transform.n if transform.n is not None else (1, len(transform.children))
            out += expected_shares(transform.children, here * (lo + hi) / 2 / len(transform.children))
        elif isinstance(transform, Composition):
            out += expected_shares(transform.children, here)
        else:
            out.append((transform, here))
    return out


def _numbers(params: dict[str, Any], prefix: str = "") -> list[tuple[str, float]]:
    """Numeric parameters of a record (seeds left out), nested ones as a.b."""
    found = []
    for key, value in params.items():
        if key in ("seed", "seeds", "random_state"):
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            found.append((prefix + key, float(value)))
        elif isinstance(value, dict):
            found += _numbers(value, prefix + key + ".")
    return found


def build(output_root: Path) -> dict[str, Any]:
    """The report's content. Everything in OUTPUT is read back untrusted: the manifest bounded and
    checked row by row before use (UntrustedError names the file and line), outputs read without
    following a link, and only those of units whose every file is a plain file reached without a
    link (a planted `out/x.txt -> ../secret.txt` is never read); annotation files, read by path,
    only when OUTPUT holds no link at all."""
    path = output_root / MANIFEST_NAME
    try:
        rows = manifest.read(path)
        manifest.resolve_records(rows, output_root)
    except FileNotFoundError:
        why = f"{output_root} has no {MANIFEST_NAME}: run augcli run first (a failed run writes none)"
        raise ReportError(why) from None
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    manifest.check_rows(rows, path)
    info = state.read_run_info(output_root) or {}
    known = state.load(output_root)
    plain, linked = _plain_files(output_root)
    main = {unit for unit, record in known.units.items() if all(_path(f[0]) in plain for f in record["files"])}
    recipe = _recipe(info)
    if recipe is not None and linked and "image" in recipe.sections:
        recipe.sections["image"].bound["layout"] = None  # label files are read by path: not past a link
    copies = [r for r in rows if r["kind"] == "copy" and manifest.decode_path(r["output"]) in main]
    context = {
        "title": f"augcli run report: {output_root}",
        "subtitle": f"recipe {info.get('recipe', '?')}; INPUT {info.get('input', '?')}; seed {info.get('seed', '?')}",
        "summary": _summary(info, rows) + _text_vocabulary(recipe, rows),
        "failures": _failures(output_root),
        "recipe_text": info.get("recipe_text", ""),
        "fired": _fired(output_root, recipe, rows, copies, main),
        "parameters": _parameters(copies),
        "policy_ops": _policy_ops(copies),
        "classes": _classes(output_root, recipe, rows, main),
        "sections": _grid(output_root, recipe, rows, main, info),
    }
    return context


def _recipe(info: dict[str, Any]) -> Recipe | None:
    """The recipe of the run record, or None: none recorded, no longer valid, or one that reads
    files outside its INPUT (the record is read back from OUTPUT: it does not choose what augcli reads)."""
    from augcli.build.replay import files_outside

    if not info.get("recipe_text"):
        return None
    try:
        folder = info.get("recipe_folder")
        recipe = parse_recipe(info["recipe_text"], info.get("recipe", "recipe"), Path(folder) if folder else None)
    except RecipeError:
        return None
    return recipe if files_outside(recipe, Path(info["input"]) if info.get("input") else None) is None else None


def _path(cell: str) -> str:
    return manifest.decode_path(cell)


def _plain_files(output_root: Path) -> tuple[set[str], bool]:
    """Every plain file of OUTPUT reached without a link (relative paths), and whether OUTPUT holds
    any link or special file (augcli's own state files aside: a data version tool may link them)."""
    own = tuple(name for name in os.listdir(output_root) if state.is_state_name(name))
    plain: set[str] = set()
    linked = False
    root = os.fsdecode(output_root)
    for folder, entries in walk_tree(output_root, skip=own):
        prefix = "" if folder == root else folder[len(root) + 1 :] + "/"
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                plain.add(prefix + entry.name)
            elif not entry.is_dir(follow_symlinks=False):
                linked = True
    return plain, linked


def _read(output_root: Path, relative: str, limit: int = 1 << 30) -> bytes:
    """An output's bytes: its folders and itself reached without following a link, a plain file."""
    from augcli.storage.tree import OutputTree

    with OutputTree(output_root) as tree:
        return tree.read_regular(relative, limit)


def _summary(info: dict[str, Any], rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The set as it stands (from the manifest), then the last run that changed it, on one line."""
    counts = info.get("summary", {})
    by_kind = Counter(r["kind"] for r in rows)
    sources = {r["source"] for r in rows if r["kind"] not in ("dataset", "record")}
    last = (
        f"{_count(counts, 'files', 'file')} in: {counts.get('made', '?')} made "
        f"({_count(counts, 'written', 'output')}), "
        f"{counts.get('current', '?')} up to date, {counts.get('removed', '?')} removed, {counts.get('failed', '?')} "
        f"failed, {counts.get('seconds', '?')} s"
    )
    return [
        ("files in OUTPUT (manifest rows)", ", ".join(f"{n:,} {k}" for k, n in sorted(by_kind.items())) or "none"),
        ("input files they come from", f"{len(sources):,}"),
        ("last run that changed OUTPUT", last if counts else "no record"),
    ]


def _count(counts: dict[str, Any], key: str, word: str) -> str:
    """A count of the run record with its noun ("1 file", "3 files"; "? files" when not recorded)."""
    value = counts.get(key)
    return plural(value, word) if isinstance(value, int) else f"{value if value is not None else '?'} {word}s"


def _text_vocabulary(recipe: Recipe | None, rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The text section's vocabulary line (words withheld and why), as in the preview."""
    from augcli.text.modality import report_rows  # imported only when a report is built

    return report_rows(recipe, rows)


def _failures(output_root: Path) -> list[tuple[str, str]]:
    path = state.path(output_root, state.FAILURES)
    try:
        text = read_state_file(path, RECORD_FILE_LIMIT).decode("utf-8", "surrogateescape")
    except (OSError, ValueError):
        return []
    return [(row.get("source") or "", row.get("error") or "") for row in csv.DictReader(io.StringIO(text, newline=""))]


def _fired(
    output_root: Path,
    recipe: Recipe | None,
    rows: list[dict[str, str]],
    copies: list[dict[str, str]],
    main: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Per transform, how often it fired out of how many chances (its `p` applies to each):
    images, audio, video (every per-file modality): copies it fired in, of the copies; text:
    samples it edited, of the samples the copies hold (a line, or a file with `unit: file`, or a
    table cell); tabular: rows it touched, of the augmented rows. The counts are the manifest's
    records."""
    table = []
    if recipe is None:
        return table
    for name, section in recipe.sections.items():
        section_copies = [r for r in copies if r["modality"] == name]
        tables = [r for r in rows if r["modality"] == name and r["kind"] == "table"]
        if not section_copies and not tables:
            continue
        total = _chances(output_root, section, name, section_copies, tables, main)
        if name not in PER_SAMPLE:
            unit = noun(total, "copy", "copies")
        else:
            unit = noun(total, "text sample" if name == "text" else "row")
        for transform, share in expected_shares(section.transforms):
            fired = sum(_fired_in(name, transform.name, json.loads(r["transforms"])) for r in section_copies + tables)
            table.append(
                {
                    "section": name,
                    "name": transform.name,
                    "p": f"{share:.3g}",
                    "fired": fired,
                    "total": total,
                    "unit": unit,
                    "share": f"{fired / total:.3f}" if total else "-",
                }
            )
    return table


def _fired_in(modality: str, transform: str, records: list[dict[str, Any]]) -> int:
    """How often one manifest row records `transform` firing: text and tables count the samples
    (rows) each record names; a copy of an image, a sound or a video counts once if a record names it."""
    named = [rec for rec in records if isinstance(rec, dict) and rec.get("name") == transform]
    if modality not in PER_SAMPLE:
        return int(bool(named))
    return sum(int(rec.get("samples", rec.get("rows", 0)) or 0) for rec in named)


def _chances(
    output_root: Path,
    section: Any,
    modality: str,
    copies: list[dict[str, str]],
    tables: list[dict[str, str]],
    main: set[str] | None = None,
) -> int:
    """How many times a transform of the section could fire: copies (images, audio, video), samples
    in the copies (text), augmented rows (tabular)."""
    if modality not in PER_SAMPLE:
        return len(copies) + len(tables)
    if modality != "text":
        return sum(json.loads(r["rows"] or "{}").get("augmented", 0) for r in tables)
    from augcli.text.modality import TextModality

    total = 0
    for row in copies:  # a .txt copy holds as many samples as its source: its non-empty lines (or 1)
        try:
            total += len(_text_samples(_read(output_root, _path(row["output"])), section))
        except OSError:  # gone, or a link since the run: one sample
            total += 1
    for row in tables:  # a table: its text cells, of which the copy rows hold `augmented` rows' worth
        counts = json.loads(row["rows"] or "{}")
        held = counts.get("original", 0) + counts.get("augmented", 0)
        try:
            if main is not None and _path(row["output"]) not in main:
                raise OSError("not a plain file of OUTPUT")  # read by path: never past a link
            _, _, places = TextModality._read_table(output_root / _path(row["output"]), section)
        except (OSError, ValueError):  # changed since the run: one sample per augmented row
            total += counts.get("augmented", 0)
            continue
        total += round(len(places) * counts.get("augmented", 0) / held) if held else 0
    return total


def _text_samples(data: bytes, section: Any) -> list[str]:
    """The samples of a .txt file's bytes as the text modality edits them: each non-empty line, or the file."""
    from augcli.core.textfile import decode, split_lines
    from augcli.text.io import ENCODING_HINT

    text, _ = decode(data, section.options["encoding"], ENCODING_HINT)
    pieces = split_lines(text) if section.options["unit"] == "line" else [text]
    return [p for k, p in enumerate(pieces) if k % 2 == 0 and p.strip()]


POLICIES = ("trivial_augment", "rand_augment", "auto_augment", "augmix")


def _policy_ops(copies: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Per automatic policy, how often each op was drawn over the copies and the range of its
    magnitudes (augmix: every op of every chain), from the manifest's records."""
    drawn: dict[tuple[str, str], list[float]] = defaultdict(list)
    policy_copies: Counter = Counter()
    for row in copies:
        for record in json.loads(row["transforms"]):
            name = record.get("name") if isinstance(record, dict) else None
            if name not in POLICIES:
                continue
            policy_copies[name] += 1
            params = record.get("params") or {}
            chains = params.get("chains") if isinstance(params.get("chains"), list) else []
            ops = params.get("ops") or [op for chain in chains if isinstance(chain, list) for op in chain]
            ops = ops if isinstance(ops, list) else []
            for op in ops:
                if isinstance(op, list) and len(op) == 2 and isinstance(op[1], (int, float)):
                    drawn[(name, str(op[0]))].append(float(op[1]))
    rows = []
    for (policy, op), values in sorted(drawn.items()):
        rows.append(
            {
                "policy": policy,
                "op": op,
                "count": len(values),
                "copies": policy_copies[policy],
                "low": f"{min(values):.3g}",
                "high": f"{max(values):.3g}",
            }
        )
    return rows


def _parameters(copies: list[dict[str, str]]) -> list[dict[str, str]]:
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in copies:
        for record in json.loads(row["transforms"]):
            for key, value in _numbers(record.get("params") or {}):
                values[(row["modality"], str(record.get("name")), key)].append(value)
    shown = []
    for (modality, name, key), numbers in sorted(values.items()):
        if len(numbers) >= 2 and len(set(numbers)) > 1:
            title = f"{modality} {name}.{key} ({plural(len(numbers), 'copy', 'copies')})"
            shown.append({"title": title, "image": draw.data_uri(plots.parameter(numbers, title), "image/png")})
    return shown


def _classes(
    output_root: Path, recipe: Recipe | None, rows: list[dict[str, str]], main: set[str]
) -> list[dict[str, str]]:
    """Per split, before and after: objects per class for annotated images (read from the label
    files in OUTPUT), rows per class for tables with a label column, else files per class (the
    `class` column, or the parent folder)."""
    before: dict[tuple[str, str], Counter] = defaultdict(Counter)
    after: dict[tuple[str, str], Counter] = defaultdict(Counter)
    seen: set[str] = set()
    for row in rows:
        output = manifest.decode_path(row["output"])
        if output not in main or row["kind"] in ("dataset", "record"):
            continue
        source = manifest.decode_path(row["source"])
        split = split_of(source, {})
        if row["kind"] == "table":
            what, counted, original = _table_classes(output_root, recipe, row)
        else:
            objects = _object_classes(output_root, recipe, output)
            if objects is not None:
                what, counted = "objects", objects
            else:
                what = "files"
                counted = Counter([row.get("class") or source.rpartition("/")[0].rpartition("/")[2] or "(top)"])
            original = counted if source not in seen and row["kind"] != "copy" else None
        if not counted:
            continue
        after[(what, split)].update(counted)
        if original is not None:
            before[(what, split)].update(original)
        seen.add(source)
    shown = []
    for what, split in sorted(after):
        title = f"{what} per class, split {split}"
        image = plots.counts(dict(before[(what, split)]), dict(after[(what, split)]), title)
        shown.append({"title": title, "image": draw.data_uri(image, "image/png")})
    return shown


def _object_classes(output_root: Path, recipe: Recipe | None, relative: str) -> Counter | None:
    """The classes of the objects an output image's label file holds (None: no annotations)."""
    if recipe is None or "image" not in recipe.sections:
        return None
    layout = _output_layout(output_root, recipe)
    if layout is None or layout.format == "none":
        return None
    from augcli.image.labels import companions

    return Counter(companions.class_names_of(layout, relative))


def _table_classes(output_root: Path, recipe: Recipe | None, row: dict[str, str]) -> tuple[str, Counter, Counter]:
    """Rows per class of an output table (its label column), and of its original rows."""
    section = recipe.sections.get(row["modality"]) if recipe is not None else None
    label = section.options.get("label") if section is not None else None
    if not label:
        return "rows", Counter(), Counter()
    import pandas as pd

    relative = _path(row["output"])
    data, suffix = io.BytesIO(_read(output_root, relative)), Path(relative).suffix.lower()  # never past a link
    if suffix == ".parquet":
        table = pd.read_parquet(data)
    elif suffix == ".jsonl":
        table = pd.read_json(data, lines=True)
    else:
        table = pd.read_csv(data, sep="\t" if suffix == ".tsv" else ",")
    if label not in table.columns:
        return "rows", Counter(), Counter()
    counts = json.loads(row["rows"] or "{}")
    labels = table[label].astype(str)
    original = Counter(labels.iloc[: counts.get("original", 0)]) if counts.get("original") else Counter()
    return "rows", Counter(labels), original


def _output_layout(output_root: Path, recipe: Recipe):
    """The image section's annotation layout bound to OUTPUT (which mirrors INPUT's layout)."""
    from augcli.image.modality import ImageModality

    section = recipe.sections["image"]
    if "layout" not in section.bound:
        with contextlib.suppress(ValueError):
            ImageModality().prepare(section, output_root)
        section.bound.setdefault("layout", None)
    return section.bound.get("layout")


def _grid(
    output_root: Path, recipe: Recipe | None, rows: list[dict[str, str]], main: set[str], info: dict[str, Any]
) -> list[dict[str, Any]]:
    """A few sources with the original and copies actually written, as the preview shows them."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if manifest.decode_path(row["output"]) in main and row["kind"] in ("original", "copy"):
            groups[(row["modality"], manifest.decode_path(row["source"]))].append(row)
    sections: dict[str, list[Shown]] = defaultdict(list)
    seed = info.get("seed")
    rng = np.random.default_rng(seed if isinstance(seed, int) and seed >= 0 else 0)
    by_modality: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, members in groups.items():
        if any(r["kind"] == "copy" for r in members):
            by_modality[key[0]].append(key)
    for modality, keys in sorted(by_modality.items()):
        keys.sort()
        picked = sorted(rng.choice(len(keys), size=min(GRID_FILES, len(keys)), replace=False).tolist())
        for index in picked:
            shown = Shown(keys[index][1], split_of(keys[index][1], {}))
            members = sorted(groups[keys[index]], key=lambda r: (r["kind"] != "original", int(r["copy"])))
            classes: dict[int, Any] = {}  # mask value -> class, the first picture's: its copies keep its colours
            for row in members[: GRID_COPIES + 1]:
                try:
                    cell = _cell(output_root, recipe, row, classes)
                except Exception as exc:  # a file changed since: show why, make the rest
                    shown.error = f"{row['output']}: {exc}"
                    continue
                if cell is not None:
                    shown.cells.append(cell)
                    if modality == "text":
                        _text_diffs(shown, output_root, members)
                        break
            if modality == "image" and _has_sides(output_root, recipe):
                shown.notes.append(KEYPOINT_LEGEND)
            sections[modality].append(shown)
    return [{"modality": name, "files": files} for name, files in sections.items()]


def _has_sides(output_root: Path, recipe: Recipe | None) -> bool:
    """Whether OUTPUT's image layout pairs keypoints left and right (the page then says how)."""
    if recipe is None or "image" not in recipe.sections:
        return False
    return any(side != "centre" for side in keypoint_sides(_output_layout(output_root, recipe)))


def _cell(
    output_root: Path, recipe: Recipe | None, row: dict[str, str], classes: dict[int, Any] | None = None
) -> Cell | None:
    """One picture, clip or text of the grid; `classes` (mask value -> class) is updated from an
    image's boxes and used for the next ones of its source."""
    relative = _path(row["output"])
    output = Path(relative)
    label = "original" if row["kind"] == "original" else f"copy {row['copy']}"
    records = json.loads(row["transforms"])
    if row["modality"] in ("image", "audio"):
        data = _read(output_root, relative)  # never past a link, never a FIFO
    if row["modality"] == "image":
        from augcli.image import io as image_io

        pixels = image_io.load(data).pixels
        boxes, mask, ignore = _annotations(output_root, recipe, manifest.decode_path(row["output"]), pixels)
        known = classes if classes is not None else {}
        known.update(draw.mask_classes(mask, boxes, ignore, known))
        sides = keypoint_sides(_output_layout(output_root, recipe)) if recipe and "image" in recipe.sections else ()
        shown = draw.overlay(pixels, boxes, mask, ignore, known, sides)
        return _picture(label, b"", records, shown, draw.has_alpha(pixels))
    if row["modality"] == "audio":
        from augcli.audio import io as audio_io

        decoded = audio_io.load_bytes(data)
        return _sound(label, data, records, decoded.samples, decoded.rate, output.suffix)
    if row["modality"] == "text" and output.suffix.lower() == ".txt":
        return Cell(label, b"", records)
    return None


def _annotations(output_root: Path, recipe: Recipe | None, relative: str, pixels: np.ndarray):
    """The boxes and mask written beside an output image, read back from OUTPUT."""
    if recipe is None or "image" not in recipe.sections:
        return (), None, None
    from augcli.image.labels import companions

    layout = _output_layout(output_root, recipe)
    if layout is None:
        return (), None, None
    height, width = pixels.shape[:2]
    found = companions.read(layout, relative, (width, height))
    return found.boxes, found.mask.values if found.mask is not None else None, layout.erase_value


def _text_diffs(shown: Shown, output_root: Path, members: list[dict[str, str]]) -> None:
    from augcli.core.textfile import decode

    original = next((r for r in members if r["kind"] == "original"), None)
    if original is None:
        return
    lines = decode(_read(output_root, _path(original["output"])), "utf-8", "")[0].splitlines()
    copies = [r for r in members if r["kind"] == "copy"][:GRID_COPIES]
    made = [decode(_read(output_root, _path(r["output"])), "utf-8", "")[0].splitlines() for r in copies]
    shown.cells = []
    for index, text in enumerate(lines[:8]):
        if not text.strip():
            continue
        rows = []
        for row, copy in zip(copies, made, strict=True):
            pieces = diff(text, copy[index] if index < len(copy) else "")
            rows.append({"label": f"copy {row['copy']}", "pieces": pieces, "operations": operations(pieces)})
        shown.samples.append({"original": text, "copies": rows})


def write(output_root: Path, destination: Path | None = None) -> Path:
    """Make the report of what OUTPUT holds: OUTPUT/report.html (written as every output is: a
    temporary name, then a rename, never through a link, never outside OUTPUT), or `destination`
    (a file elsewhere: OUTPUT stays as the run left it, so a data version tool sees no change)."""
    from augcli.report import page
    from augcli.storage.tree import OutputTree, write_file

    inside = destination is None or _relative_to(destination, output_root) == REPORT_NAME
    taken = REPORT_NAME if destination is None else _relative_to(destination, output_root)
    if taken is not None and taken in state.load(output_root).owned():
        raise ReportError(
            f"OUTPUT/{taken} is an output of INPUT/{taken}: the report would replace it; "
            + ("rename that input" if inside else "write the report elsewhere")
        )
    html = page.render(**build(output_root)).encode("utf-8")
    if destination is None or inside:
        with OutputTree(output_root) as tree:
            tree.write(REPORT_NAME, html)
        return output_root / REPORT_NAME
    write_file(destination, html)
    return destination


def _relative_to(path: Path, root: Path) -> str | None:
    """`path` as a POSIX path relative to `root` (both resolved), or None when it is not inside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
