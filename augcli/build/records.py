"""A unit record of the common shape, kept compact: a state holds one per output.

A record as the state file spells it is `{"files": [[cell, sha256], ...], "key": key}`; parsed
as dicts, lists and hex strings it costs about 730 bytes in memory. PackedRecord holds the same
record as its cells and one bytes object (the key's 16 bytes, then 32 per file): about 130 bytes,
so a million-file OUTPUT's state is a few hundred MB rather than 1.5 GB. It reads like the dict
(a read-only Mapping) and is written back as the same JSON, byte for byte.
"""

from __future__ import annotations

import heapq
from collections.abc import ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from typing import Any

from augcli.build.columns import Columns

_FIELDS = ("files", "key")  # a packed record's fields, in the order JSON writes them (sorted)


class PackedRecord(Mapping):
    """`{"files": [[cell, sha256], ...], "key": key}` with a 32-hex key and 64-hex hashes, packed.
    `cells` is the one cell (a str) or a tuple of them; `packed` the key's and hashes' bytes."""

    __slots__ = ("cells", "packed")

    def __init__(self, cells: str | tuple[str, ...], packed: bytes) -> None:
        self.cells, self.packed = cells, packed

    def cell_list(self) -> tuple[str, ...]:
        return (self.cells,) if type(self.cells) is str else self.cells

    def key(self) -> str:
        return self.packed[:16].hex()

    def sha(self, index: int) -> str:
        """The sha256 of the record's file number `index`."""
        return self.packed[16 + 32 * index : 48 + 32 * index].hex()

    def __getitem__(self, name: str) -> Any:
        if name == "key":
            return self.key()
        if name == "files":
            return [[cell, self.sha(index)] for index, cell in enumerate(self.cell_list())]
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in _FIELDS else default

    def __contains__(self, name: object) -> bool:
        return name in _FIELDS

    def __iter__(self) -> Iterator[str]:
        return iter(_FIELDS)

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"PackedRecord({self.as_dict()!r})"

    def as_dict(self) -> dict[str, Any]:
        """The record as the state file spells it."""
        return {"files": self["files"], "key": self["key"]}


_ONE_FILE = 48  # a one-file record's packed bytes: its key (16) and its file's hash (32)


class UnitTable(MutableMapping):
    """unit -> record, as the state holds them. A record whose one file is the unit itself (almost
    every record) is its 48 packed bytes in Columns, its cell the unit's own string, handed out as
    a PackedRecord made on demand: about 56 bytes a record beside its name, against about 180 for a
    dict entry, a PackedRecord and its bytes (a million-file OUTPUT holds two million records).
    Any other record is held as it is. A record read from it is a new object each time: change a
    record by putting it again."""

    __slots__ = ("_columns",)

    def __init__(self, units: Mapping[str, Any] | None = None) -> None:
        self._columns = Columns(_ONE_FILE)
        if units:
            for unit, record in units.items():
                self[unit] = record

    def get(self, unit: str, default: Any = None) -> Any:
        columns = self._columns
        if columns.extra and type(unit) is str:
            record = columns.extra.get(unit)
            if record is not None:
                return record
        at = columns.index(unit)
        return default if at < 0 else PackedRecord(columns.keys[at], columns.fixed(at))

    def __getitem__(self, unit: str) -> Any:
        record = self.get(unit, _MISSING)
        if record is _MISSING:
            raise KeyError(unit)
        return record

    def __setitem__(self, unit: str, record: Any) -> None:
        one_file = (
            type(record) is PackedRecord
            and type(record.cells) is str
            and record.cells == unit
            and len(record.packed) == _ONE_FILE
        )
        self._columns.put(unit, record.packed if one_file else None, record)

    def __delitem__(self, unit: str) -> None:
        if not self._columns.discard(unit):
            raise KeyError(unit)

    def __contains__(self, unit: object) -> bool:
        return self._columns.contains(unit)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"UnitTable({dict(self.items())!r})"

    def items(self) -> ItemsView:
        return _UnitItems(self)

    def values(self) -> ValuesView:
        return _UnitValues(self)

    def _items(self) -> Iterator[tuple[str, Any]]:
        for unit, packed in self._columns.list_items():
            yield unit, PackedRecord(unit, packed)
        yield from self._columns.extra.items()

    def sorted_items(self) -> Iterator[tuple[str, Any]]:
        """Every (unit, record) in the order of the units' names (as json's sort_keys writes them)."""
        extra = self._columns.extra
        listed = ((unit, PackedRecord(unit, packed)) for unit, packed in self._columns.list_items())
        return heapq.merge(listed, ((unit, extra[unit]) for unit in sorted(extra)), key=lambda item: item[0])

    def own_name(self, path: str) -> str | None:
        """The table's string for `path` when a record holds it as its own one file (the unit's
        name: a stamp or an input's hash may share it), else None; no record is made to answer."""
        columns = self._columns
        if columns.extra and type(path) is str and path in columns.extra:
            cells = getattr(columns.extra[path], "cells", None)
            return cells if type(cells) is str and cells == path else None
        at = columns.index(path)
        return None if at < 0 else columns.keys[at]

    def cells(self, unit: str) -> tuple[str, ...] | None:
        """A unit's path cells (None: no record), without making its record when it is one file."""
        at = -1 if self._columns.extra and unit in self._columns.extra else self._columns.index(unit)
        if at >= 0:
            return (self._columns.keys[at],)
        record = self._columns.extra.get(unit)
        if record is None:
            return None
        return record.cell_list() if type(record) is PackedRecord else tuple(f[0] for f in record["files"])

    def all_cells(self) -> Iterator[str]:
        """Every record's path cells, without making the records of one file."""
        yield from self.one_file_units()
        for record in self._columns.extra.values():
            yield from record.cell_list() if type(record) is PackedRecord else (f[0] for f in record["files"])

    def other_items(self) -> list[tuple[str, Any]]:
        """The records not held in the list (several files, other fields, put out of order): every
        record with a field besides `files` and `key` is one of them."""
        return list(self._columns.extra.items())

    def one_file_units(self) -> Iterator[str]:
        """The units held in the list: each a record of one file, that file the unit's own path."""
        gone = self._columns.gone
        return (unit for unit in self._columns.keys if not gone or unit not in gone)


_MISSING = object()


class _UnitItems(ItemsView):
    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self._mapping._items()


class _UnitValues(ValuesView):
    def __iter__(self) -> Iterator[Any]:
        return (record for _, record in self._mapping._items())


def pack(record: dict[str, Any]) -> dict[str, Any] | PackedRecord:
    """The record packed when it has exactly the fields `files` and `key`, its key 32 lowercase
    hex digits and each file `[cell, 64 lowercase hex digits]` (a round trip gives the same text);
    any other record (or any other object) as it is. Cells are not checked here (see state.py)."""
    if len(record) != 2:
        return record
    key, files = record.get("key"), record.get("files")
    if type(key) is not str or len(key) != 32 or type(files) is not list or not files:
        return record
    if len(files) == 1:  # the usual record: one file, checked in a few C calls
        entry = files[0]
        if type(entry) is not list or len(entry) != 2:
            return record
        cell, sha = entry
        if type(cell) is not str or type(sha) is not str or len(sha) != 64:
            return record
        return _packed(record, cell, key + sha)
    cells, hexes = [], [key]
    for entry in files:
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not str or type(entry[1]) is not str:
            return record
        if len(entry[1]) != 64:
            return record
        cells.append(entry[0])
        hexes.append(entry[1])
    return _packed(record, tuple(cells), "".join(hexes))


def _packed(record: dict[str, Any], cells: str | tuple[str, ...], text: str) -> dict[str, Any] | PackedRecord:
    packed = exact_hex(text)
    return record if packed is None else PackedRecord(cells, packed)


def exact_hex(text: str) -> bytes | None:
    """The bytes `text` spells when it is lowercase hex without spaces, as augcli writes digests
    (so the bytes give the same text back); else None."""
    try:
        packed = bytes.fromhex(text)
    except ValueError:
        return None
    return packed if packed.hex() == text else None


def unpacked(value: Any) -> Any:
    """`value` with every PackedRecord in it (at any depth) turned back into its dict: for JSON
    that packing met where no unit record lies (a record's `entry` of the same shape). The same
    object when it holds none."""
    if isinstance(value, PackedRecord):
        return value.as_dict()
    if type(value) is dict:
        items = [(k, v, unpacked(v)) for k, v in value.items()]
        return value if all(v is new for _, v, new in items) else {k: new for k, _, new in items}
    if type(value) is list:
        items = [(v, unpacked(v)) for v in value]
        return value if all(v is new for v, new in items) else [new for _, new in items]
    return value


def json_default(value: Any) -> Any:
    """json's `default`: a packed record is written as its dict (the same bytes as before; a unit
    table is never dumped whole: state.save streams it)."""
    if isinstance(value, PackedRecord):
        return value.as_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
