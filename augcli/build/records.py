"""A unit record of the common shape, kept compact: a state holds one per output.

A record as the state file spells it is `{"files": [[cell, sha256], ...], "key": key}`; parsed
as dicts, lists and hex strings it costs about 730 bytes in memory. PackedRecord holds the same
record as its cells and one bytes object (the key's 16 bytes, then 32 per file): about 130 bytes,
so a million-file OUTPUT's state is a few hundred MB rather than 1.5 GB. It reads like the dict
(a read-only Mapping) and is written back as the same JSON, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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
    """json's `default`: a packed record is written as its dict (the same bytes as before)."""
    if isinstance(value, PackedRecord):
        return value.as_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
