"""The text modality: plain-text files line by line, labelled tables (CSV, TSV, JSONL) row by row.

A `.txt` copy is a file of its own with the same lines, line i augmented from line i, so
line-aligned label files still line up. A table yields one output table: each input row, then its
`copies` augmented rows, with every column but the text ones carried unchanged.
"""

from __future__ import annotations

import codecs
import random
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.modality import BaseModality, Rendered
from augcli.params import Choice, Names, Text
from augcli.seeding import FileRngs
from augcli.text import io, lexicon
from augcli.text.transforms import BatchedTransform, Lexicon, run
from augcli.textfile import decode, split_lines
from augcli.transforms import Composition, Transform, draw_seed, leaves

if TYPE_CHECKING:
    from augcli.recipe import Section

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None}


def _random(rng: np.random.Generator) -> random.Random:
    return random.Random(draw_seed(rng))


class TextModality(BaseModality):
    name = "text"
    default_include = ("*.txt", "*.jsonl")
    preload = ("augcli.text.warm",)
    options = {
        "unit": Choice("line", ["line", "file"], ".txt: each non-empty line is a sample, or the whole file is one"),
        "columns": Names(("text",), "CSV / TSV / JSONL: the text column(s); every other column is carried unchanged"),
        "thesaurus": Text(None, "your synonyms: a .csv (word,synonym,...) or .yaml file, relative to the recipe"),
        "thesaurus_mode": Choice("add", ["add", "replace"], "add to the shipped WordNet synonyms, or use yours alone"),
        "stopwords": Text("english", "words never replaced: english (built in), none, or a file, one word per line"),
        "encoding": Text("utf-8", "the files' text encoding (a UTF-8 BOM is kept)"),
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
        return super().section_files(section) + [path for path in named if path]

    def layout(self, relative: str, section: Section) -> str:
        return "table" if PurePosixPath(relative).suffix.lower() in TABLE_SUFFIXES else "copies"

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return source_suffix

    @staticmethod
    def _lexicon(section: Section) -> Lexicon:
        options = section.options
        return Lexicon(
            lexicon.thesaurus(options["thesaurus"], options["thesaurus_mode"]), lexicon.stop_words(options["stopwords"])
        )

    def _augment(self, section: Section, texts: list[str], rng: np.random.Generator) -> tuple[list[str], list[int]]:
        """One copy of every sample, and how many samples each transform fired on."""
        fired: dict[int, int] = {}
        done = run(section.transforms, texts, _random(rng), self._lexicon(section), fired)
        return done, [fired.get(id(t), 0) for t in leaves(section.transforms)]

    @staticmethod
    def _records(section: Section, counts: list[int]) -> list[dict[str, Any]]:
        """The manifest's record of a copy: each transform's settings and its sample count."""
        return [
            {"name": t.name, "params": t.settings(), "samples": n}
            for t, n in zip(leaves(section.transforms), counts, strict=True)
        ]

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """A .txt file: each copy has the same lines, each non-empty one augmented (or the whole file)."""
        text, stored = decode(source.read_bytes(), section.options["encoding"], io.ENCODING_HINT)
        pieces = split_lines(text) if section.options["unit"] == "line" else [text]
        samples = [k for k, piece in enumerate(pieces) if k % 2 == 0 and piece.strip()]
        copies = []
        for rng in rngs:
            out = list(pieces)
            done, counts = self._augment(section, [pieces[k] for k in samples], rng)
            for k, changed in zip(samples, done, strict=True):
                out[k] = changed
            copies.append(Rendered(stored.encode("".join(out)), self._records(section, counts)))
        return copies

    def table_parts(self, relative: str, section: Section, copies: int) -> int:
        """A table's copies can be made apart (each has its own generator): one part per copy."""
        return copies if self.layout(relative, section) == "table" else 1

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

    def render_table_part(self, source: Path, section: Section, copies: int, rngs: FileRngs, part: int) -> Any:
        """Copy `part` of every text cell, and how often each transform fired."""
        _, cells, places = self._read_table(source, section)
        return self._augment(section, [cells[r][j] for r, j in places], rngs.copy(part))

    def render_table(
        self, source: Path, section: Section, copies: int, rngs: FileRngs, parts: list[Any] | None = None
    ) -> Rendered:
        """A CSV / TSV / JSONL table: each row, then its copies; only the text columns change.
        `parts` are the copies already made elsewhere (render_table_part), in copy order."""
        table, cells, places = self._read_table(source, section)
        if parts is None:
            texts = [cells[r][j] for r, j in places]
            parts = [self._augment(section, texts, rngs.copy(k)) for k in range(copies)]
        variants = [dict(zip(places, texts, strict=True)) for texts, _ in parts]
        out: list[Any] = []
        for r, (row, original) in enumerate(zip(cells, table.rows, strict=True)):
            if section.keep_original:
                out.append(row if table.kind == "csv" else original[0])
            for changed in variants:
                if table.kind == "csv":
                    out.append([changed.get((r, j), cell) for j, cell in enumerate(row)])
                else:
                    out.append(io.jsonl_line({key: changed.get((r, key), value) for key, value in row.items()}))
        if table.kind == "csv":
            data = io.write_csv(table, out)
        else:
            data = table.stored.encode("".join(line + table.stored.line_ending for line in out))
        counts = [sum(column) for column in zip(*(fired for _, fired in parts), strict=True)]
        records = self._records(section, counts or [0] * len(leaves(section.transforms)))
        count = len(table.rows)
        rows = {"original": count if section.keep_original else 0, "augmented": count * copies, "synthetic": 0}
        return Rendered(data, records, rows)
