"""Table load and save with pandas: CSV/TSV (encoding, BOM and line endings kept), Parquet with pyarrow.

A CSV is first scanned with the csv module (textfile.delimited) so a ragged row is reported with
its line number; then pandas reads it with its usual type inference. `Source` keeps what is
needed to write the output table in the input's own dialect.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from augcli.core.errors import install_hint
from augcli.core.textfile import Stored, UnreadableFile, decode, delimited
from augcli.tabular import csvwrite

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Source:
    """How a table was stored, so its output is stored alike."""

    kind: str  # csv | parquet
    separator: str = ","
    stored: Stored = field(default_factory=Stored)
    booleans: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> its spelling of true, false
    header: str = ""  # the header line and the data rows as they were written, so the original rows
    body: str = ""  # can be copied through verbatim instead of being formatted again


def _delimited(path: Path, raw: bytes) -> tuple[pd.DataFrame, Source]:
    text, stored = decode(raw, "UTF-8", "save it as UTF-8")
    separator = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    header, body_start, rows = delimited(text, separator)
    sample: list[list[str]] = []  # the first rows, to learn how booleans are spelt
    for row in rows:
        if len(sample) < 200:
            sample.append(row)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=separator, skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFile(f"cannot parse the table: {exc}") from None
    body = text[body_start:]
    if body and not body.endswith(("\n", "\r")):
        body += stored.line_ending
    booleans = boolean_spelling(frame, header, sample)
    return frame, Source("csv", separator, stored, booleans, text[:body_start], body)


def boolean_spelling(frame: pd.DataFrame, header: list[str], sample: list[list[str]]) -> dict[str, tuple[str, str]]:
    """How each boolean column wrote true and false (pandas would write True / False)."""
    spelling = {}
    for j, name in enumerate(header):
        if name in frame.columns and pd.api.types.is_bool_dtype(frame[name]):
            word = next((row[j] for row in sample if j < len(row) and row[j].strip()), "True")
            if word.islower():
                spelling[name] = ("true", "false")
            elif word.isupper():
                spelling[name] = ("TRUE", "FALSE")
    return spelling


def load(path: Path) -> tuple[pd.DataFrame, Source]:
    """Read a whole table; refuse empty, ragged or undecodable ones with a reason."""
    raw = path.read_bytes()
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(io.BytesIO(raw)), Source("parquet")
        except ImportError:
            raise UnreadableFile(f"reading Parquet needs pyarrow: {install_hint('parquet', 'pyarrow')}") from None
        except Exception as exc:  # pyarrow raises its own error types
            raise UnreadableFile(f"cannot read Parquet: {exc}") from None
    return _delimited(path, raw)


def csv_text(
    frame: pd.DataFrame, separator: str, stored: Stored, booleans: dict[str, tuple[str, str]], header: bool
) -> str:
    """Rows as CSV text in the input's dialect: its separator, line ending and spelling of booleans."""
    if booleans:
        frame = frame.copy()
        for name, (true, false) in booleans.items():
            frame[name] = frame[name].map({True: true, False: false})
    fast = csvwrite.csv_rows(frame, separator, stored.line_ending, header)
    if fast is not None:
        return fast
    return frame.to_csv(index=False, header=header, sep=separator, lineterminator=stored.line_ending)


def dump(frame: pd.DataFrame, source: Source, verbatim_originals: bool = False) -> bytes:
    """Encode a table the way its input was stored.

    With `verbatim_originals`, `frame` holds only the rows after the original ones, and the input's
    header and rows are copied through as they were written (formatting floats is most of the cost
    of writing a CSV, and the originals come back byte for byte).
    """
    if source.kind == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    text = csv_text(frame, source.separator, source.stored, source.booleans, not verbatim_originals)
    if verbatim_originals:
        text = source.header + source.body + text
    return source.stored.encode(text)
