"""manifest.csv: one row per file in OUTPUT, sorted by output path; same run, same bytes.

`kind` says what a row is (original, copy, passthrough, table, dataset); `copy` is the copy number,
-1 for every row that is not an augmented copy, so pandas reads the column as integers.

Every field round-trips through Python's csv module and pandas whatever it holds: fields with a
comma, quote, tab, carriage return, newline or a leading = + - @ are quoted. Paths are the file
names as UTF-8; a name that is not valid UTF-8 (Linux allows any bytes) is written with each
undecodable byte as `\\xNN` after the marker `bytes:` — lossless, and `decode_path` reverses it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMNS = ("output", "source", "modality", "kind", "copy", "class", "transforms", "rows", "sha256")
KINDS = ("original", "copy", "passthrough", "table", "dataset", "record")
FIELD_LIMIT = 100_000  # characters: Python's csv module refuses fields over 131,072 by default
RECORD_FILE = "records_file"  # the one record of a row whose records live in a side file
NOT_A_COPY = -1  # `copy` of a row that is not an augmented copy: the column stays integer for pandas
BYTES_MARK = "bytes:"
_ESCAPED = re.compile(r"\\x([89a-f][0-9a-f])|\\\\|\\.?", re.DOTALL)  # the last: any other backslash


@dataclass(frozen=True)
class Row:
    output: str  # POSIX, relative to OUTPUT
    source: str  # POSIX, relative to INPUT
    modality: str
    copy: int | None  # None for an original
    transforms: tuple[dict[str, Any], ...] = ()
    rows: dict[str, int] | None = None  # a table's row counts by kind (original, augmented, synthetic)
    sha256: str = ""
    kind: str = ""  # one of KINDS; empty: "copy" when `copy` is set, else "original"
    group: str = ""  # the `class` column: the source's class in a balanced section

    def cells(self) -> list[str]:
        applied = _json(list(self.transforms))
        counts = "" if self.rows is None else _json(self.rows)
        kind = self.kind or ("original" if self.copy is None else "copy")
        copy = str(NOT_A_COPY if self.copy is None else self.copy)
        cells = [encode_path(self.output), encode_path(self.source), self.modality, kind, copy, self.group, applied]
        cells.append(counts)
        return [*cells, self.sha256]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_path(path: str) -> str:
    """A path as the manifest writes it: itself when it is valid UTF-8, else the lossless `bytes:` form."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return BYTES_MARK + _escape_bytes(os.fsencode(path))
    return path if not path.startswith(BYTES_MARK) else BYTES_MARK + _escape_bytes(os.fsencode(path))


def _escape_bytes(raw: bytes) -> str:
    """Backslashes doubled, undecodable bytes as \\xNN, everything else as UTF-8 text."""
    out = []
    text = raw.decode("utf-8", "surrogateescape")
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        else:
            out.append(char)
    return "".join(out)


def decode_path(cell: str) -> str:
    """The file name (as Python's os functions take it) that a manifest cell stands for.

    A `bytes:` cell is read back as augcli writes it: only `\\\\` and `\\xNN` escapes of the bytes
    0x80-0xff that are not UTF-8 (anything else, such as an escaped '/' or NUL, is UntrustedError),
    and the name it gives must be a relative path inside its root (check_relative)."""
    if not cell.startswith(BYTES_MARK):
        return cell
    from augcli.storage.untrusted import UntrustedError, check_relative

    body = cell[len(BYTES_MARK) :]

    def unescape(match: re.Match) -> str:
        if match.group(0) == "\\\\":
            return "\\"
        if match.group(1) is None:
            raise UntrustedError(f"path {cell!r}: {match.group(0)!r} is not an escape augcli writes")
        return chr(0xDC00 + int(match.group(1), 16))

    raw = _ESCAPED.sub(unescape, body)
    try:
        path = os.fsdecode(raw.encode("utf-8", "surrogateescape"))
    except UnicodeError:
        raise UntrustedError(f"path {cell!r}: not a name augcli writes") from None
    return check_relative(path, f"path {cell!r}")


def side_record(row: Row) -> tuple[str, bytes] | None:
    """(path, bytes) of the hidden file that holds a row's records when their JSON is longer than a
    csv field may be (a class-weight table of a 12,000-class balance), else None."""
    data = record_bytes(row.transforms)
    if len(data) <= FIELD_LIMIT:
        return None
    folder, slash, name = row.output.rpartition("/")
    return f"{folder}{slash}.{name}.records.json", data


def record_bytes(records: Iterable[dict[str, Any]]) -> bytes:
    """Records as the manifest's `transforms` cell writes them, in bytes (a side file's content)."""
    return _json(list(records)).encode("utf-8", "surrogateescape")


def reference(side: str, data: bytes) -> dict[str, Any]:
    """The record that stands for records moved to a side file: its path (relative to OUTPUT) and hash."""
    return {"name": RECORD_FILE, "params": {"file": encode_path(side), "sha256": hashlib.sha256(data).hexdigest()}}


def resolve_records(rows: list[dict[str, str]], output_root: Path) -> None:
    """Put back the records of rows that moved them to a side file, in place. The manifest is read
    back from OUTPUT: the side file's path must lie inside it and its hash must match."""
    from augcli.storage.tree import OutputTree
    from augcli.storage.untrusted import UntrustedError, check_relative, load_json

    for row in rows:
        cell = row.get("transforms") or ""
        if RECORD_FILE not in cell or not cell.startswith("[{"):
            continue
        try:
            (record,) = load_json(cell, "a transforms cell")
            params = record["params"]
        except (ValueError, TypeError, KeyError):  # not a reference: check_rows says what is wrong
            continue
        if record.get("name") != RECORD_FILE or not isinstance(params, dict):
            continue
        side = check_relative(decode_path(str(params.get("file"))), f"manifest row {row.get('output')!r}")
        with OutputTree(output_root) as tree:  # folder by folder, never through a link, never a FIFO
            data = tree.read_regular(side, 1 << 30)
        if hashlib.sha256(data).hexdigest() != params.get("sha256"):
            raise UntrustedError(f"{side}: its bytes are not the ones manifest.csv records")
        row["transforms"] = data.decode("utf-8", "surrogateescape")


def line(cells: list[str]) -> str:
    """One row as CSV text. Made once, when the file is written: a rerun joins the lines it kept."""
    return ",".join(map(_field, cells))


def render(lines: Iterable[tuple[str, str]]) -> bytes:
    """The manifest's bytes from (path cell, line) pairs, sorted by output path."""
    return b"".join(render_chunks(text for _, text in sorted(lines)))


def render_chunks(texts: Iterable[str], batch: int = 8192) -> Iterator[bytes]:
    """The manifest's bytes in pieces, from its lines already in order: a million-line manifest is
    never one string (nor its bytes) in memory."""
    rows = [",".join(COLUMNS)]
    for text in texts:
        rows.append(text)
        if len(rows) >= batch:
            yield ("\n".join(rows) + "\n").encode("utf-8")
            rows = []
    if rows:
        yield ("\n".join(rows) + "\n").encode("utf-8")


_NEEDS_QUOTES = re.compile(r'[,"\r\n\t]|^[=+\-@ ](?!\d+$)|\s$')  # -1 is a number, not a formula


def _field(cell: str) -> str:
    """A CSV field: quoted (quotes doubled) when a reader could split or misread it; csv.writer
    leaves a carriage return unquoted when the line ends in a bare newline, which splits the row."""
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell


def read(path: Path) -> list[dict[str, str]]:
    """The rows of a manifest read back from OUTPUT, as dicts by column. Read bounded (never a FIFO
    or device, never over MANIFEST_LIMIT: refused unread); UntrustedError names the file for what
    is not UTF-8 CSV; FileNotFoundError when there is none."""
    from augcli.storage.untrusted import MANIFEST_LIMIT, UntrustedError, read_state_file

    data = read_state_file(path, MANIFEST_LIMIT)
    try:
        return list(csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UntrustedError(f"cannot read {path}: {exc}") from None


REQUIRED = ("output", "source", "modality", "kind", "copy", "transforms", "sha256")  # "class", "rows": newer


def check_rows(rows: list[dict[str, str]], path: Path) -> None:
    """Refuse (UntrustedError naming `path` and the line) rows of a shape augcli never writes,
    before anything uses them: a required column missing, a row of the wrong length, a path that
    is not inside its root, an unknown kind or modality, a `copy` that is not an integer, a
    `transforms` cell that is not a JSON list of records (objects; a record's name a string, its
    params an object, its samples or rows a count), a `rows` cell that is not an object of counts."""
    from augcli.core.modalities import MODALITIES
    from augcli.storage.untrusted import JSON_DEPTH, UntrustedError, load_json, relative_path_problem

    for number, row in enumerate(rows, start=2):
        where = f"{path}, line {number}"
        missing = [column for column in REQUIRED if row.get(column) is None]
        if missing or None in row or any(value is None for value in row.values()):
            why = f"no {missing[0]} column" if missing and number == 2 else "not as many fields as the header"
            raise UntrustedError(f"{where}: {why}: it is not a manifest augcli wrote")
        kind = row["kind"]
        if kind not in KINDS:
            raise UntrustedError(f"{where}: kind {kind!r} is not one augcli writes")
        if row["modality"] not in MODALITIES:
            raise UntrustedError(f"{where}: modality {row['modality']!r} is not one augcli has")
        if not _INTEGER.match(row["copy"]):
            raise UntrustedError(f"{where}: copy {row['copy']!r} is not an integer")
        for column in ("output", "source"):
            if column == "source" and not row["source"] and kind == "dataset":
                continue  # the dataset card: made from every output, it has no source
            problem = relative_path_problem(decode_path(row[column]))
            if problem:
                raise UntrustedError(f"{where}: {column}: {problem}; augcli reads only files inside its roots")
        records = load_json(row["transforms"] or "[]", f"{where}: transforms", JSON_DEPTH)
        if not isinstance(records, list) or not all(_is_record(record) for record in records):
            raise UntrustedError(f"{where}: transforms is not a list of records as augcli writes them")
        counts = load_json(row.get("rows") or "{}", f"{where}: rows", JSON_DEPTH)
        if not isinstance(counts, dict) or not all(_is_count(n) for n in counts.values()):
            raise UntrustedError(f"{where}: rows is not an object of counts")


_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_record(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("name", ""), str)
        and isinstance(record.get("params", {}), dict)
        and all(_is_count(record[key]) for key in ("samples", "rows") if key in record)
    )
