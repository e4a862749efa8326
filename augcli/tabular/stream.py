"""Large CSV/TSV tables augmented in chunks of rows, so memory stays near one parsed table.

A first pass reads the table whole once for what every row needs to know of all the others (the
column roles, each column's spread and range, the categorical values and classes that
categorical_resample draws donors from), then drops it. Each copy then re-reads the file in
chunks of CHUNK_ROWS rows with the same column types, augments a chunk and writes it, one at a
time; the original rows are copied through from the file's bytes. A copy's generator runs over
the chunks in order, so the output depends on the seed and CHUNK_ROWS, never on anything else, and
a table of at most CHUNK_ROWS rows comes out byte for byte as the whole-table path makes it.

Resampling needs the whole table at once (its neighbours span every row), and Parquet is read
whole: both stay on the whole-table path (table.py).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from augcli.core.modality import Rendered
from augcli.core.textfile import Stored, UnreadableFile, checked_rows, line_ending, read_header
from augcli.tabular import functional as F
from augcli.tabular import io, table
from augcli.tabular.schema import Schema, infer
from augcli.tabular.transforms import Block, Fired, augment

if TYPE_CHECKING:
    from augcli.core.recipe import Section

STREAM_BYTES = 32 << 20  # tables at least this large are streamed
CHUNK_ROWS = 65_536
_READ_BYTES = 1 << 20


def worth_streaming(source: Path, section: Section) -> bool:
    """A large CSV/TSV whose section has no resampling (that needs the whole table)."""
    if source.suffix.lower() in io.PARQUET_SUFFIXES or section.options["resample"]["method"] != "none":
        return False
    try:
        return source.stat().st_size >= STREAM_BYTES
    except OSError:
        return False


@dataclass
class _Survey:
    """What the first pass learnt of the whole table."""

    separator: str
    stored: Stored
    booleans: dict[str, tuple[str, str]]
    dtypes: dict[str, Any]  # as pandas read each column: the chunks are read alike
    converted: list[str]  # object columns the schema turned into numbers
    like: pd.DataFrame  # no rows; the columns and their final dtypes
    gaps: dict[str, bool]  # which columns have missing values anywhere
    schema: Schema
    base: Block  # the whole-table facts; numeric left empty
    rows: int
    ends_with_newline: bool
    notes: list[str] = field(default_factory=list)


def _check_text(path: Path, separator: str) -> tuple[Stored, bool, list[list[str]], list[str]]:
    """Stream the file once: UTF-8 throughout, a header without duplicates, no ragged row. Returns
    how it is stored, whether it ends with a line break, the first rows and the header."""
    with path.open("rb") as raw:
        head = raw.read(_READ_BYTES)
        if not head:
            raise UnreadableFile("empty file")
        bom = head.startswith(codecs.BOM_UTF8)
        raw.seek(-1, 2)
        ends_with_newline = raw.read(1) in (b"\n", b"\r")
    ending = line_ending(head.decode("utf-8", "ignore"))
    sample: list[list[str]] = []
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=separator)
        try:
            header = read_header(reader)
            for row in checked_rows(reader, header):
                if len(sample) < 200:
                    sample.append(row)
        except UnicodeDecodeError:
            raise UnreadableFile(f"not UTF-8 text (near line {reader.line_num + 1}): save it as UTF-8") from None
    return Stored("utf-8", bom, ending), ends_with_newline, sample, header


def _read(path: Path, separator: str, **options: Any) -> Any:
    return pd.read_csv(path, sep=separator, skip_blank_lines=True, encoding="utf-8-sig", **options)


def _unify(known: Any, seen: Any) -> Any:
    """One dtype for a column across chunks: equal ones, or whole and decimal numbers as float64.
    Anything else (a column that is numbers in one chunk and text in another): None."""
    if known is None or known == seen:
        return seen
    numbers = (pd.api.types.is_integer_dtype, pd.api.types.is_float_dtype)
    if all(any(test(d) for test in numbers) for d in (known, seen)):
        return np.dtype(np.float64)
    return None


class _Spread:
    """Each numeric column's count, mean and sum of squared deviations, merged chunk by chunk
    (Chan et al.), for the whole table's sample standard deviation."""

    def __init__(self, columns: int) -> None:
        self.count, self.mean, self.m2 = np.zeros(columns), np.zeros(columns), np.zeros(columns)
        self.chunks = 0
        self.first: np.ndarray | None = None

    def add(self, values: np.ndarray) -> None:
        self.chunks += 1
        if self.chunks == 1:
            self.first = F.column_std(values)  # one chunk: exactly the whole-table path's figure
        count = np.sum(~np.isnan(values), axis=0).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, np.nansum(values, axis=0) / np.maximum(count, 1), 0.0)
            m2 = np.nansum((values - mean) ** 2, axis=0)
            total = self.count + count
            delta = mean - self.mean
            self.mean = np.where(total > 0, self.mean + delta * count / np.maximum(total, 1), 0.0)
            self.m2 = self.m2 + m2 + delta**2 * self.count * count / np.maximum(total, 1)
        self.count = total

    def std(self) -> np.ndarray:
        if self.chunks == 1 and self.first is not None:
            return self.first
        std = np.zeros_like(self.m2)
        enough = self.count >= 2
        std[enough] = np.sqrt(self.m2[enough] / (self.count[enough] - 1))
        return std


def _survey(path: Path, section: Section) -> _Survey | None:
    """The whole table's facts from one pass over its chunks; None when the chunks disagree on a
    column's role (say, numbers in one chunk and text in another): that table is made whole."""
    separator = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    stored, ends_with_newline, sample, header = _check_text(path, separator)
    options = section.options
    read: dict[str, Any] = {}
    final: dict[str, Any] = {}
    gaps: dict[str, bool] = {}
    bounds: dict[str, tuple[float, float]] = {}
    originals: dict[str, list[np.ndarray]] = {}
    members: dict[Any, list[np.ndarray]] = {}
    schema: Schema | None = None
    integer: set[str] = set()
    notes: list[str] = []
    spread: _Spread | None = None
    booleans: dict[str, tuple[str, str]] = {}
    rows = 0
    try:
        chunks = _read(path, separator, chunksize=CHUNK_ROWS)
        for chunk in chunks:
            if not rows:
                booleans = io.boolean_spelling(chunk, header, sample)
            for name, dtype in chunk.dtypes.items():
                read[name] = _unify(read.get(name), dtype)
            found = infer(chunk, options, rows)
            if schema is None:
                schema, integer, spread = found, set(found.integer), _Spread(len(found.numeric))
            elif (found.numeric, found.categorical) != (schema.numeric, schema.categorical):
                return None
            integer &= found.integer
            notes += [note for note in found.notes if note not in notes]
            for name, dtype in chunk.dtypes.items():
                final[name] = _unify(final.get(name), dtype)
                gaps[name] = gaps.get(name, False) or bool(chunk[name].isna().any())
            for name, (lo, hi) in found.bounds.items():
                old = bounds.get(name, (lo, hi))
                bounds[name] = (min(old[0], lo), max(old[1], hi))
            spread.add(chunk[schema.numeric].to_numpy(dtype=np.float64, na_value=np.nan))
            for name in schema.categorical:
                originals.setdefault(name, []).append(chunk[name].to_numpy(dtype=object))
            if schema.label:
                labels = chunk[schema.label].to_numpy(dtype=object)
                for label in chunk[schema.label].dropna().unique():
                    members.setdefault(label, []).append(np.flatnonzero(labels == label) + rows)
            rows += len(chunk)
    except (pd.errors.ParserError, ValueError) as exc:
        if isinstance(exc, UnreadableFile):
            raise
        raise UnreadableFile(f"cannot parse the table: {exc}") from None
    if schema is None or any(d is None for d in [*read.values(), *final.values()]) or not rows:
        return None  # no rows (the whole path says so), or types that differ between chunks
    converted = [name for name in final if final[name] != read[name]]
    schema = Schema(schema.label, schema.ignore, schema.numeric, schema.categorical, integer, bounds, notes)
    class_rows = {label: np.concatenate(members[label]) for label in sorted(members, key=str)}
    cats = {name: np.concatenate(parts) for name, parts in originals.items()}
    base = Block(schema, np.empty((0, len(schema.numeric))), {}, None, spread.std(), cats, class_rows, rows)
    like = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in final.items()})
    return _Survey(
        separator, stored, booleans, read, converted, like, gaps, schema, base, rows, ends_with_newline, notes
    )


def _chunks(path: Path, survey: _Survey) -> Iterator[tuple[int, pd.DataFrame]]:
    """(first row, rows) of the table, read with the first pass's column types."""
    first = 0
    for chunk in _read(path, survey.separator, dtype=survey.dtypes, chunksize=CHUNK_ROWS):
        for name in survey.converted:
            chunk[name] = pd.to_numeric(chunk[name])
        chunk.index = range(first, first + len(chunk))
        yield first, chunk
        first += len(chunk)


def render(source: Path, section: Section, copies: int, draws: table.Draws) -> Rendered:
    """The output table of one large table, as bytes made chunk by chunk while they are written.
    `records` is filled when the last chunk has been made."""
    survey = _survey(source, section)
    if survey is None:
        return table.render_whole(source, section, copies, draws)
    options = section.options
    marker = table.provenance_column(options, survey.like.columns)
    verbatim = section.keep_original and marker is None
    fired = Fired(section.transforms)
    records: list[dict[str, Any]] = []
    made = copies if section.transforms else 0

    def text(part: pd.DataFrame, origin: list[str] | None, header: bool) -> bytes:
        part = table.restore_dtypes(part, survey.like, survey.gaps)
        if marker is not None:
            part[marker] = origin
        return io.csv_text(part, survey.separator, survey.stored, survey.booleans, header).encode("utf-8")

    def data() -> Iterator[bytes]:
        header = True
        if verbatim:
            with source.open("rb") as raw:
                while block := raw.read(_READ_BYTES):
                    yield block
            if not survey.ends_with_newline:
                yield survey.stored.line_ending.encode()
            header = False
        elif survey.stored.bom:
            yield codecs.BOM_UTF8
        if section.keep_original and not verbatim:
            for _, chunk in _chunks(source, survey):
                yield text(chunk, ["original"] * len(chunk), header)
                header = False
        for copy in range(made):
            rng = draws.copy(copy)
            for first, chunk in _chunks(source, survey):
                block = _chunk_block(survey, chunk, first)
                augment(section.transforms, rng, block, fired)
                origin = [str(i) for i in range(first, first + len(chunk))]
                yield text(table.variant(chunk.reset_index(drop=True), block, options["clip"]), origin, header)
                header = False
        if header:  # no rows were written at all: the header alone
            yield text(survey.like.copy(), [], True)
        records.extend([*fired.records(), draws.record()])

    counts = {
        "original": survey.rows if section.keep_original else 0,
        "augmented": survey.rows * made,
        "synthetic": 0,
    }
    return Rendered(data(), records, counts, (), tuple(survey.notes))


def _chunk_block(survey: _Survey, chunk: pd.DataFrame, first: int) -> Block:
    """A chunk's rows as a block; spread, donors and classes are the whole table's."""
    schema = survey.schema
    numeric = chunk[schema.numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    categorical = {name: chunk[name].to_numpy(dtype=object).copy() for name in schema.categorical}
    labels = chunk[schema.label].to_numpy(dtype=object) if schema.label else None
    return replace(survey.base, numeric=numeric, categorical=categorical, labels=labels, first_row=first)
