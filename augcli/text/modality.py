"""The text modality: plain-text files line by line, labelled tables (CSV, TSV, JSONL) row by row.

A `.txt` copy is a file of its own with the same lines, line i augmented from line i, so
line-aligned label files still line up: a companion `<stem>.labels` is copied beside each copy. A
table yields one output table: each input row, then its `copies` augmented rows, with every column
but the text ones carried unchanged.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

# imported so that their transforms register
import augcli.text.contextual
import augcli.text.noise  # noqa: F401
from augcli.core.balance import balanced_copies
from augcli.core.files import read_input
from augcli.core.modality import BaseModality, Prepared, Rendered, Written
from augcli.core.params import Choice, Flag, Names, Text
from augcli.core.seeding import FileRngs
from augcli.core.textfile import UnreadableFile, decode, split_lines
from augcli.core.transforms import Composition, ReplayError, Transform, draw_seed, leaves
from augcli.text import io, lexicon, safety
from augcli.text.transforms import BatchedTransform, Lexicon, run

if TYPE_CHECKING:
    from augcli.core.recipe import Section

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None}
LABELS_SUFFIX = ".labels"  # reviews.txt + reviews.labels: one label per line, copied beside each copy
UNIQUE_TRIES = 5  # unique: a sample that came out unchanged is drawn again up to this often


@dataclass
class Edited:
    """One copy of a batch of samples: the texts, how many samples each transform fired on, the
    seed every edit was drawn from (so the copy replays), unique's redraws, and the samples drawn
    again for gaining an excluded word (`unsafe`), of which `restored` were left as their original."""

    texts: list[str]
    fired: list[int]
    seed: int
    redrawn: int = 0
    identical: int = 0
    unsafe: int = 0
    restored: int = 0


def _vocabulary(section: Section) -> tuple[Any, ...]:
    """The arguments of lexicon.vocabulary_table for this section."""
    options = section.options
    return options["thesaurus"], options["thesaurus_mode"], options["vocabulary"], options["exclude_words"]


def _lexicon(section: Section) -> Lexicon:
    return _cached_lexicon(_vocabulary(section), section.options["stopwords"])


@functools.lru_cache(maxsize=8)
def _cached_lexicon(vocabulary: tuple[Any, ...], stopwords: str) -> Lexicon:
    """One Lexicon per section settings and process, so its inflected lookups are made once."""
    guard = safety.word_filter(vocabulary[2], vocabulary[3])
    return Lexicon(lexicon.thesaurus(*vocabulary), lexicon.stop_words(stopwords), guard)


def _guard(section: Section) -> safety.WordFilter:
    return safety.word_filter(section.options["vocabulary"], section.options["exclude_words"])


def vocabulary_line(section: Section, records: Any = ()) -> str:
    """One line for the preview and the run report: the words this section's vocabulary withholds
    from the synonyms (and from the antonyms and misspellings when its transforms use them), by
    reason, and the samples drawn again for gaining one (from manifest records)."""
    settings = _vocabulary(section)
    withheld = dict(lexicon.vocabulary_table(*settings)[1])
    used = {transform.name for transform in leaves(section.transforms)}
    tables = ["synonyms"]
    for name, table, held in (
        ("antonym", "antonyms", lambda *options: lexicon.antonym_table(*options)[1]),
        ("spelling_errors", "misspellings", lexicon.misspellings_withheld),
    ):
        if name in used:
            withheld.update({word: why for word, why in held(*settings[2:]).items() if word not in withheld})
            tables.append(table)
    described = tables[0] if len(tables) == 1 else f"{', '.join(tables[:-1])} and {tables[-1]}"
    return safety.summary_line(section.options["vocabulary"], withheld, records, f"the {described}")


def report_rows(recipe: Any, rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The run report's summary row for a recipe's text section (none without one), from the
    manifest's rows."""
    if recipe is None or "text" not in recipe.sections:
        return []
    records = []
    for row in rows:
        if row.get("modality") == "text":
            with contextlib.suppress(ValueError, TypeError):  # the manifest is read back: untrusted
                records += [r for r in json.loads(row.get("transforms") or "[]") if isinstance(r, dict)]
    return [("text vocabulary", vocabulary_line(recipe.sections["text"], records))]


def augment_texts(section: Section, texts: list[str], rng: np.random.Generator) -> Edited:
    """One copy of every sample: what `run` writes and what the Python API returns, by one path."""
    return edit_texts(section, texts, draw_seed(rng))


def edit_texts(section: Section, texts: list[str], seed: int) -> Edited:
    """One copy of every sample, its edits drawn from random.Random(seed) (a recorded seed replays
    it); with `unique`, a sample that came out unchanged is drawn again, up to UNIQUE_TRIES times.

    Whatever the transforms (a typo, a swap, a model), a sample whose copy gained an excluded word
    (safety.py) is drawn again, up to safety.SAFE_TRIES times, and then left as its original."""
    fired: dict[int, int] = {}
    draws, words, guard = random.Random(seed), _lexicon(section), _guard(section)
    done = run(section.transforms, texts, draws, words, fired)
    edited = Edited(done, [fired.get(id(t), 0) for t in leaves(section.transforms)], seed)
    unsafe: set[int] = set()
    restored: set[int] = set()

    def keep_safe(drawn: Iterable[int]) -> None:
        bad = [i for i in drawn if guard.gained(texts[i], done[i])]
        for _ in range(safety.SAFE_TRIES):
            if not bad:
                return
            unsafe.update(bad)
            again = run(section.transforms, [texts[i] for i in bad], draws, words, {})
            for i, text in zip(bad, again, strict=True):
                done[i] = text
            bad = [i for i in bad if guard.gained(texts[i], done[i])]
        for i in bad:
            done[i] = texts[i]
            restored.add(i)

    if guard:
        keep_safe(range(len(texts)))
    if section.options["unique"]:
        redrawn = set()
        for _ in range(UNIQUE_TRIES):
            same = [i for i, (before, after) in enumerate(zip(texts, done, strict=True)) if before == after]
            if not same:
                break
            redrawn.update(same)
            again = run(section.transforms, [texts[i] for i in same], draws, words, {})
            for i, text in zip(same, again, strict=True):
                done[i] = text
            if guard:
                keep_safe(same)
        edited.redrawn = len(redrawn)
        edited.identical = sum(1 for before, after in zip(texts, done, strict=True) if before == after)
    edited.unsafe = len(unsafe)
    edited.restored = sum(1 for i in restored if done[i] == texts[i])
    return edited


def records_of(section: Section, copies: list[Edited]) -> list[dict[str, Any]]:
    """The manifest's record of a file's copies (one, or a table's all): each transform's settings
    and its sample count, unique's redraws, and the seeds the edits were drawn from."""
    steps = leaves(section.transforms)
    counts = [sum(edited.fired[i] for edited in copies) for i in range(len(steps))]
    records = [{"name": t.name, "params": t.settings(), "samples": n} for t, n in zip(steps, counts, strict=True)]
    if section.options["unique"]:
        params = {"tries": UNIQUE_TRIES, "identical": sum(e.identical for e in copies)}
        records.append({"name": "unique", "params": params, "samples": sum(e.redrawn for e in copies)})
    unsafe = sum(e.unsafe for e in copies)
    if section.options["vocabulary"] != "safe" or unsafe:
        # named when the shipped word lists are off, and when samples were drawn again for gaining one
        params = {"vocabulary": section.options["vocabulary"], "tries": safety.SAFE_TRIES}
        params["restored"] = sum(e.restored for e in copies)
        records.append({"name": "vocabulary", "params": params, "samples": unsafe})
    records.append({"name": "draws", "params": {"seeds": [edited.seed for edited in copies]}})
    return records


def recorded_seeds(records: list[dict[str, Any]]) -> list[int]:
    """The seeds a file's copies drew their edits from, as records_of wrote them."""
    for record in records:
        if record.get("name") == "draws":
            return [int(seed) for seed in record["params"]["seeds"]]
    raise ReplayError("the record has no 'draws' entry (written by an augcli before replay was possible)")


def _balance_record(section: Section, table: io.Table, cells: list[Any], per_row: list[int]) -> dict[str, Any]:
    """The manifest's record of a balanced table: rows and copies per row for each class."""
    label = section.options["label"]
    where = table.header.index(label) if table.kind == "csv" else label
    classes: dict[str, list[int]] = {}
    for row, count in zip(cells, per_row, strict=True):
        classes.setdefault(str(row[where]), []).append(count)
    summary = {name: {"rows": len(c), "copies": [min(c), max(c)]} for name, c in sorted(classes.items())}
    return {"name": "balance", "params": {"target": section.balance, "label": label, "classes": summary}}


class TextModality(BaseModality):
    name = "text"
    default_include = ("*.txt", "*.jsonl")
    options = {
        "unit": Choice("line", ["line", "file"], ".txt: each non-empty line is a sample, or the whole file is one"),
        "columns": Names(("text",), "CSV / TSV / JSONL: the columns of text; every other column is carried unchanged"),
        "thesaurus": Text(None, "your synonyms: a .csv (word,synonym,...) or .yaml file, relative to the recipe"),
        "thesaurus_mode": Choice("add", ["add", "replace"], "add to the shipped WordNet synonyms, or use yours alone"),
        "stopwords": Text("english", "words never replaced: english (built in), none, or a file, one word per line"),
        "vocabulary": Choice(
            "safe",
            ["safe", "unfiltered"],
            "safe: no copy gains a slur, obscenity or profanity (WordNet's marks, the LDNOOBW list); "
            "unfiltered: the lists are off",
        ),
        "exclude_words": Text(
            None, "more words no copy may gain: a file, one word or phrase per line (inflected forms too)"
        ),
        "encoding": Text("utf-8", "the files' text encoding (a UTF-8 BOM is kept)"),
        "provenance_column": Text(
            None, "CSV / TSV / JSONL: add a column saying where each row came from (original, copy 0, copy 1, ...)"
        ),
        "label": Text(
            None, "CSV / TSV / JSONL: the class column; with balance, rows of smaller classes get more copies"
        ),
        "unique": Flag(
            False, f"draw a sample again (up to {UNIQUE_TRIES} tries) when its copy came out equal to the original"
        ),
    }

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        problems = []
        for transform in transforms:
            if isinstance(transform, Composition):
                nested = [t.name for t in leaves(transform.children) if isinstance(t, BatchedTransform)]
                if nested:
                    problems.append(("transforms", f"{nested[0]} runs on whole batches: list it at the top level"))
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            problems.append(("encoding", f"unknown encoding {options['encoding']!r} (e.g. utf-8, latin-1, cp1252)"))
        if options["exclude_words"] is not None:
            options["exclude_words"] = str((base_dir / options["exclude_words"]).resolve())
            try:
                safety.word_filter(options["vocabulary"], options["exclude_words"])
            except safety.ExcludeWordsError as exc:
                problems.append(("exclude_words", str(exc)))
                options["exclude_words"] = None  # so the thesaurus is still checked
        if options["thesaurus"] is not None:
            options["thesaurus"] = str((base_dir / options["thesaurus"]).resolve())
            try:
                lexicon.thesaurus(options["thesaurus"], options["thesaurus_mode"])
            except lexicon.LexiconError as exc:
                problems.append(("thesaurus", str(exc)))
        if options["stopwords"] not in ("english", "none"):
            options["stopwords"] = str((base_dir / options["stopwords"]).resolve())
            try:
                lexicon.stop_words(options["stopwords"])
            except lexicon.LexiconError as exc:
                problems.append(("stopwords", str(exc)))
        return problems

    def section_files(self, section: Section) -> list[str]:
        options = section.options
        named = [options["thesaurus"], None if options["stopwords"] in ("english", "none") else options["stopwords"]]
        named.append(options["exclude_words"])
        return super().section_files(section) + [path for path in named if path]

    def layout(self, relative: str, section: Section) -> str:
        return "table" if PurePosixPath(relative).suffix.lower() in TABLE_SUFFIXES else "copies"

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return source_suffix

    @staticmethod
    def _labels_file(source: Path) -> Path | None:
        """A .txt file's line-aligned label file (`reviews.labels` beside `reviews.txt`), if any."""
        if source.suffix.lower() != ".txt":
            return None
        labels = source.with_suffix(LABELS_SUFFIX)
        return labels if labels.is_file() else None

    def input_files(self, section: Section, relative: str) -> list[str]:
        root = section.bound.get("input_root")
        labels = self._labels_file(root / relative) if root is not None else None
        return [str(labels)] if labels is not None else []

    def prepare(self, section: Section, input_root: Path) -> Prepared:
        section.bound["input_root"] = input_root
        return Prepared()

    def companion_files(self, section: Section, source: Path, output: str, rendered: Rendered | None) -> Any:
        """The label file beside each copy (and the original), byte for byte: lines still align."""
        labels = self._labels_file(source)
        if labels is None:
            return None
        return Written([(str(PurePosixPath(output).with_suffix(LABELS_SUFFIX)), read_input(labels))])

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """A .txt file: each copy has the same lines, each non-empty one augmented (or the whole file)."""
        return [
            self._text_copy(source, section, lambda texts, rng=rng: augment_texts(section, texts, rng)) for rng in rngs
        ]

    def replay(self, source: Path, section: Section, records: list[dict[str, Any]]) -> Rendered:
        """One .txt copy made again from the seed its record names."""
        (seed,) = recorded_seeds(records)
        return self._text_copy(source, section, lambda texts: edit_texts(section, texts, seed))

    @staticmethod
    def _text_copy(source: Path, section: Section, edit) -> Rendered:
        text, stored = decode(source.read_bytes(), section.options["encoding"], io.ENCODING_HINT)
        pieces = split_lines(text) if section.options["unit"] == "line" else [text]
        samples = [k for k, piece in enumerate(pieces) if k % 2 == 0 and piece.strip()]
        edited = edit([pieces[k] for k in samples])
        for k, changed in zip(samples, edited.texts, strict=True):
            pieces[k] = changed
        return Rendered(stored.encode("".join(pieces)), records_of(section, [edited]))

    def table_parts(self, relative: str, section: Section, copies: int) -> int:
        """A table's copies can be made apart (each has its own generator): one part per copy. A
        balanced table is made whole: how many copies its rows get is known once it is read."""
        return copies if self.layout(relative, section) == "table" and section.balance is None else 1

    @staticmethod
    def _row_copies(section: Section, table: io.Table, cells: list[Any], copies: int) -> list[int] | None:
        """With balance, each row's copies by its class in the `label` column (None: every row `copies`)."""
        if section.balance is None:
            return None
        label = section.options["label"]
        if label is None or (table.kind == "csv" and label not in table.header):
            raise UnreadableFile(
                "balance needs the table's class column: add label: <column> to the text section"
                + (f" (this table's columns: {', '.join(table.header)})" if table.kind == "csv" else "")
            )
        where = table.header.index(label) if table.kind == "csv" else label
        classes = {}
        for r, row in enumerate(cells):
            if table.kind != "csv" and label not in row:
                raise UnreadableFile(f"row {r + 1} has no {label!r} key (balance counts rows by it)")
            classes[r] = str(row[where])
        counts = balanced_copies(classes, section.balance, copies, section.keep_original)
        return [counts[r] for r in range(len(cells))]

    @staticmethod
    def _read_table(source: Path, section: Section) -> tuple[io.Table, list[Any], list[tuple[int, Any]]]:
        """The table, its rows as editable cells, and where the text is: (row, column) of every
        non-empty string cell of the text columns."""
        options = section.options
        text, stored = decode(source.read_bytes(), options["encoding"], io.ENCODING_HINT)
        delimiter = TABLE_SUFFIXES[source.suffix.lower()]
        columns = options["columns"]
        if delimiter is None:
            table = io.read_jsonl(text, stored, columns)
            positions: list[Any] = list(columns)
            cells: list[Any] = [record for _, record in table.rows]
        else:
            table = io.read_csv(text, stored, delimiter, columns)
            positions = [table.header.index(c) for c in columns]
            cells = table.rows
        places = [
            (r, j) for r, row in enumerate(cells) for j in positions if isinstance(row[j], str) and row[j].strip()
        ]
        return table, cells, places

    def render_table_part(self, source: Path, section: Section, copies: int, rngs: FileRngs, part: int) -> TablePart:
        """Copy `part` of every text cell, with its rows already formatted (the merge only joins)."""
        table, cells, places = self._read_table(source, section)
        edited = augment_texts(section, [cells[r][j] for r, j in places], rngs.copy(part))
        return TablePart(edited, _copy_lines(table, cells, places, edited.texts, section, part, range(len(cells))))

    def render_table(
        self, source: Path, section: Section, copies: int, rngs: FileRngs, parts: list[Any] | None = None
    ) -> Rendered:
        """A CSV / TSV / JSONL table: each row, then its copies; only the text columns change.
        `parts` are the copies already made elsewhere (render_table_part), in copy order."""
        return self._table(source, section, copies, lambda k, texts: augment_texts(section, texts, rngs.copy(k)), parts)

    def replay_table(self, source: Path, section: Section, copies: int, records: list[dict[str, Any]]) -> Rendered:
        """A table made again from the seeds its record names, one per copy."""
        seeds = recorded_seeds(records)
        return self._table(source, section, copies, lambda k, texts: edit_texts(section, texts, seeds[k]))

    def _table(
        self, source: Path, section: Section, copies: int, edit, parts: list[TablePart] | None = None
    ) -> Rendered:
        table, cells, places = self._read_table(source, section)
        per_row = self._row_copies(section, table, cells, copies)
        marker = section.options["provenance_column"]
        taken = marker in table.header if table.kind == "csv" else any(marker in record for _, record in table.rows)
        if marker is not None and taken:
            raise UnreadableFile(f"provenance_column {marker!r} already is a column of this table: pick another name")
        lines_of_copy, made = [], []
        for k in range(max(per_row, default=0) if per_row is not None else copies):
            if parts is not None:
                made.append(parts[k].edited)
                lines_of_copy.append(iter(parts[k].lines))
                continue
            rows = range(len(cells)) if per_row is None else [r for r in range(len(cells)) if per_row[r] > k]
            chosen = places if per_row is None else [(r, j) for r, j in places if per_row[r] > k]
            edited = edit(k, [cells[r][j] for r, j in chosen])
            made.append(edited)
            lines_of_copy.append(iter(_copy_lines(table, cells, chosen, edited.texts, section, k, rows)))
        originals = _original_lines(table, cells, marker) if section.keep_original else None
        header = table.header + ([marker] if marker is not None else [])
        out: list[str] = io.csv_lines(table, [header]) if table.kind == "csv" else []
        for r in range(len(cells)):
            if originals is not None:
                out.append(originals[r])
            for k in range(per_row[r] if per_row is not None else len(lines_of_copy)):
                out.append(next(lines_of_copy[k]))
        data = table.stored.encode("".join(out))
        records = records_of(section, made)
        count = len(table.rows)
        made = sum(per_row) if per_row is not None else count * copies
        if per_row is not None:
            records.append(_balance_record(section, table, cells, per_row))
        rows = {"original": count if section.keep_original else 0, "augmented": made, "synthetic": 0}
        return Rendered(data, records, rows)


@dataclass
class TablePart:
    """One copy of a table made in a worker: its edits and its rows, formatted as written."""

    edited: Edited
    lines: list[str]


def _copy_lines(
    table: io.Table,
    cells: list[Any],
    chosen: list[Any],
    texts: list[str],
    section: Section,
    k: int,
    rows: Iterable[int],
) -> list[str]:
    """Copy k of each of `rows`, formatted as the output table holds it (line ending included)."""
    changed = dict(zip(chosen, texts, strict=True))
    marker = section.options["provenance_column"]
    tag = {} if marker is None else {marker: f"copy {k}"}
    if table.kind == "csv":
        return io.csv_lines(
            table, ([changed.get((r, j), cell) for j, cell in enumerate(cells[r])] + list(tag.values()) for r in rows)
        )
    ending = table.stored.line_ending
    return [
        io.jsonl_line({key: changed.get((r, key), value) for key, value in cells[r].items()} | tag) + ending
        for r in rows
    ]


def _original_lines(table: io.Table, cells: list[Any], marker: str | None) -> list[str]:
    """Each input row as the output table holds it: CSV rows formatted again, JSONL lines as they were."""
    if table.kind == "csv":
        return io.csv_lines(table, (row if marker is None else [*row, "original"] for row in cells))
    ending = table.stored.line_ending
    if marker is None:
        return [original[0] + ending for original in table.rows]
    return [io.jsonl_line({**row, marker: "original"}) + ending for row in cells]
