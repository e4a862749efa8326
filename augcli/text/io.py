"""Text files in and out: plain lines, CSV/TSV through the csv module, JSON Lines through json.

Encoding (with or without a UTF-8 BOM) and line endings are kept; quotes, separators, newlines
inside fields and Unicode survive a round trip, because the standard modules do the quoting.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augcli.errors import InputError

_LINE_BREAK = re.compile(r"(\r\n|\n|\r)")


class UnreadableText(InputError):
    """A text file that cannot be decoded or parsed as its kind demands."""


@dataclass(frozen=True)
class Encoded:
    """How a file was stored: its encoding, whether it began with a BOM, its line ending."""

    encoding: str
    bom: bool
    line_ending: str

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode(self.encoding)


def decode(path: Path, encoding: str) -> tuple[str, Encoded]:
    raw = path.read_bytes()
    if not raw:
        raise UnreadableText("empty file")
    bom = raw.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8"
    try:
        text = raw[len(codecs.BOM_UTF8) if bom else 0 :].decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnreadableText(
            f"not {encoding} text (line {line}, byte {exc.start}): set 'encoding:' in the text section "
            "(e.g. latin-1) or convert the file"
        ) from None
    found = _LINE_BREAK.search(text)
    return text, Encoded(encoding, bom, found.group(0) if found else "\n")


def split_lines(text: str) -> list[str]:
    """Alternating line contents and line breaks: "".join(split_lines(t)) == t."""
    return _LINE_BREAK.split(text)


@dataclass
class Table:
    """A labelled table: its rows as the csv or json modules read them, and how to write them back."""

    kind: str  # csv | jsonl
    header: list[str]
    rows: list[Any]  # csv: lists of cells; jsonl: (original line, parsed object)
    stored: Encoded
    delimiter: str = ","


def read_csv(text: str, stored: Encoded, delimiter: str, columns: tuple[str, ...]) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise UnreadableText("empty table: no header row")
    absent = [c for c in columns if c not in header]
    if absent:
        raise UnreadableText(
            f"text column(s) {', '.join(map(repr, absent))} not in this table (its columns: {', '.join(header)}); "
            "name them with 'columns:' in the text section"
        )
    rows = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise UnreadableText(
                f"ragged table: line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
            )
        rows.append(row)
    return Table("csv", header, rows, stored, delimiter)


def write_csv(table: Table, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=table.delimiter, lineterminator=table.stored.line_ending)
    writer.writerow(table.header)
    writer.writerows(rows)
    return table.stored.encode(buffer.getvalue())


def read_jsonl(text: str, stored: Encoded, columns: tuple[str, ...]) -> Table:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableText(f"line {number} is not JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise UnreadableText(f"line {number} is a JSON {type(record).__name__}, not an object")
        absent = [c for c in columns if c not in record]
        if absent:
            raise UnreadableText(
                f"line {number} has no {', '.join(map(repr, absent))} (its keys: {', '.join(record)}); "
                "name the text keys with 'columns:' in the text section"
            )
        rows.append((line, record))
    return Table("jsonl", list(columns), rows, stored)


def jsonl_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)
