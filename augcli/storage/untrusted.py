"""Checks for everything augcli reads back from OUTPUT: its state, journal, lines, manifest, run
record and a bucket's objects. Anyone who can write OUTPUT can edit those files, so a path found in
them is used only once it is proven to name a file inside its root, and a document of the wrong
shape is refused with the file and what is wrong, never half-used.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

from augcli.core.files import read_at_most

STATE_FILE_LIMIT = 4 << 30  # a state or manifest larger than this is not one augcli wrote
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UntrustedError(ValueError):
    """A file read back from OUTPUT is not what augcli writes; the message names it and why."""


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
    """A file augcli wrote into OUTPUT, read back: never a FIFO or device, never over `limit`.
    Through a link only when `follow` (a data version tool links the files it tracks into its
    cache; reading one is harmless, and augcli replaces such a link, never writes through it)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedError(f"{path} is not a regular file: augcli's state files are plain files; remove it")
        os.set_blocking(fd, True)
        data = read_at_most(handle, limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"{path} is over {limit >> 20} MiB: it is not a file augcli wrote")
    return data


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
