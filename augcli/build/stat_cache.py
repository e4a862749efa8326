"""The stat cache, packed: size, mtime and inode of each file last seen, with its sha256 for inputs.

`.augcli-cache.json` is `{"hashes": {path: [size, mtime_ns, inode, sha256]}, "stamps": {cell:
[size, mtime_ns, inode]}}`. Parsed as lists of ints and hex strings, a million-file OUTPUT's cache
is about a gigabyte in memory; a StatTable holds each entry as 24 bytes of stat (then the hash's
32) in one bytearray beside a sorted list of paths, reads the file entry by entry (json_stream:
neither the file's text nor the lists exist all at once), and writes the same text back. It only
saves hashing: an entry of the wrong shape is dropped, never trusted and never fatal.
"""

from __future__ import annotations

import json
import json.encoder
import os
import struct
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from augcli.build.columns import Columns
from augcli.build.records import exact_hex
from augcli.storage import json_stream
from augcli.storage.untrusted import STATE_FILE_LIMIT, open_state_file, read_json_text

_STAT = struct.Struct("<qqQ")  # size, mtime_ns, inode
_WIDE = b"\x00" * 25  # the prefix of a stat outside _STAT's range (a year past 2262): never 24 bytes long
_ENCODE_KEY = json.encoder.encode_basestring_ascii  # how json.dumps spells a key (ensure_ascii)


def pack_stat(size: int, mtime_ns: int, inode: int) -> bytes:
    """A stat as bytes, equal exactly when the three numbers are."""
    try:
        return _STAT.pack(size, mtime_ns, inode)
    except struct.error:
        return _WIDE + f"{size} {mtime_ns} {inode}".encode()


def stat_of(info: os.stat_result) -> bytes:
    return pack_stat(info.st_size, info.st_mtime_ns, info.st_ino)


def _numbers(stat: bytes) -> list[int]:
    if len(stat) == _STAT.size:
        return list(_STAT.unpack(stat))
    return [int(part) for part in stat[len(_WIDE) :].split()]


def _packed(value: Any, width: int) -> bytes | None:
    """A cache entry as the file spells it ([size, mtime_ns, inode] and, for width 4, a sha256),
    packed; None when it is not of that shape (ints, not bools; a lowercase sha256)."""
    if type(value) is not list or len(value) != width:
        return None
    size, mtime, inode = value[0], value[1], value[2]
    if type(size) is not int or type(mtime) is not int or type(inode) is not int:
        return None
    stat = pack_stat(size, mtime, inode)
    if width == 3:
        return stat
    sha = value[3]
    digest = exact_hex(sha) if type(sha) is str and len(sha) == 64 else None  # as augcli wrote it
    return None if digest is None else stat + digest


class StatTable(MutableMapping):
    """path -> [size, mtime_ns, inode] (width 3) or [size, mtime_ns, inode, sha256] (width 4), each
    held packed. Reading an entry gives a new list; `current` answers the hot question without one.

    Held as Columns: entries that come in path order (a cache file as augcli writes it, a run's
    stamps in plan order) cost their 24 or 56 bytes and a list slot, about 70 bytes an entry less
    than a dict of bytes objects (a million-file OUTPUT's cache holds three million); a stat past
    2262 (longer bytes) or an entry out of order sits in the dict beside them."""

    __slots__ = ("_columns", "width")

    def __init__(self, width: int, entries: Mapping[str, Any] | None = None) -> None:
        self.width = width
        self._columns = Columns(_STAT.size + (32 if width == 4 else 0))
        if entries:
            self.learn(entries)

    def _entry(self, path: str) -> bytes | None:
        columns = self._columns
        packed = columns.extra.get(path) if columns.extra and type(path) is str else None
        if packed is not None:
            return packed
        at = columns.index(path)
        return None if at < 0 else columns.fixed(at)

    def _put(self, path: str, packed: bytes) -> None:
        self._columns.put(path, packed if len(packed) == self._columns.size else None, packed)

    def _packed_items(self) -> Iterator[tuple[str, bytes]]:
        yield from self._columns.list_items()
        yield from self._columns.extra.items()

    def _numbers_of(self, packed: bytes) -> list[Any]:
        if self.width == 3:
            return _numbers(packed)
        return [*_numbers(packed[:-32]), packed[-32:].hex()]

    def __getitem__(self, path: str) -> list[Any]:
        packed = self._entry(path)
        if packed is None:
            raise KeyError(path)
        return self._numbers_of(packed)

    def get(self, path: str, default: Any = None) -> Any:
        packed = self._entry(path)
        return default if packed is None else self._numbers_of(packed)

    def __setitem__(self, path: str, value: Any) -> None:
        packed = _packed(list(value) if type(value) is tuple else value, self.width)
        if packed is None:
            raise ValueError(f"{value!r} is not a cache entry of {self.width} fields")
        self._put(path, packed)

    def __delitem__(self, path: str) -> None:
        if not self._columns.discard(path):
            raise KeyError(path)

    def __contains__(self, path: object) -> bool:
        return self._columns.contains(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"StatTable({self.width}, {dict(self.items())!r})"

    def learn(self, entries: Mapping[str, Any]) -> None:
        """Add the entries of the right shape (a journal's, another table's); drop the rest."""
        if isinstance(entries, StatTable) and entries.width == self.width:
            for path, packed in entries._packed_items():
                self._put(path, packed)
            return
        for path, value in entries.items():
            packed = _packed(value, self.width)
            if packed is not None and type(path) is str:
                self._put(path, packed)

    def read_entry(self, path: str, packed: bytes | None) -> None:
        """An entry as a cache file spells it, in the file's order: None (of the wrong shape) drops
        what an earlier entry of the same path said, as the last of equal keys decides in json.loads."""
        if packed is None:
            self._columns.discard(path)
        else:
            self._put(path, packed)

    def keep(self, paths: Iterable[str]) -> StatTable:
        """A new table of these paths' entries (those it has)."""
        wanted = paths if isinstance(paths, (set, frozenset, dict)) else set(paths)
        kept = StatTable(self.width)
        for path, packed in self._packed_items():  # the list's in order: the new list needs no sorting
            if path in wanted:
                kept._put(path, packed)
        return kept

    def put_stat(self, path: str, stat: bytes) -> None:
        """Remember a file's stat as `stat_of` packed it (width 3)."""
        self._put(path, stat)

    def current(self, path: str, stat: bytes) -> bool:
        """Whether the stat remembered for `path` is this one (width 3)."""
        return self._entry(path) == stat

    def sha_if_current(self, path: str, stat: bytes) -> str | None:
        """The remembered sha256 of `path` when its remembered stat is this one (width 4)."""
        packed = self._entry(path)
        if packed is None or len(packed) != len(stat) + 32 or not packed.startswith(stat):
            return None
        return packed[-32:].hex()

    def json_chunks(self, paths: Iterable[str]) -> Iterator[str]:
        """`"path":[...]` for each of these paths (sorted, as json.dumps with sort_keys writes them)."""
        width = self.width
        for path in sorted(paths):
            packed = self._entry(path)
            if packed is None:
                raise KeyError(path)
            numbers = _numbers(packed if width == 3 else packed[:-32])
            tail = "" if width == 3 else f',"{packed[-32:].hex()}"'
            yield f"{_ENCODE_KEY(path)}:[{numbers[0]},{numbers[1]},{numbers[2]}{tail}]"


def write_chunks(hashes: StatTable, stamps: StatTable, stamp_paths: Iterable[str]) -> Iterator[bytes]:
    """The cache file's text, as json.dumps(sort_keys=True, separators=(",", ":")) spells it, in pieces."""
    for name, table, paths in (("hashes", hashes, list(hashes)), ("stamps", stamps, stamp_paths)):
        batch = ['{"hashes":{' if name == "hashes" else '},"stamps":{']
        for index, piece in enumerate(table.json_chunks(paths)):
            batch.append("," + piece if index else piece)
            if len(batch) >= 4096:
                yield "".join(batch).encode()
                batch.clear()
        yield "".join(batch).encode()
    yield b"}}"


def read_file(
    file: Path, shared: Mapping[str, Any] | None = None, inputs: Mapping[str, str] | None = None
) -> tuple[StatTable, StatTable]:
    """The hashes and stamps of a cache file, read a piece at a time; entries of the wrong shape
    are dropped, ValueError when the document is not two mappings. `shared` maps a stamp's path to
    an object whose `cells` may be the same text, and `inputs` an input's path to the plan's string
    for it: those strings are kept as keys (one string serves both)."""
    try:
        with open_state_file(file) as handle:
            return _tables(json_stream.read_object(handle, STATE_FILE_LIMIT, _members(shared, inputs)))
    except json_stream.NotStreamable:
        return _from_document(read_json_text(file))


def _members(
    shared: Mapping[str, Any] | None, inputs: Mapping[str, str] | None = None
) -> dict[str, json_stream.BigMember]:
    def keep_hash(table: StatTable, path: str, value: Any) -> None:
        packed = _packed(value, 4)  # (a call per entry: a million-file cache reads in about a second)
        table.read_entry(path if inputs is None else inputs.get(path, path), packed)

    def keep_stamp(table: StatTable, path: str, value: Any) -> None:
        packed = _packed(value, 3)
        if packed is not None and shared is not None:
            cells = getattr(shared.get(path), "cells", None)
            if type(cells) is str and cells == path:
                path = cells
        table.read_entry(path, packed)

    return {
        "hashes": json_stream.BigMember(json_stream.PLAIN_SCAN, lambda: StatTable(4), keep_hash),
        "stamps": json_stream.BigMember(json_stream.PLAIN_SCAN, lambda: StatTable(3), keep_stamp),
    }


def _tables(members: dict[str, Any]) -> tuple[StatTable, StatTable]:
    hashes, stamps = members.get("hashes"), members.get("stamps")
    if type(hashes) is not StatTable or type(stamps) is not StatTable:
        raise ValueError("the cache is not two mappings")
    return hashes, stamps


def _from_document(text: str) -> tuple[StatTable, StatTable]:
    """A cache document parsed whole (written otherwise than augcli writes it, or not JSON)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("the cache nests too deep") from None
    if type(data) is not dict or type(data.get("hashes")) is not dict or type(data.get("stamps")) is not dict:
        raise ValueError("the cache is not two mappings")
    return StatTable(4, data["hashes"]), StatTable(3, data["stamps"])
