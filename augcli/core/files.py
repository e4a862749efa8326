"""Reading what a user gives augcli: inputs, recipes, label files, lists. Only regular files are
opened (a FIFO would block, /dev/zero never ends), and whole-file reads are bounded in size."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class NotRegularFileError(OSError):
    """An input that is a FIFO, socket or device: never opened for reading."""


def open_input(path: Path):
    """Open an input read-only, refusing anything but a regular file before a byte is read
    (a FIFO would block the worker, /dev/zero would never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(errno.EINVAL, f"{path.name} is not a regular file ({file_kind(info.st_mode)})")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


ANNOTATION_LIMIT = 256 << 20  # a label file, mask, class list or data.yaml larger than this is refused


def is_url(text: str | os.PathLike) -> bool:
    """Whether a command-line path names a remote folder (file:// and plain paths are local)."""
    text = os.fspath(text)
    return "://" in text and not text.startswith("file://")


def read_input(path: Path, limit: int | None = ANNOTATION_LIMIT) -> bytes:
    """A whole input that is a regular file (never a FIFO or a device, which would block or never
    end), refused when larger than `limit` bytes."""
    with open_input(path) as handle:
        data = handle.read() if limit is None else read_at_most(handle, limit + 1)
    if limit is not None and len(data) > limit:
        raise OSError(errno.EFBIG, f"{path.name} is over {limit >> 20} MiB: is it the right file?")
    return data


def read_at_most(handle: BinaryIO, count: int) -> bytes:
    """Up to `count` bytes of an open file, without reserving `count` bytes first: `read(count)`
    allocates all of it up front (a 4 GiB buffer for every bounded read of a small file)."""
    size = os.fstat(handle.fileno()).st_size
    parts = [handle.read(min(size + 1, count))]
    taken = len(parts[0])
    while taken < count and parts[-1]:  # the file grew since its stat: read on in chunks
        parts.append(handle.read(min(CHUNK, count - taken)))
        taken += len(parts[-1])
    return b"".join(parts) if len(parts) > 1 else parts[0]


def open_plain(fd: int, limit: int | None, refuse: Callable[[str | None, int], Exception]) -> BinaryIO:
    """An open descriptor (opened without blocking) as a file object, when it is a plain file of at
    most `limit` bytes by its size; else `refuse(kind, size)` is raised (see read_plain). Closes
    `fd` when it refuses."""
    try:
        info = os.fstat(fd)  # before fdopen: Python's file object refuses a folder with the bare descriptor
        if not stat.S_ISREG(info.st_mode):
            raise refuse(file_kind(info.st_mode), info.st_size)
        if limit is not None and info.st_size > limit:
            raise refuse(None, info.st_size)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_plain(fd: int, limit: int | None, refuse: Callable[[str | None, int], Exception]) -> bytes:
    """The bytes behind an open descriptor (opened without blocking) that must be a plain file:
    refused unread when it is something else (a FIFO, a device, a folder) or over `limit` bytes by
    its size, then read bounded and refused if it grew past `limit` meanwhile. `refuse(kind, size)`
    makes the caller's error: `kind` says what the file is when it is not plain, else None and
    `size` is over the limit. Closes `fd`."""
    with open_plain(fd, limit, refuse) as handle:
        data = handle.read() if limit is None else read_at_most(handle, limit + 1)
    if limit is not None and len(data) > limit:  # it grew while read
        raise refuse(None, len(data))
    return data


def file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a regular file (through a link; a FIFO or device is refused unread), with as
    little Python per file as it can: a dataset is mostly small files."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(
                errno.EINVAL, f"{os.fspath(path)} is not a regular file ({file_kind(info.st_mode)})"
            )
        digest = hashlib.sha256(os.read(fd, max(info.st_size, 1) + 1) if info.st_size < CHUNK else b"")
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(fd)


def sha256_files(paths: list[str], threads: int = 4) -> list[str | None]:
    """sha256 of many files (None for one that cannot be read), on `threads` threads in batches:
    one task per file would spend more time queueing than hashing a small file takes."""
    from concurrent.futures import ThreadPoolExecutor

    def batch(chunk: list[str]) -> list[str | None]:
        out: list[str | None] = []
        for path in chunk:
            try:
                out.append(sha256_file(path))
            except OSError:
                out.append(None)
        return out

    if len(paths) < 16:
        return batch(paths)
    size = max(16, len(paths) // (threads * 8))
    with ThreadPoolExecutor(threads) as pool:
        return [
            sha for part in pool.map(batch, [paths[i : i + size] for i in range(0, len(paths), size)]) for sha in part
        ]
