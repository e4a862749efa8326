"""A large JSON object read a piece at a time: its big mappings entry by entry.

The state and cache of a million-file OUTPUT are JSON documents of a few hundred MB. Read whole,
the file's bytes and its text are held beside the objects made from them (and leave the memory
they took fragmented); read here, a megabyte at a time, each entry of a big mapping is parsed by
json's own scanner and handed to the caller, who keeps it in whatever compact form it likes.

Anything this reader does not expect (an encoding other than UTF-8, a value cut short at the end,
nesting deeper than Python parses) makes it give up with NotStreamable, having kept nothing the
caller must trust: the caller then reads the document whole, and json.loads decides, with its own
error. So what is accepted, and what each value is, is exactly what json.loads would give.
"""

from __future__ import annotations

import codecs
import json
import json.scanner
from collections.abc import Callable
from typing import Any, BinaryIO

CHUNK = 1 << 20
LONGEST_VALUE = 64 << 20  # one value longer than this is not one augcli wrote: the whole-document path decides
_SPACE = " \t\n\r"  # JSON's whitespace
_AFTER_VALUE = ",:}]" + _SPACE  # what may follow a whole value (a number cut short, "1." or "-", is followed by more)
PLAIN_SCAN = json.scanner.make_scanner(json.JSONDecoder())

Scan = Callable[[str, int], tuple[Any, int]]


class NotStreamable(Exception):
    """The document is not one this reader takes a piece at a time (it may still be JSON)."""


class BigMember:
    """What to do with a big member's entries: `scan` parses each value (json's scanner, perhaps
    with an object_hook), `start()` makes the container for one occurrence of the member, and
    `store(container, key, value)` keeps an entry (None: `container[key] = value`)."""

    def __init__(
        self, scan: Scan, start: Callable[[], Any], store: Callable[[Any, str, Any], None] | None = None
    ) -> None:
        self.scan, self.start, self.store = scan, start, store


class _Text:
    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self.handle, self.limit = handle, limit
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")  # as json reads UTF-8 bytes
        self.text, self.pos, self.taken, self.eof = "", 0, 0, False

    def more(self, at_least: int = 0) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(max(CHUNK, at_least))
        self.taken += len(chunk)
        if self.taken > self.limit:
            raise NotStreamable  # grown past the limit: the whole-document read refuses it, naming it
        try:  # (a BOM, or UTF-16 or 32, is never read as "{": json's own decoding decides them)
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise NotStreamable from None
        self.text = self.text[self.pos :] + text
        self.pos = 0
        self.eof = not chunk
        return True

    def skip_space(self) -> None:
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in _SPACE:
                pos += 1
            self.pos = pos
            if pos < len(text) or not self.more():
                return

    def char(self) -> str:
        """The next character that is not whitespace, taken."""
        self.skip_space()
        if self.pos >= len(self.text):
            raise NotStreamable  # the document ends early
        self.pos += 1
        return self.text[self.pos - 1]

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self, scan: Scan) -> Any:
        """One JSON value, read on until it is whole (followed by what may follow a value: a number
        cut short by a chunk's end may look whole, "1" of "1.5")."""
        self.skip_space()
        while True:
            try:
                value, end = scan(self.text, self.pos)
            except (StopIteration, ValueError, RecursionError):  # cut short by the chunk, or not JSON
                end = -1
            if end >= 0 and (self.eof or (end < len(self.text) and self.text[end] in _AFTER_VALUE)):
                self.pos = end
                return value
            pending = len(self.text) - self.pos  # a long value is read on in doubling steps: each is scanned again
            if pending > LONGEST_VALUE or not self.more(pending):
                raise NotStreamable


def read_object(handle: BinaryIO, limit: int, big: dict[str, BigMember]) -> dict[str, Any]:
    """The members of the JSON object in `handle`; a member named in `big` whose value is a mapping
    is read entry by entry into its own container (the last occurrence of a name wins, as in
    json.loads). NotStreamable when the document is not read this way."""
    text = _Text(handle, limit)
    if text.char() != "{":
        raise NotStreamable
    members: dict[str, Any] = {}
    if text.peek() == "}":
        text.pos += 1
    else:
        while True:
            name = text.value(PLAIN_SCAN)
            if type(name) is not str or text.char() != ":":
                raise NotStreamable
            mapping = big.get(name)
            if mapping is not None and text.peek() == "{":
                text.pos += 1
                members[name] = _read_entries(text, mapping)
            else:
                members[name] = text.value(PLAIN_SCAN)
            separator = text.char()
            if separator == "}":
                break
            if separator != ",":
                raise NotStreamable
    text.skip_space()
    if text.pos < len(text.text):
        raise NotStreamable  # something after the object: json.loads calls it extra data
    return members


def _read_entries(text: _Text, mapping: BigMember) -> Any:
    container = mapping.start()
    if text.peek() == "}":
        text.pos += 1
        return container
    while True:
        if _read_compact_entries(text, mapping, container):
            return container
        key = text.value(PLAIN_SCAN)  # one entry the careful way: across a chunk's end, or spaced
        if type(key) is not str or text.char() != ":":
            raise NotStreamable
        value = text.value(mapping.scan)
        if mapping.store is None:
            container[key] = value
        else:
            mapping.store(container, key, value)
        separator = text.char()
        if separator == "}":
            return container
        if separator != ",":
            raise NotStreamable


def _read_compact_entries(text: _Text, mapping: BigMember, container: Any) -> bool:
    """The entries that lie whole in what is read, written without spaces (as augcli writes): a
    few C calls each. True at the mapping's end; False where the careful way must take over (the
    chunk's end, a space, anything unexpected), with `text.pos` at that entry's start."""
    buffer, pos, scan, store = text.text, text.pos, mapping.scan, mapping.store
    end_of_buffer = len(buffer)
    try:
        while True:
            key, colon = PLAIN_SCAN(buffer, pos)
            if colon >= end_of_buffer or buffer[colon] != ":" or type(key) is not str:
                return False
            value, after = scan(buffer, colon + 1)
            if after >= end_of_buffer:
                return False  # a number may go on in the next chunk
            separator = buffer[after]
            if separator != "," and separator != "}":
                return False
            if store is None:
                container[key] = value
            else:
                store(container, key, value)
            pos = text.pos = after + 1
            if separator == "}":
                return True
    except (StopIteration, ValueError, RecursionError):
        return False
