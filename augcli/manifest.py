"""manifest.csv: one row per file written, sorted by output path; same run, same bytes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augcli.fsutil import write_atomic

COLUMNS = ("output", "source", "modality", "copy", "transforms", "rows")


@dataclass(frozen=True)
class Row:
    output: str  # POSIX, relative to OUTPUT
    source: str  # POSIX, relative to INPUT
    modality: str
    copy: int | None  # None for an original
    transforms: tuple[dict[str, Any], ...] = ()
    rows: dict[str, int] | None = None  # a table's row counts by kind (original, augmented, synthetic)

    def cells(self) -> list[str]:
        applied = _json(list(self.transforms))
        counts = "" if self.rows is None else _json(self.rows)
        return [self.output, self.source, self.modality, "" if self.copy is None else str(self.copy), applied, counts]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render(rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=lambda r: r.output):
        writer.writerow(row.cells())
    return buffer.getvalue().encode("utf-8")


def write(path: Path, rows: Iterable[Row]) -> None:
    write_atomic(path, render(rows))


def read_outputs(path: Path) -> list[str]:
    """The output paths an earlier manifest lists (empty if there is none or it is unreadable)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [row["output"] for row in csv.DictReader(handle) if row.get("output")]
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return []
