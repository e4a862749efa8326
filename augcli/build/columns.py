"""A mapping of text keys held as columns: what a million-file OUTPUT's state and cache are made of.

A dict of a million small objects costs a dict entry and an object header per value. Most of
augcli's state comes in key order (files written with sorted keys, a run's outputs in plan order)
and has one fixed-width form (a stat, a key and a hash), so `Columns` keeps those entries as one
sorted list of keys and one bytearray of values, found by bisection: about 8 bytes an entry beside
its value's bytes. Any other entry (out of order, of another width, any other object) is kept in a
dict beside them, and an entry of the list that is deleted or replaced by one of the dict is
marked gone. A key is live in the list or in the dict, never both.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any


class Columns:
    """key -> value, where a value of the list is `size` bytes and any other lives in `extra`."""

    __slots__ = ("blob", "extra", "gone", "keys", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.keys: list[str] = []  # ascending
        self.blob = bytearray()  # entry i at [i * size, (i + 1) * size)
        self.gone: set[str] = set()  # keys of the list no longer live
        self.extra: dict[str, Any] = {}

    def index(self, key: str) -> int:
        """Where a live key of the list is, or -1."""
        if type(key) is not str:
            return -1
        keys = self.keys
        at = bisect.bisect_left(keys, key)
        if at == len(keys) or keys[at] != key or (self.gone and key in self.gone):
            return -1
        return at

    def get(self, key: str, default: Any = None) -> Any:
        """A key's value: its bytes from the list, or what the dict holds for it; else `default`."""
        extra = self.extra
        if extra and type(key) is str and key in extra:
            return extra[key]
        at = self.index(key)
        return default if at < 0 else self.fixed(at)

    def fixed(self, at: int) -> bytes:
        """The value of the list's entry `at`."""
        return bytes(self.blob[at * self.size : (at + 1) * self.size])

    def put(self, key: str, fixed: bytes | None, value: Any) -> None:
        """Remember an entry: `fixed` (its `size` bytes, or None when the list cannot hold it) in
        place when the key is live in the list, appended when the key sorts after every key of the
        list; else `value` in the dict."""
        extra, keys, size = self.extra, self.keys, self.size
        if extra and key in extra:
            extra[key] = value
            return
        if fixed is not None and (not keys or key > keys[-1]):
            keys.append(key)
            self.blob += fixed
            return
        at = self.index(key)
        if at >= 0 and fixed is not None:
            self.blob[at * size : (at + 1) * size] = fixed
            return
        if at >= 0:
            self.gone.add(key)
        extra[key] = value

    def discard(self, key: str) -> bool:
        """Forget a key's entry; whether it had one."""
        if self.extra and type(key) is str and key in self.extra:
            del self.extra[key]
            return True
        if self.index(key) < 0:
            return False
        self.gone.add(key)
        return True

    def contains(self, key: Any) -> bool:
        return type(key) is str and ((bool(self.extra) and key in self.extra) or self.index(key) >= 0)

    def indexed_items(self) -> Iterator[tuple[int, str, bytes]]:
        """(index, key, value) of the live entries of the list, in key order."""
        blob, size, gone = self.blob, self.size, self.gone
        for at, key in enumerate(self.keys):
            if not gone or key not in gone:
                yield at, key, bytes(blob[at * size : (at + 1) * size])

    def list_items(self) -> Iterator[tuple[str, bytes]]:
        """The live entries of the list, in key order."""
        return ((key, value) for _, key, value in self.indexed_items())

    def __iter__(self) -> Iterator[str]:
        gone = self.gone
        for key in self.keys:
            if not gone or key not in gone:
                yield key
        yield from self.extra

    def __len__(self) -> int:
        return len(self.keys) - len(self.gone) + len(self.extra)
