"""What an OUTPUT holds and why: the state that makes reruns incremental and resumable.

It lives in OUTPUT/.augcli/:

- state.json    a snapshot: every output unit (a file and its companions) with the key it was
                made from and what its files looked like, plus the cache of input hashes;
- journal.jsonl append-only, one line per unit made or removed since the snapshot, fsynced in
                batches, so a killed run loses at most the last batch and a rerun resumes;
- lock          held (flock) by the run that owns OUTPUT; the kernel drops it when that run dies;
- failures.csv  the inputs that failed in the last run, with their reasons.

A unit's key is a digest of everything its bytes depend on (see keys.py); a unit is up to date
when the key recorded equals the key now and its files are still as they were written.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_DIR = ".augcli"
SNAPSHOT = "state.json"
LINES = "lines.json"  # every file's manifest line: read only when the manifest must be rendered
JOURNAL = "journal.jsonl"
LOCK = "lock"
FAILURES = "failures.csv"
SNAPSHOT_VERSION = 4
FSYNC_EVERY_RECORDS = 256
FSYNC_EVERY_SECONDS = 1.0

Record = dict[str, Any]  # {"key", "files": [[path cell, size, mtime_ns], ...], "entry"?, "run"?}
HashEntry = list[Any]  # [size, mtime_ns, inode, sha256]


class LockedError(Exception):
    """Another run holds OUTPUT."""


@dataclass
class State:
    units: dict[str, Record] = field(default_factory=dict)
    hashes: dict[str, HashEntry] = field(default_factory=dict)
    deaths: dict[str, list[Any]] = field(default_factory=dict)  # input -> [workers it killed, its hash then]
    garbage: set[str] = field(default_factory=set)  # files a remade unit no longer has: deleted after success
    manifest: list[int] | None = None  # [size, mtime_ns] of the manifest the last successful run wrote
    folder: Path | None = None
    _lines: dict[str, str] | None = None
    _line_updates: dict[str, str] = field(default_factory=dict)

    def lines(self) -> dict[str, str]:
        """Each file's manifest line, by path cell (loaded on first use: a no-op run never needs it)."""
        if self._lines is None:
            self._lines = {}
            if self.folder is not None and (self.folder / SNAPSHOT).exists():
                try:
                    self._lines = json.loads((self.folder / LINES).read_bytes())
                except (OSError, ValueError) as exc:
                    raise OSError(
                        f"the state in {self.folder} is damaged ({exc}): delete that folder and rerun with --overwrite"
                    ) from None
            self._lines.update(self._line_updates)
            self._line_updates = {}
        return self._lines

    def set_lines(self, updates: dict[str, str]) -> None:
        (self._lines if self._lines is not None else self._line_updates).update(updates)

    def owned(self) -> set[str]:
        """Every file the state says augcli wrote, as manifest cells name them."""
        return {f[0] for record in self.units.values() for f in record["files"]}


def state_dir(output_root: Path, folder: str = STATE_DIR) -> Path:
    """Where a run's state lives: OUTPUT/.augcli, or a shard's own folder inside it."""
    return output_root / folder


def shard_folder(shard: tuple[int, int] | None) -> str:
    """The state folder of shard K of N (each shard has its own state, lock and manifest part)."""
    return STATE_DIR if shard is None else f"{STATE_DIR}/shards/{shard[0]}-of-{shard[1]}"


def check_state_dir(output_root: Path) -> str | None:
    """Why OUTPUT's state folder cannot be used (it is a link, or a file), or None."""
    folder = state_dir(output_root)
    if folder.is_symlink():
        return f"{folder} is a symbolic link: augcli keeps its state only in a real folder; remove the link"
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder: remove it"
    return None


def load(output_root: Path, place: str = STATE_DIR) -> State:
    """The snapshot plus every complete journal line after it (a torn last line is ignored)."""
    folder = state_dir(output_root, place)
    state = State(folder=folder)
    snapshot = folder / SNAPSHOT
    try:
        data = json.loads(snapshot.read_bytes())
        if data.get("version") == SNAPSHOT_VERSION:
            state.units, state.hashes = data["units"], data["hashes"]
            state.deaths = data.get("deaths", {})
            state.garbage = set(data.get("garbage", []))
            state.manifest = data.get("manifest")
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        pass  # damaged: start from nothing, every output is remade (its files then count as foreign)
    try:
        with (folder / JOURNAL).open("rb") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    break  # the torn tail of a killed run
                _replay(state, entry)
    except FileNotFoundError:
        pass
    return state


def _replay(state: State, entry: dict[str, Any]) -> None:
    if "put" in entry:
        state.units[entry["put"]] = entry["record"]
        state.set_lines(entry.get("lines", {}))
    elif "del" in entry:
        state.units.pop(entry["del"], None)
    state.hashes.update(entry.get("hashes", {}))
    state.deaths.update(entry.get("deaths", {}))
    state.garbage.update(entry.get("garbage", []))


class Journal:
    """Appends unit records as they complete; flushed and fsynced in batches and on close."""

    def __init__(self, output_root: Path, place: str = STATE_DIR) -> None:
        self._path = state_dir(output_root, place) / JOURNAL
        self._handle: Any = None  # opened at the first entry: a no-op run writes nothing
        self._pending = 0
        self.entries = 0
        self._last_sync = time.monotonic()

    def put(self, unit: str, record: Record, lines: dict[str, str], hashes: dict[str, HashEntry] | None = None) -> None:
        self._append({"put": unit, "record": record, "lines": lines, "hashes": hashes or {}})

    def delete(self, unit: str) -> None:
        self._append({"del": unit})

    def garbage(self, paths: list[str]) -> None:
        """Claim paths about to be written, durably before any of them is: a run killed after its
        workers wrote them must not leave files the next run takes for someone else's."""
        self._append({"garbage": paths})
        self.sync()

    def _append(self, entry: dict[str, Any]) -> None:
        if self._handle is None:
            self._path.parent.mkdir(exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            self._handle = os.fdopen(os.open(self._path, flags, 0o644), "ab")
        self.entries += 1
        self._handle.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        self._pending += 1
        if self._pending >= FSYNC_EVERY_RECORDS or time.monotonic() - self._last_sync > FSYNC_EVERY_SECONDS:
            self.sync()

    def sync(self) -> None:
        if self._pending:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._pending = 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self.sync()
        self._handle.close()


def _json_chunks(value: Any) -> Iterator[bytes]:
    """A JSON document in pieces, so a large state is never one string in memory."""
    encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
    batch: list[str] = []
    for piece in encoder.iterencode(value):
        batch.append(piece)
        if len(batch) >= 4096:
            yield "".join(batch).encode()
            batch.clear()
    yield "".join(batch).encode()


def save(output_root: Path, state: State, write_chunks, place: str = STATE_DIR) -> None:
    """Write the snapshot atomically, then drop the journal it now contains."""
    data = {
        "version": SNAPSHOT_VERSION,
        "units": state.units,
        "hashes": state.hashes,
        "deaths": state.deaths,
        "garbage": sorted(state.garbage),
        "manifest": state.manifest,
    }
    if state._lines is not None or state._line_updates or not (state_dir(output_root, place) / LINES).exists():
        owned = state.owned()
        lines = {path: line for path, line in state.lines().items() if path in owned}
        write_chunks(f"{place}/{LINES}", _json_chunks(lines))
    write_chunks(f"{place}/{SNAPSHOT}", _json_chunks(data))
    with contextlib.suppress(FileNotFoundError):
        (state_dir(output_root, place) / JOURNAL).unlink()


RUN_INFO = "run.json"


def write_run_info(output_root: Path, info: dict[str, Any], write_chunks, place: str = STATE_DIR) -> None:
    """OUTPUT/.augcli/run.json: the recipe (its text and where it was), INPUT, seed and copies of the
    last run that changed OUTPUT, so `augcli replay` can make any output again."""
    data = json.dumps(info, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogateescape")
    path = state_dir(output_root, place) / RUN_INFO
    if not path.exists() or path.read_bytes() != data:
        write_chunks(f"{place}/{RUN_INFO}", [data])


def read_run_info(output_root: Path, place: str = STATE_DIR) -> dict[str, Any] | None:
    try:
        text = (state_dir(output_root, place) / RUN_INFO).read_text(encoding="utf-8", errors="surrogateescape")
        return json.loads(text)
    except (OSError, ValueError):
        return None


def write_failures(
    output_root: Path, failures: Iterable[tuple[str, str]], write_chunks, place: str = STATE_DIR
) -> None:
    """OUTPUT/.augcli/failures.csv: the inputs that failed in the last run (removed when none did)."""
    rows = list(failures)
    path = state_dir(output_root, place) / FAILURES
    if not rows:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["source", "error"])
    writer.writerows(rows)
    write_chunks(f"{place}/{FAILURES}", [buffer.getvalue().encode("utf-8", "surrogateescape")])


@contextlib.contextmanager
def locked(output_root: Path, place: str = STATE_DIR) -> Iterator[None]:
    """Hold OUTPUT (or one shard of it) for this run; a second run exits at once naming the holder's
    PID. The lock of a process that died is free again (the kernel releases flock locks with their holder)."""
    import fcntl

    folder = state_dir(output_root, place)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(
                f"OUTPUT {output_root} is in use by another augcli run (PID {holder}): wait for it to finish, "
                "or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
