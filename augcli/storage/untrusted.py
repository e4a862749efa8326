"""Checks for everything augcli reads back from OUTPUT: its state, journal, lines, manifest, run
record and a bucket's objects. Anyone who can write OUTPUT can edit those files, so a path found in
them is used only once it is proven to name a file inside its root, and a document of the wrong
shape is refused with the file and what is wrong, never half-used.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

from augcli.core.files import open_plain, read_plain

# Sizes over which a file read back from OUTPUT is not one augcli wrote (refused unread, exit 2).
# The state, lines, cache, journal and manifest take some 150-600 bytes per output: 2 GiB is millions.
STATE_FILE_LIMIT = 2 << 30  # .augcli-state.json, -lines.json, -cache.json, -journal.jsonl
MANIFEST_LIMIT = 2 << 30  # manifest.csv and a shard's manifest part
RECORD_FILE_LIMIT = 64 << 20  # .augcli-run.json, -failures.csv, a mirror's record: small documents
JSON_DEPTH = 64  # nesting of a small document (a manifest cell, the run record): augcli writes under 10
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UntrustedError(ValueError):
    """A file read back from OUTPUT is not what augcli writes; the message names it and why."""


class NestedTooDeep(UntrustedError):
    """JSON nested deeper than Python parses it (or than a small document's bound): never a torn line."""


def relative_path_problem(path: Any) -> str | None:
    """Why `path` cannot name a file inside a root (absolute, '..', empty or '.' part, NUL),
    or None (a backslash or a colon is a plain character in a Linux name). Paths are POSIX,
    relative to their root, as the manifest writes them."""
    if not isinstance(path, str):
        return f"{path!r} is not a path"
    if (
        path
        and path[0] not in "./"
        and "/." not in path
        and "//" not in path
        and path[-1] != "/"
        and "\x00" not in path
    ):
        return None  # the common case, decided at once: no part can be empty, "." or ".."
    if not path:
        return "an empty path"
    if "\x00" in path:
        return f"{path!r} holds a NUL byte"
    if path.startswith("/"):
        return f"{path!r} is absolute"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"{path!r} has an empty, '.' or '..' part"
    return None


def check_relative(path: Any, where: str) -> str:
    """`path` itself when it safely names a file inside its root, else UntrustedError naming `where`."""
    problem = relative_path_problem(path)
    if problem:
        raise UntrustedError(f"{where}: {problem}; augcli only reads and deletes paths inside OUTPUT")
    return path


def read_state_file(path: Path, limit: int = STATE_FILE_LIMIT, follow: bool = True) -> bytes:
    """A file augcli wrote into OUTPUT, read back: never a FIFO or device (opened without
    blocking, refused unread), never over `limit` (refused by its size before a byte is read).
    Through a link only when `follow` (a data version tool links the files it tracks into its
    cache; reading one is harmless, and augcli replaces such a link, never writes through it).
    UntrustedError names the file; FileNotFoundError when there is none."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
    return read_plain(fd, limit, _refuser(path, limit))


def open_state_file(path: Path, limit: int = STATE_FILE_LIMIT, follow: bool = True) -> BinaryIO:
    """A file augcli wrote into OUTPUT, opened to be read in pieces, with read_state_file's checks
    (the caller stops at `limit` bytes: a file that grows while read is refused there)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
    return open_plain(fd, limit, _refuser(path, limit))


def _refuser(path: Path, limit: int):
    def refuse(kind: str | None, size: int) -> UntrustedError:
        if kind is not None:
            return UntrustedError(
                f"{path} is {kind}, not a plain file: augcli writes only plain files there; remove it"
            )
        return UntrustedError(_too_large(path, size, limit))

    return refuse


def _too_large(path: Path, size: int, limit: int) -> str:
    return f"{path} holds over {limit >> 20:,} MiB ({size:,} bytes): it is not a file augcli wrote; remove it"


def load_json(data: bytes | str, where: Any, depth: int | None = None, object_hook: Any = None) -> Any:
    """JSON read back from OUTPUT: UntrustedError naming `where` for what is not JSON, and for
    nesting deeper than Python's parser goes (a RecursionError) or, when given, than `depth`.
    `object_hook` is json's: it sees each object as it is parsed (and may pack it)."""
    try:
        value = json.loads(data, object_hook=object_hook)
    except RecursionError:
        raise NestedTooDeep(f"{where}: JSON nested too deep to be what augcli writes") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise UntrustedError(f"{where} is not valid JSON ({exc})") from None
    if depth is not None and _deeper_than(value, depth):
        raise NestedTooDeep(f"{where}: JSON nested over {depth} levels: not what augcli writes")
    return value


def read_json_file(
    path: Path, limit: int = STATE_FILE_LIMIT, follow: bool = True, depth: int | None = None, object_hook: Any = None
) -> Any:
    """A JSON file of OUTPUT's, read bounded (read_state_file) and parsed (load_json). Its bytes
    are decoded as json.loads decodes them and let go before the parse: a large state's file is
    not held beside the objects made from it (a few hundred MB at a million files)."""
    return load_json(read_json_text(path, limit, follow), path, depth, object_hook)


def read_json_text(path: Path, limit: int = STATE_FILE_LIMIT, follow: bool = True) -> str:
    """A JSON file of OUTPUT's as text, read bounded (read_state_file) and decoded as json.loads
    decodes bytes; the bytes are let go before it is parsed."""
    data = read_state_file(path, limit, follow)
    try:
        return data.decode(json.detect_encoding(data), "surrogatepass")
    except (UnicodeDecodeError, LookupError) as exc:
        raise UntrustedError(f"{path} is not valid JSON ({exc})") from None


def _deeper_than(value: Any, depth: int) -> bool:
    """Whether a parsed JSON value nests lists and objects over `depth` levels (iterative)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if level > depth:
            return True
        stack.extend((child, level + 1) for child in item if isinstance(child, (list, dict)))
    return False


def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    """`value` if it is of `kind`, else UntrustedError saying what was found."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UntrustedError(f"{where}: expected {_plain(names)}, found {_plain(type(value).__name__)}")
    return value


def expect_sha(value: Any, where: str) -> str:
    if not isinstance(value, str) or not SHA256.match(value):
        raise UntrustedError(f"{where}: {value!r} is not a sha256 digest")
    return value


def _plain(name: str) -> str:
    return {"dict": "an object", "list": "a list", "str": "a string", "int": "a number", "NoneType": "null"}.get(
        name, name
    )
