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

from augcli.modality import Rendered
from augcli.params import Choice, Names, Text
from augcli.seeding import FileRngs
from augcli.text import io, lexicon
from augcli.text.transforms import Lexicon, run
from augcli.transforms import Composition, Transform

if TYPE_CHECKING:
    from augcli.recipe import Section

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None}
_SEED_LIMIT = 2**63


def _leaves(transforms: Iterable[Transform]) -> list[Transform]:
    out: list[Transform] = []
    for transform in transforms:
        out += _leaves(transform.children) if isinstance(transform, Composition) else [transform]
    return out


def _random(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(_SEED_LIMIT)))


class TextModality:
    name = "text"
    default_include = ("*.txt", "*.jsonl")
    preload = ()
    transforms_optional = False
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

    @staticmethod
    def _records(section: Section, fired: dict[int, int]) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "params": t.config(), "samples": fired.get(id(t), 0)} for t in _leaves(section.transforms)
        ]

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """A .txt file: each copy has the same lines, each non-empty one augmented (or the whole file)."""
        text, stored = io.decode(source, section.options["encoding"])
        words = self._lexicon(section)
        pieces = io.split_lines(text) if section.options["unit"] == "line" else [text]
        copies = []
        for rng in rngs:
            rand, fired = _random(rng), {}
            out = [
                run(section.transforms, piece, rand, words, fired) if k % 2 == 0 and piece.strip() else piece
                for k, piece in enumerate(pieces)
            ]
            copies.append(Rendered(stored.encode("".join(out)), self._records(section, fired)))
        return copies

    def render_table(self, source: Path, section: Section, copies: int, rngs: FileRngs) -> Rendered:
        """A CSV / TSV / JSONL table: each row, then its copies; only the text columns change."""
        options = section.options
        text, stored = io.decode(source, options["encoding"])
        delimiter = TABLE_SUFFIXES[source.suffix.lower()]
        columns = options["columns"]
        table = (
            io.read_jsonl(text, stored, columns) if delimiter is None else io.read_csv(text, stored, delimiter, columns)
        )
        words = self._lexicon(section)
        rands = [_random(rngs.copy(k)) for k in range(copies)]
        fired: dict[int, int] = {}

        def augment(value: Any, rand: random.Random) -> Any:
            if not isinstance(value, str) or not value.strip():
                return value
            return run(section.transforms, value, rand, words, fired)

        out: list[Any] = []
        if table.kind == "csv":
            positions = [table.header.index(c) for c in columns]
            for row in table.rows:
                if section.keep_original:
                    out.append(row)
                for rand in rands:
                    changed = list(row)
                    for j in positions:
                        changed[j] = augment(row[j], rand)
                    out.append(changed)
            data = io.write_csv(table, out)
        else:
            for line, record in table.rows:
                if section.keep_original:
                    out.append(line)
                for rand in rands:
                    out.append(io.jsonl_line({**record, **{c: augment(record[c], rand) for c in columns}}))
            data = stored.encode("".join(line + stored.line_ending for line in out))
        count = len(table.rows)
        rows = {"original": count if section.keep_original else 0, "augmented": count * copies, "synthetic": 0}
        return Rendered(data, self._records(section, fired), rows)
