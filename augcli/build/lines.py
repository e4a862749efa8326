"""Manifest lines a run sets, held on disk: a first run of a million files makes two million.

Each output file has a manifest line (about 150 characters) that the state keeps to render
manifest.csv and the lines file. Held as strings in a dict, a first run over a million inputs
kept about 450 MB of them to its end. `SpilledLines` writes each line to an unnamed temporary
file as it is set (in OUTPUT, beside the data: O_TMPFILE where Linux has it, so a killed run
leaves nothing) and keeps only where it lies, in Columns (about 20 bytes a line, its key being
the string the state already holds for the file). `Lines` is the read view the state hands out:
this run's lines over those the lines file had.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from augcli.build.columns import Columns
from augcli.storage.tree import TEMP_PREFIX

_WHERE = struct.Struct("<QI")  # offset and length of a line's UTF-8 bytes in the file


class SpilledLines:
    """cell -> manifest line, the text on disk and where it lies in memory."""

    __slots__ = ("_file", "_folder", "_index", "_size", "_unflushed")

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder  # where the file goes (OUTPUT); None: the system's temporary folder
        self._file: IO[bytes] | None = None  # made at the first line: a no-op run makes none
        self._index = Columns(_WHERE.size)
        self._size = 0
        self._unflushed = False

    def _handle(self) -> IO[bytes]:
        if self._file is None:
            folder = self._folder if self._folder is not None and self._folder.is_dir() else None
            self._file = tempfile.TemporaryFile(dir=folder, prefix=TEMP_PREFIX)  # noqa: SIM115 (held for the run)
        return self._file

    def update(self, lines: Mapping[str, str]) -> None:
        if not lines:
            return
        handle = self._handle()
        for cell, line in lines.items():
            data = line.encode("utf-8", "surrogatepass")  # any str comes back as it was
            where = _WHERE.pack(self._size, len(data))
            handle.write(data)
            self._size += len(data)
            self._index.put(cell, where, where)
        self._unflushed = True

    def get(self, cell: str) -> str | None:
        index = self._index
        where = index.extra.get(cell) if index.extra and type(cell) is str else None
        if where is None:
            at = index.index(cell)
            if at < 0:
                return None
            where = index.fixed(at)
        offset, length = _WHERE.unpack(where)
        assert self._file is not None
        if self._unflushed:
            self._file.flush()
            self._unflushed = False
        return os.pread(self._file.fileno(), length, offset).decode("utf-8", "surrogatepass")

    def __contains__(self, cell: object) -> bool:
        return self._index.contains(cell)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Lines(Mapping):
    """The lines a state knows: this run's (`spilled`) over the lines file's (`base`)."""

    __slots__ = ("base", "spilled")

    def __init__(self, base: Mapping[str, str], spilled: SpilledLines | None) -> None:
        self.base, self.spilled = base, spilled

    def __getitem__(self, cell: str) -> str:
        if self.spilled is not None:
            line = self.spilled.get(cell)
            if line is not None:
                return line
        return self.base[cell]

    def __contains__(self, cell: object) -> bool:
        return (self.spilled is not None and cell in self.spilled) or cell in self.base

    def __iter__(self) -> Iterator[str]:
        spilled = self.spilled
        if spilled is None:
            yield from self.base
            return
        yield from spilled
        yield from (cell for cell in self.base if cell not in spilled)

    def __len__(self) -> int:
        if self.spilled is None:
            return len(self.base)
        return len(self.spilled) + sum(1 for cell in self.base if cell not in self.spilled)
