"""Manifest lines a run sets, held on disk: a first run of a million files makes two million.

Each output file has a manifest line (about 150 characters) that the state keeps to render
manifest.csv and the lines file. Held as strings in a dict, a first run over a million inputs
kept about 450 MB of them to its end. Past 65,536 lines, `SpilledLines` writes each line to an
unnamed temporary file (in OUTPUT during a run, beside the data: O_TMPFILE where Linux has it,
so a killed run leaves nothing) and keeps only where it lies, in Columns (about 20 bytes a line,
its key being the string the state already holds for the file). `Lines` is the read view the
state hands out: this run's lines over those the lines file had.
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


SPILL_AFTER = 1 << 16  # lines held as a dict before they go to the file (about 15 MB)


class SpilledLines:
    """cell -> manifest line: a dict while small; past SPILL_AFTER lines, the text on disk and where
    it lies in memory. The file goes in `folder` (OUTPUT: a run sets it) or else the system's
    temporary folder (a command that only reads OUTPUT, a read-only one too, writes nothing there);
    where no file can be made, the lines stay a dict."""

    __slots__ = ("_file", "_index", "_memory", "_size", "_unflushed", "folder")

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._memory: dict[str, str] | None = {}  # None once spilled
        self._file: IO[bytes] | None = None
        self._index = Columns(_WHERE.size)
        self._size = 0
        self._unflushed = False

    def _open(self) -> IO[bytes] | None:
        """An unnamed file (O_TMPFILE where Linux has it: a killed run leaves nothing), or None."""
        for folder in (self.folder, None) if self.folder is not None else (None,):
            try:
                return tempfile.TemporaryFile(dir=folder, prefix=TEMP_PREFIX)
            except OSError:
                continue
        return None

    def update(self, lines: Mapping[str, str]) -> None:
        memory = self._memory
        if memory is not None:
            memory.update(lines)
            if len(memory) <= SPILL_AFTER:
                return
            self._file = self._open()
            if self._file is None:
                return  # no file can be made: the lines stay in memory
            self._memory, lines = None, memory
        handle = self._file
        assert handle is not None
        for cell, line in lines.items():
            data = line.encode("utf-8", "surrogatepass")  # any str comes back as it was
            where = _WHERE.pack(self._size, len(data))
            handle.write(data)
            self._size += len(data)
            self._index.put(cell, where, where)
        self._unflushed = True

    def get(self, cell: str) -> str | None:
        if self._memory is not None:
            return self._memory.get(cell)
        where = self._index.get(cell)
        if where is None:
            return None
        offset, length = _WHERE.unpack(where)
        assert self._file is not None
        if self._unflushed:
            self._file.flush()
            self._unflushed = False
        return os.pread(self._file.fileno(), length, offset).decode("utf-8", "surrogatepass")

    @property
    def spilled(self) -> bool:
        return self._memory is None

    def __contains__(self, cell: object) -> bool:
        return cell in self._memory if self._memory is not None else self._index.contains(cell)

    def __iter__(self) -> Iterator[str]:
        return iter(self._memory if self._memory is not None else self._index)

    def __len__(self) -> int:
        return len(self._memory if self._memory is not None else self._index)

    def close(self) -> None:
        """Let the file go (its lines with it): once the state is saved."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._memory, self._index = {}, Columns(_WHERE.size)


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
