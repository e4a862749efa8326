"""Text files as their users stored them, shared by the text and tabular modalities.

Decoding names the encoding, line and byte that failed; a UTF-8 byte-order mark and the line
ending are remembered so outputs are written the same way; delimited rows are checked as they are
read, so a ragged row is reported with its line (pandas would pad a short row with blanks).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from augcli.core.errors import InputError

_LINE_BREAK = re.compile(r"(\r\n|\n|\r)")


class UnreadableFile(InputError):
    """A text file that cannot be decoded or parsed as its kind demands."""


@dataclass(frozen=True)
class Stored:
    """How a text file was stored: its encoding, whether it began with a BOM, its line ending."""

    encoding: str = "utf-8"
    bom: bool = False
    line_ending: str = "\n"

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode(self.encoding)


def decode(raw: bytes, encoding: str, hint: str) -> tuple[str, Stored]:
    """The text of a file and how it was stored; `hint` says what to do when it is not `encoding`."""
    if not raw:
        raise UnreadableFile("empty file")
    bom = raw.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8"
    try:
        text = raw[len(codecs.BOM_UTF8) if bom else 0 :].decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnreadableFile(f"not {encoding} text (line {line}, byte {exc.start}): {hint}") from None
    return text, Stored(encoding, bom, line_ending(text))


def line_ending(text: str) -> str:
    """The file's first line break (CRLF, LF or CR), or LF for a single line."""
    found = _LINE_BREAK.search(text)
    return found.group(0) if found else "\n"


def split_lines(text: str) -> list[str]:
    """Alternating line contents and line breaks: "".join(split_lines(t)) == t. Only CR, LF and
    CRLF end a line (str.splitlines would also split at U+2028, which JSON may hold unescaped)."""
    return _LINE_BREAK.split(text)


def delimited(text: str, delimiter: str) -> tuple[list[str], int, Iterator[list[str]]]:
    """The header, where the rows start in `text`, and the rows (blank lines skipped), each
    checked to have as many fields as the header as it is read."""
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    header = read_header(reader)
    return header, stream.tell(), checked_rows(reader, header)


def read_header(reader: Any) -> list[str]:
    """A csv reader's first row, refused when missing or when it names a column twice."""
    header = next(reader, None)
    if not header:
        raise UnreadableFile("empty table: no header row")
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        raise UnreadableFile(f"duplicate column names: {', '.join(duplicates)}")
    return header


def checked_rows(reader: Any, header: list[str]) -> Iterator[list[str]]:
    """The reader's remaining rows (blank lines skipped), each checked to have the header's width."""
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise UnreadableFile(
                f"ragged table: line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
            )
        yield row
