"""The stat cache, packed: size, mtime and inode of each file last seen, with its sha256 for inputs.

`.augcli-cache.json` is `{"hashes": {path: [size, mtime_ns, inode, sha256]}, "stamps": {cell:
[size, mtime_ns, inode]}}`. Parsed as lists of ints and hex strings, a million-file OUTPUT's cache
is about a gigabyte in memory; a StatTable holds each entry as 24 bytes of stat (then the hash's
32) in one bytearray beside a sorted list of paths, reads the file entry by entry (json_stream:
neither the file's text nor the lists exist all at once), and writes the same text back. It only
saves hashing: an entry of the wrong shape is dropped, never trusted and never fatal.
"""

from __future__ import annotations

import heapq
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
    2262 (longer bytes) or an entry out of order sits in the dict beside them. With a `prefix`
    (INPUT's folder, for the input hashes) a path under it is held without it, so the plan's
    relative path can serve as the key and no input's whole path is kept (about 110 bytes an
    input); a path elsewhere is held whole, apart."""

    __slots__ = ("_columns", "_marked", "_marked_outside", "_marks", "_outside", "prefix", "width")

    def __init__(self, width: int, entries: Mapping[str, Any] | None = None, prefix: str = "") -> None:
        self.width = width
        self.prefix = prefix
        self._columns = Columns(_STAT.size + (32 if width == 4 else 0))
        self._outside: dict[str, bytes] = {}  # whole paths not under the prefix
        self._marks = bytearray()  # 1 at i: entry i of the list was asked for this run (mark)
        self._marked: set[str] = set()  # the same for the keys of the entries beside the list
        self._marked_outside: set[str] = set()  # and for the whole paths held apart (never a key: see inner)
        if entries:
            self.learn(entries)

    def inner(self, path: str) -> str | None:
        """The key a path is held under: itself, or its part after the prefix; None when it is not
        under the prefix (held whole, apart)."""
        prefix = self.prefix
        if not prefix:
            return path
        return path[len(prefix) :] if type(path) is str and path.startswith(prefix) else None

    def _entry(self, path: str) -> bytes | None:
        key = self.inner(path)
        if key is None:
            return self._outside.get(path)
        return self._columns.get(key)

    def _put(self, path: str, packed: bytes, key: str | None = None) -> None:
        """Remember an entry (unmarked); `key`: the string to hold it under (equal to inner(path))."""
        if key is None:
            key = self.inner(path)
        if self._marks or self._marked or self._marked_outside:
            self._unmark(path, key)
        if key is None:
            self._outside[path] = packed
            return
        self._columns.put(key, packed if len(packed) == self._columns.size else None, packed)

    def _discard(self, path: str) -> bool:
        key = self.inner(path)
        if self._marks or self._marked or self._marked_outside:
            self._unmark(path, key)
        if key is None:
            return self._outside.pop(path, None) is not None
        return self._columns.discard(key)

    def _unmark(self, path: str, key: str | None) -> None:
        if key is None:
            self._marked_outside.discard(path)
            return
        self._marked.discard(key)
        at = self._columns.index(key)
        if 0 <= at < len(self._marks):
            self._marks[at] = 0

    def _packed_items(self) -> Iterator[tuple[str, bytes]]:
        """(path, packed) of every entry: the list's in path order, then the rest."""
        prefix = self.prefix
        for key, packed in self._columns.list_items():
            yield prefix + key, packed
        for key, packed in self._columns.extra.items():
            yield prefix + key, packed
        yield from self._outside.items()

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
        self.set_entry(path, value)

    def set_entry(self, path: str, value: Any, key: str | None = None) -> None:
        """table[path] = value, held under `key` when given (a string equal to inner(path))."""
        packed = _packed(list(value) if type(value) is tuple else value, self.width)
        if packed is None:
            raise ValueError(f"{value!r} is not a cache entry of {self.width} fields")
        self._put(path, packed, key if key is not None and key == self.inner(path) else None)

    def __delitem__(self, path: str) -> None:
        if not self._discard(path):
            raise KeyError(path)

    def __contains__(self, path: object) -> bool:
        key = self.inner(path) if type(path) is str else None
        return self._columns.contains(key) if key is not None else path in self._outside

    def __iter__(self) -> Iterator[str]:
        return (path for path, _ in self._packed_items())

    def __len__(self) -> int:
        return len(self._columns) + len(self._outside)

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

    def read_entry(self, path: str, packed: bytes | None, key: str | None = None) -> None:
        """An entry as a cache file spells it, in the file's order: None (of the wrong shape) drops
        what an earlier entry of the same path said, as the last of equal keys decides in json.loads."""
        if packed is None:
            self._discard(path)
        else:
            self._put(path, packed, key)

    def mark(self, path: str) -> None:
        """Note that this run asked for `path`'s entry as it is (what keep_marked keeps; putting or
        deleting the entry clears the mark): a byte per entry of the list, not a set of a million
        paths."""
        key = self.inner(path)
        if key is None:
            if path in self._outside:
                self._marked_outside.add(path)
            return
        columns = self._columns
        at = columns.index(key)
        if at >= 0:
            self._mark_at(at)
        elif columns.extra and key in columns.extra:
            self._marked.add(key)

    def _mark_at(self, at: int) -> None:
        """Mark entry `at` of the list (the marks grow with the list)."""
        marks = self._marks
        if len(marks) <= at:
            marks.extend(bytes(len(self._columns.keys) - len(marks)))
        marks[at] = 1

    def _marked_items(self, marked: bool) -> Iterator[tuple[str, str | None, bytes]]:
        """(key in the list or None, path, packed) of the entries marked (or not): the list's in order."""
        columns, marks, prefix = self._columns, self._marks, self.prefix
        for at, key, packed in columns.indexed_items():
            if (at < len(marks) and marks[at] == 1) == marked:
                yield key, prefix + key, packed
        for key, packed in columns.extra.items():
            if (key in self._marked) == marked:
                yield None, prefix + key, packed
        for path, packed in self._outside.items():
            if (path in self._marked_outside) == marked:
                yield None, path, packed

    def all_marked(self) -> bool:
        """Whether this run asked for every entry."""
        columns, marks = self._columns, self._marks
        if not columns.gone:  # the list's marks checked in C
            listed = len(columns.keys)
            if len(marks) < listed or marks.find(0, 0, listed) >= 0:
                return False
            return all(key in self._marked for key in columns.extra) and all(
                p in self._marked_outside for p in self._outside
            )
        return next(self._marked_items(False), None) is None

    def keep_marked(self) -> StatTable:
        """A new table of the entries this run asked for."""
        kept = StatTable(self.width, prefix=self.prefix)
        for key, path, packed in self._marked_items(True):
            if key is not None:  # the list's in order, under the same keys: the new list needs no sorting
                kept._columns.put(key, packed, packed)
            else:
                kept._put(path, packed)
        return kept

    def put_stat(self, path: str, stat: bytes) -> None:
        """Remember a file's stat as `stat_of` packed it (width 3)."""
        self._put(path, stat)

    def current(self, path: str, stat: bytes) -> bool:
        """Whether the stat remembered for `path` is this one (width 3)."""
        return self._entry(path) == stat

    def sha_if_current(self, path: str, stat: bytes, mark: bool = False) -> str | None:
        """The remembered sha256 of `path` when its remembered stat is this one (width 4); `mark`:
        note that this run asked for it (as mark() does, with one look-up for both)."""
        if mark:
            key = self.inner(path)
            at = -1 if key is None or (self._columns.extra and key in self._columns.extra) else self._columns.index(key)
            if at < 0:
                self.mark(path)
                packed = self._entry(path)
            else:
                self._mark_at(at)
                packed = self._columns.fixed(at)
        else:
            packed = self._entry(path)
        if packed is None or len(packed) != len(stat) + 32 or not packed.startswith(stat):
            return None
        return packed[-32:].hex()

    def _sorted_items(self) -> Iterator[tuple[str, bytes]]:
        """(path, packed) of every entry in path order (no list of every path is made)."""
        prefix, columns = self.prefix, self._columns
        listed = ((prefix + key, packed) for key, packed in columns.list_items())
        rest = sorted([*((prefix + key, packed) for key, packed in columns.extra.items()), *self._outside.items()])
        return heapq.merge(listed, rest, key=lambda item: item[0])

    def json_chunks(self, paths: Iterable[str] | None = None) -> Iterator[str]:
        """`"path":[...]` for each of these paths, or every path (sorted, as json.dumps with
        sort_keys writes them)."""
        width = self.width
        items = self._sorted_items() if paths is None else ((path, self._entry(path)) for path in sorted(paths))
        for path, packed in items:
            if packed is None:
                raise KeyError(path)
            numbers = _numbers(packed if width == 3 else packed[:-32])
            tail = "" if width == 3 else f',"{packed[-32:].hex()}"'
            yield f"{_ENCODE_KEY(path)}:[{numbers[0]},{numbers[1]},{numbers[2]}{tail}]"


def write_chunks(hashes: StatTable, stamps: StatTable, stamp_paths: Iterable[str]) -> Iterator[bytes]:
    """The cache file's text, as json.dumps(sort_keys=True, separators=(",", ":")) spells it, in pieces."""
    for name, table, paths in (("hashes", hashes, None), ("stamps", stamps, stamp_paths)):
        batch = ['{"hashes":{' if name == "hashes" else '},"stamps":{']
        for index, piece in enumerate(table.json_chunks(paths)):
            batch.append("," + piece if index else piece)
            if len(batch) >= 4096:
                yield "".join(batch).encode()
                batch.clear()
        yield "".join(batch).encode()
    yield b"}}"


def read_file(
    file: Path, shared: Mapping[str, Any] | None = None, inputs: Mapping[str, str] | None = None, prefix: str = ""
) -> tuple[StatTable, StatTable]:
    """The hashes and stamps of a cache file, read a piece at a time; entries of the wrong shape
    are dropped, ValueError when the document is not two mappings. `shared` maps a path under
    OUTPUT (a stamp's, or an input's relative path) to an object whose `cells` may be the same
    text, and `inputs` an input's relative path to the plan's string for it: those strings are
    kept as keys (one string serves both). The hashes hold a path under `prefix` without it."""
    try:
        with open_state_file(file) as handle:
            return _tables(json_stream.read_object(handle, STATE_FILE_LIMIT, _members(shared, inputs, prefix)))
    except json_stream.NotStreamable:
        return _from_document(read_json_text(file), prefix)


def _members(
    shared: Mapping[str, Any] | None, inputs: Mapping[str, str] | None = None, prefix: str = ""
) -> dict[str, json_stream.BigMember]:
    own_name = getattr(shared, "own_name", None)  # a UnitTable's, answered without making records

    def owner_string(path: str) -> str:
        """The unit's string for a path a unit record owns as its own file, else `path`."""
        if own_name is not None:
            return own_name(path) or path
        cells = getattr(shared.get(path), "cells", None) if shared is not None else None
        return cells if type(cells) is str and cells == path else path

    def keep_hash(table: StatTable, path: str, value: Any) -> None:
        packed = _packed(value, 4)  # (a call per entry: a million-file cache reads in about a second)
        key = table.inner(path)
        if packed is not None and key is not None:  # the string of an original's unit, else the plan's
            owner = owner_string(key)
            key = owner if owner is not key or inputs is None else inputs.get(key, key)
        table.read_entry(path, packed, key)

    def keep_stamp(table: StatTable, path: str, value: Any) -> None:
        packed = _packed(value, 3)
        table.read_entry(path, packed, None if packed is None else owner_string(path))

    return {
        "hashes": json_stream.BigMember(json_stream.PLAIN_SCAN, lambda: StatTable(4, prefix=prefix), keep_hash),
        "stamps": json_stream.BigMember(json_stream.PLAIN_SCAN, lambda: StatTable(3), keep_stamp),
    }


def _tables(members: dict[str, Any]) -> tuple[StatTable, StatTable]:
    hashes, stamps = members.get("hashes"), members.get("stamps")
    if type(hashes) is not StatTable or type(stamps) is not StatTable:
        raise ValueError("the cache is not two mappings")
    return hashes, stamps


def _from_document(text: str, prefix: str = "") -> tuple[StatTable, StatTable]:
    """A cache document parsed whole (written otherwise than augcli writes it, or not JSON)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("the cache nests too deep") from None
    if type(data) is not dict or type(data.get("hashes")) is not dict or type(data.get("stamps")) is not dict:
        raise ValueError("the cache is not two mappings")
    return StatTable(4, data["hashes"], prefix), StatTable(3, data["stamps"])
