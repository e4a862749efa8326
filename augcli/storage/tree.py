"""Where output bytes go: a local OUTPUT tree that is written only inside itself.

Every write, rename, mkdir and delete is made relative to an open folder descriptor, folder by
folder with O_NOFOLLOW, so a symbolic link inside OUTPUT (say `out/cats -> ../in/cats`) can never
redirect a write into INPUT or anywhere else: it is refused, naming the link. A final name that is a
link is replaced itself (rename never follows it), never its target. Files are staged under a short
hidden temporary name in their final folder and renamed into place, so a killed run leaves no
half-written file under a real name.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import stat
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from augcli.core.files import CHUNK, open_input, read_plain

TEMP_PREFIX = ".augcli-tmp-"
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CACHED_FOLDERS = 64
_PROBE_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # OUTPUT named through a link: its file system


class UnsafePathError(OSError):
    """A path inside OUTPUT passes through a symbolic link or a non-folder; nothing was written there."""


@dataclass(frozen=True)
class FileStamp:
    """What a written file looked like, so a later run can tell whether it is still ours."""

    size: int
    mtime_ns: int
    inode: int
    sha256: str

    def stat(self) -> list[int]:
        """[size, mtime_ns, inode]: what the state's cache keeps of a file whose hash it confirmed."""
        return [self.size, self.mtime_ns, self.inode]


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX)


class OutputTree:
    """OUTPUT's real folder, opened once; all paths are POSIX and relative to it."""

    def __init__(self, root: Path, tag: str = "") -> None:
        self.root = root
        self.tag = tag  # in temporary names: a shard's run removes only its own leftovers
        root.mkdir(parents=True, exist_ok=True)
        self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._folders: OrderedDict[str, int] = OrderedDict()
        self._counter = 0
        self._pending = 0  # staged files whose fsync waits for their commit (each holds a descriptor)

    def close(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders.clear()
        os.close(self._root_fd)

    def __enter__(self) -> OutputTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- folders ---------------------------------------------------------------------------------

    def folder(self, relative: str, create: bool = True) -> int:
        """A descriptor of the real folder `relative` (made if missing), reached without following links."""
        if relative in ("", "."):
            return self._root_fd
        fd = self._folders.get(relative)
        if fd is not None:
            self._folders.move_to_end(relative)
            return fd
        parts = relative.split("/")
        known = len(parts) - 1  # the deepest ancestor already open (iterative: trees may be deep)
        while known > 0 and "/".join(parts[:known]) not in self._folders:
            known -= 1
        fd = self._folders["/".join(parts[:known])] if known else self._root_fd
        for depth in range(known, len(parts)):
            path = "/".join(parts[: depth + 1])
            fd = self._open_child(fd, parts[depth], path, create)
            self._remember(path, fd)
        return fd

    def _remember(self, relative: str, fd: int) -> None:
        self._folders[relative] = fd
        if len(self._folders) > _CACHED_FOLDERS:
            _, old = self._folders.popitem(last=False)
            os.close(old)

    def _open_child(self, parent: int, name: str, relative: str, create: bool) -> int:
        try:
            return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=parent)
            return self._open_child(parent, name, relative, create=False)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePathError(exc.errno, self._why_unsafe(parent, name, relative)) from None
            raise

    def _why_unsafe(self, parent: int, name: str, relative: str) -> str:
        try:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            return f"OUTPUT/{relative} cannot be opened as a folder"
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(name, dir_fd=parent)
            return (
                f"OUTPUT/{relative} is a symbolic link (to {target}): augcli never writes through a link "
                "inside OUTPUT; remove the link or choose another OUTPUT"
            )
        return f"OUTPUT/{relative} is a file where a folder is needed: remove it or choose another OUTPUT"

    def check_folder(self, relative: str) -> str | None:
        """Why the folder `relative` could not be written safely (a link on the way), or None.
        Nothing is created."""
        try:
            self.folder(relative, create=False)
        except UnsafePathError as exc:
            return exc.strerror
        except OSError:
            return None  # missing: it will be made
        return None

    # -- files -----------------------------------------------------------------------------------

    def _split(self, relative: str) -> tuple[int, str]:
        folder, _, name = relative.rpartition("/")
        return self.folder(folder), name

    def _temp_name(self) -> str:
        self._counter += 1
        return f"{TEMP_PREFIX}{self.tag}{os.getpid()}-{self._counter}"  # short: any legal final name fits beside it

    def stage(
        self, relative: str, data: bytes | None = None, source: Path | None = None, chunks: Iterable[bytes] = ()
    ) -> Staged:
        """Write `data` (or copy `source`, or the `chunks` as they come) under a temporary name in
        the final folder."""
        folder, name = self._split(relative)
        temp = self._temp_name()
        digest = hashlib.sha256()
        fd = os.open(temp, _CREATE_FLAGS, 0o644, dir_fd=folder)
        pending = None  # its own descriptor, kept for the fsync at the commit (the wait for the disk)
        try:
            with os.fdopen(fd, "wb", closefd=True) as handle:
                if data is not None:
                    digest.update(data)
                    handle.write(data)
                elif source is None:
                    for chunk in chunks:
                        digest.update(chunk)
                        handle.write(chunk)
                else:
                    with open_input(source) as reader:
                        while chunk := reader.read(CHUNK):
                            digest.update(chunk)
                            handle.write(chunk)
                handle.flush()
                if self._pending < PENDING_SYNCS and start_writeback(handle.fileno()):
                    self._pending += 1
                    pending = os.dup(handle.fileno())
                else:
                    os.fsync(handle.fileno())
        except BaseException:
            if pending is not None:  # kept, then the file's close failed: give the descriptor back
                with contextlib.suppress(OSError):
                    os.close(pending)
                self._pending -= 1
            _unlink_quietly(temp, folder)
            raise
        # Its own descriptor of the folder: the cache may close the shared one before the commit.
        return Staged(relative, name, temp, os.dup(folder), digest.hexdigest(), pending)

    def commit(self, staged: Staged) -> FileStamp:
        """Rename a staged file into place (a link of that name is replaced, not followed), its
        bytes on disk first: a power cut never leaves a name on an empty file."""
        try:
            if staged.pending is not None:  # its writeback began when it was staged, so this wait is short
                os.fsync(staged.pending)
                self._close_pending(staged)
            os.replace(staged.temp, staged.name, src_dir_fd=staged.folder, dst_dir_fd=staged.folder)
            info = os.stat(staged.name, dir_fd=staged.folder, follow_symlinks=False)
        except BaseException as exc:
            self.discard(staged)
            if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
                size = len(os.fsencode(staged.name))
                raise OSError(exc.errno, f"output name too long ({size} bytes; most file systems allow 255)") from None
            raise
        os.close(staged.folder)
        staged.folder = -1  # committed: a later discard (a failure after the commit) leaves it alone
        return FileStamp(info.st_size, info.st_mtime_ns, info.st_ino, staged.sha256)

    def _close_pending(self, staged: Staged) -> None:
        if staged.pending is not None:
            with contextlib.suppress(OSError):
                os.close(staged.pending)
            staged.pending = None
            self._pending -= 1

    def discard(self, staged: Staged) -> None:
        """Remove a staged file that will not be committed (once; a committed one is left alone)."""
        self._close_pending(staged)
        if staged.folder < 0:
            return
        _unlink_quietly(staged.temp, staged.folder)
        with contextlib.suppress(OSError):
            os.close(staged.folder)
        staged.folder = -1

    def sync_folder(self, relative: str) -> None:
        """fsync a folder, so the renames into it survive a power cut (once per folder and batch)."""
        with contextlib.suppress(OSError):
            os.fsync(self.folder(relative, create=False))

    def write(self, relative: str, data: bytes) -> FileStamp:
        """Stage and commit in one step (the folder is synced too)."""
        stamp = self.commit(self.stage(relative, data))
        self.sync_folder(relative.rpartition("/")[0])
        return stamp

    def write_chunks(self, relative: str, chunks: Iterable[bytes]) -> FileStamp:
        """Stage and commit bytes that are made as they are written (a large JSON document)."""
        stamp = self.commit(self.stage(relative, chunks=chunks))
        self.sync_folder(relative.rpartition("/")[0])
        return stamp

    def _open(self, relative: str, flags: int) -> int | None:
        """A descriptor of `relative` opened read-only with `flags`, its folders reached without
        links; None when it cannot be opened."""
        try:
            folder, _, name = relative.rpartition("/")
            return os.open(name, os.O_RDONLY | os.O_CLOEXEC | flags, dir_fd=self.folder(folder, create=False))
        except OSError:
            return None

    def read(self, relative: str, limit: int | None = None) -> bytes | None:
        """The bytes of the plain file `relative` (never through a link, never a FIFO or device),
        or None when it is missing, not a plain file, reached through a link or over `limit`."""
        try:
            return self.read_regular(relative, limit)
        except OSError:
            return None

    def read_regular(self, relative: str, limit: int | None = None) -> bytes:
        """The bytes of the plain file `relative`: its folders and itself reached without following
        a link, never a FIFO or device (opened without blocking), refused over `limit` bytes. An
        OSError naming the file says why not (UnsafePathError: a link on the way, or itself)."""
        folder, _, name = relative.rpartition("/")
        parent = self.folder(folder, create=False)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(
                    exc.errno, f"OUTPUT/{relative} is a symbolic link: augcli reads no file of OUTPUT through a link"
                ) from None
            raise OSError(exc.errno, f"OUTPUT/{relative}: {exc.strerror}") from None

        def refuse(kind: str | None, size: int) -> OSError:
            if kind is not None:
                return OSError(errno.EINVAL, f"OUTPUT/{relative} is {kind}, not a plain file")
            return OSError(errno.EFBIG, f"OUTPUT/{relative} is over {(limit or 0) >> 20:,} MiB")

        return read_plain(fd, limit, refuse)

    def content_sha(self, relative: str) -> str | None:
        """sha256 of what `relative` holds (through a link: a data version tool's link counts as its
        content), or None when it is missing or not a regular file (checked before a byte is read:
        a link to a folder or a FIFO is None, never an error). Never writes."""
        fd = self._open(relative, os.O_NONBLOCK)
        if fd is None:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            os.set_blocking(fd, True)
            digest = hashlib.sha256()
            while chunk := os.read(fd, CHUNK):
                digest.update(chunk)
        finally:
            os.close(fd)
        return digest.hexdigest()

    def remove(self, relative: str) -> bool:
        """Delete one file (a link itself, never its target); then drop folders it left empty."""
        try:
            folder, _, name = relative.rpartition("/")
            os.unlink(name, dir_fd=self.folder(folder, create=False))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG):
                return False  # not there (or never could be): nothing to delete
            raise
        self._prune(relative.rpartition("/")[0])
        return True

    def _prune(self, folder: str) -> None:
        while folder:
            parent, _, name = folder.rpartition("/")
            fd = self._folders.pop(folder, None)
            if fd is not None:
                os.close(fd)
            try:
                os.rmdir(name, dir_fd=self.folder(parent, create=False))
            except OSError:
                return  # not empty, or gone: stop climbing
            folder = parent

    def remove_temps(self) -> int:
        """Delete temporary files a killed run left behind; links are never followed."""
        removed = 0
        for folder, entries in walk_tree(self.root):
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX + self.tag) and not entry.is_dir(follow_symlinks=False):
                    Path(folder, entry.name).unlink(missing_ok=True)
                    removed += 1
        return removed


def walk_tree(root: Path, skip: tuple[str, ...] = ()) -> Iterator[tuple[str, list[os.DirEntry]]]:
    """Every folder below `root` (links not followed) with its entries, iteratively: Python 3.11's
    os.walk recurses and fails on trees about 1,000 folders deep. `skip`: top-level names left out."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            continue
        if folder == str(root):
            entries = [e for e in entries if e.name not in skip]
        yield folder, entries
        stack.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))


@dataclass
class Staged:
    relative: str
    name: str
    temp: str
    folder: int
    sha256: str
    pending: int | None = None  # a descriptor of the file, its writeback started: the commit fsyncs it first


_SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start writing the dirty pages back, do not wait
PENDING_SYNCS = 64  # staged files at most whose fsync waits for the commit; beyond, a file is fsynced at once


@functools.cache
def _sync_file_range() -> Callable[..., int] | None:
    """Linux's sync_file_range(2) from libc (Python's os has no binding); None elsewhere."""
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def start_writeback(fd: int) -> bool:
    """Have the kernel start writing a file's bytes to disk and return at once, so a job's other
    copies are computed while the disk works (an fsync per file kept a worker idle about a tenth
    of an image run); False where this cannot be asked, and the caller fsyncs at once."""
    function = _sync_file_range()
    return function is not None and function(fd, 0, 0, _SYNC_FILE_RANGE_WRITE) == 0


def _unlink_quietly(name: str, folder: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=folder)


def folds_case(folder: Path, probe: bool = False) -> bool:
    """Whether the file system that holds (or will hold) `folder` ignores case, as macOS, Windows
    shares and FAT do: a name with its letters' case swapped finds the same file. Asked inside
    `folder` (or, when it does not exist yet, of its nearest existing ancestor: a new OUTPUT at a
    mount point is on the mounted file system), of an entry whose name has letters. In a folder
    with none (a new or empty OUTPUT), only when `probe` (a run, which writes there anyway): the
    folder is made if missing, a temporary file made in it, asked, and both removed again. Else
    the names of the folder and its ancestors are asked (nothing is written)."""
    target = folder.absolute()
    current = target
    while not os.path.lexists(current) and current.parent != current:
        current = current.parent
    found = _ask_entries(current)
    if found is not None:
        return found
    if probe:
        found = _ask_probe(target)
        if found is not None:
            return found
    for candidate in (current, *current.parents):
        swapped = candidate.name.swapcase()
        if swapped != candidate.name:
            try:
                one, other = os.stat(candidate), os.stat(candidate.with_name(swapped))
            except OSError:
                return False
            return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)
    return False


def _same_when_swapped(folder: int, name: str) -> bool:
    """Whether `name` with its letters' case swapped is the same file in the folder `folder`."""
    try:
        one = os.stat(name, dir_fd=folder, follow_symlinks=False)
        other = os.stat(name.swapcase(), dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


def _ask_entries(folder: Path) -> bool | None:
    """The answer from an entry of `folder` with ASCII letters in its name (a few are looked at),
    or None when it has none or cannot be listed."""
    try:
        fd = os.open(folder, _PROBE_FLAGS)
    except OSError:
        return None
    try:
        with os.scandir(fd) as entries:
            for _, entry in zip(range(64), entries, strict=False):
                name = entry.name
                if name.isascii() and name.swapcase() != name:
                    return _same_when_swapped(fd, name)
    except OSError:
        return None
    finally:
        os.close(fd)
    return None


def _ask_probe(folder: Path) -> bool | None:
    """The answer from a temporary file made in `folder` (made too if missing; both removed), or
    None when nothing can be written there."""
    import tempfile

    made: list[Path] = []
    current = folder
    while not os.path.lexists(current) and current.parent != current:
        made.append(current)
        current = current.parent
    try:
        times = os.stat(current)  # put back after: a run refused later leaves even the mtime as it was
    except OSError:
        return None
    try:
        try:
            for path in reversed(made):
                os.mkdir(path)
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX + "case-", dir=folder)
        except OSError:
            return None
        os.close(fd)
        try:
            folder_fd = os.open(folder, _PROBE_FLAGS)
            try:
                return _same_when_swapped(folder_fd, os.path.basename(name))
            finally:
                os.close(folder_fd)
        except OSError:
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
    finally:
        for path in made:  # the deepest first
            with contextlib.suppress(OSError):
                os.rmdir(path)
        with contextlib.suppress(OSError):
            os.utime(current, ns=(times.st_atime_ns, times.st_mtime_ns))


def write_file(path: Path, data: bytes) -> None:
    """Write a file augcli makes outside a dataset tree (a preview page, a replayed output) whole:
    an unpredictable temporary name beside it, created exclusively (a planted link at a fixed name
    is never followed), fsynced, then renamed over `path` (a link there is replaced, not followed)."""
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".augcli-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
