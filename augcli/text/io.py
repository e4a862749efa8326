"""Text files in and out: plain lines, CSV/TSV through the csv module, JSON Lines through json.

Encoding (with or without a UTF-8 BOM) and line endings are kept; quotes, separators, newlines
inside fields and Unicode survive a round trip, because the standard modules do the quoting.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from augcli.core.textfile import Stored, UnreadableFile, delimited, split_lines
from augcli.core.words import noun

ENCODING_HINT = "set 'encoding:' in the text section (e.g. latin-1) or convert the file"


@dataclass
class Table:
    """A labelled table: its rows as the csv or json modules read them, and how to write them back."""

    kind: str  # csv | jsonl
    header: list[str]
    rows: list[Any]  # csv: lists of cells; jsonl: (original line, parsed object)
    stored: Stored
    delimiter: str = ","


def read_csv(text: str, stored: Stored, delimiter: str, columns: tuple[str, ...]) -> Table:
    header, _, rows = delimited(text, delimiter)
    absent = [c for c in columns if c not in header]
    if absent:
        raise UnreadableFile(
            f"text {noun(len(absent), 'column')} {', '.join(map(repr, absent))} not in this table (its columns: "
            f"{', '.join(header)}); name the text columns with 'columns:' in the text section"
        )
    return Table("csv", header, list(rows), stored, delimiter)


class _Lines(list):
    """A file for csv.writer that keeps each row it writes as one string."""

    write = list.append


def csv_lines(table: Table, rows: Iterable[list[str]]) -> list[str]:
    """Each row as the csv module writes it (quoting, separator, the file's line ending), one string
    per row: rows formatted apart (in parallel, in workers) join into the same bytes."""
    lines = _Lines()
    csv.writer(lines, delimiter=table.delimiter, lineterminator=table.stored.line_ending).writerows(rows)
    return lines


def read_jsonl(text: str, stored: Stored, columns: tuple[str, ...]) -> Table:
    rows = []
    for number, line in enumerate(split_lines(text)[::2], start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"line {number} is not JSON: {exc.msg} (column {exc.colno})") from None
        except RecursionError:
            raise UnreadableFile(f"line {number} is nested too deeply to read") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise UnreadableFile(f"line {number} cannot be read: {exc}") from None
        if not isinstance(record, dict):
            raise UnreadableFile(f"line {number} is a JSON {type(record).__name__}, not an object")
        absent = [c for c in columns if c not in record]
        if absent:
            raise UnreadableFile(
                f"line {number} has no {', '.join(map(repr, absent))} (its keys: {', '.join(record)}); "
                "name the text keys with 'columns:' in the text section"
            )
        rows.append((line, record))
    return Table("jsonl", list(columns), rows, stored)


def jsonl_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)
