"""What an OUTPUT holds and why: the state that makes reruns incremental and resumable.

It lives in hidden files at OUTPUT's root (never a folder: loaders take every folder for a class):

- .augcli-state.json    every output unit (a file and its companions) with the key it was made
                        from and the sha256 of each of its files: content, nothing else, so a
                        clone or copy of OUTPUT is as current as the original (commit it);
- .augcli-lines.json    every file's manifest line (commit it: the manifest is rebuilt from it);
- .augcli-run.json      the last run that changed OUTPUT: its recipe, INPUT and summary (commit it);
- .augcli-cache.json    size, mtime and inode of inputs and outputs last seen, with their hashes:
                        only saves hashing, so a clone without it is still current (ignore it);
- .augcli-journal.jsonl append-only, one line per unit made or removed since the snapshot, fsynced
                        in batches, so a killed run loses at most the last batch (transient);
- (no lock file)        the run that owns OUTPUT holds a flock on OUTPUT's folder; a shard's run
                        holds .augcli-shard-K-of-N-lock, removed when it ends;
- .augcli-failures.csv  the inputs that failed in the last run, with their reasons.

A shard's files carry `.augcli-shard-K-of-N-` instead. A unit's key is a digest of everything its
bytes depend on (see keys.py); a unit is up to date when the key recorded equals the key now and
its files still hold the recorded bytes. Everything read here is untrusted (untrusted.py).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import json.encoder
import json.scanner
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.build import stat_cache
from augcli.build.lines import Lines, SpilledLines
from augcli.build.manifest import BYTES_MARK, decode_path
from augcli.build.records import PackedRecord, UnitTable, json_default, pack, unpacked
from augcli.build.stat_cache import StatTable
from augcli.storage import json_stream
from augcli.storage.untrusted import (
    JSON_DEPTH,
    RECORD_FILE_LIMIT,
    SHA256,
    STATE_FILE_LIMIT,
    NestedTooDeep,
    UntrustedError,
    check_relative,
    expect,
    expect_sha,
    load_json,
    open_state_file,
    read_json_file,
    read_state_file,
    relative_path_problem,
)

PLACE = ".augcli-"  # the prefix of every state file of OUTPUT (a shard's: shard_place)
SNAPSHOT = "state.json"
LINES = "lines.json"  # every file's manifest line: read only when the manifest must be rendered
CACHE = "cache.json"
JOURNAL = "journal.jsonl"
LOCK = "lock"
FAILURES = "failures.csv"
RUN_INFO = "run.json"
STATE_NAMES = (SNAPSHOT, LINES, CACHE, JOURNAL, LOCK, FAILURES, RUN_INFO)
SNAPSHOT_VERSION = 5
OLD_FOLDER = ".augcli"  # where augcli 0.x before format 5 kept its state: migrated on the next run
FSYNC_EVERY_RECORDS = 256
GARBAGE_PER_ENTRY = 4096  # claimed paths per journal line
FSYNC_EVERY_SECONDS = 1.0
_ENCODE_KEY = json.encoder.encode_basestring_ascii  # how json.dumps spells a key (ensure_ascii)
_SHARD_PLACE = re.compile(r"^\.augcli-shard-(\d+)-of-(\d+)-$")

Record = dict[str, Any]  # {"key", "files": [[path cell, sha256], ...], "entry"?, "run"?, "partners"?}
# (read back from the snapshot or journal, the common shape is a PackedRecord: the same fields, read-only)
HashEntry = list[Any]  # [size, mtime_ns, inode, sha256] (a StatTable of width 4 holds them packed)
Stamp = list[int]  # [size, mtime_ns, inode] of an output file when its hash was last confirmed (width 3)


class LockedError(Exception):
    """Another run holds OUTPUT."""


@dataclass
class State:
    units: UnitTable = field(default_factory=UnitTable)  # unit -> Record (one-file records held packed)
    hashes: StatTable = field(default_factory=lambda: StatTable(4))  # cache: input path -> stat + sha256
    stamps: StatTable = field(default_factory=lambda: StatTable(3))  # cache: output cell -> stat when confirmed
    deaths: dict[str, list[Any]] = field(default_factory=dict)  # input -> [workers it killed, its hash then]
    garbage: set[str] = field(default_factory=set)  # paths claimed before writing: deleted after success
    manifest: str | None = None  # sha256 of the manifest the last successful run wrote
    folders: set[str] = field(default_factory=set)  # folders augcli made to mirror INPUT's (empty, outputless)
    root: Path | None = None
    place: str = PLACE
    migrated_from: Path | None = None  # an old .augcli/ folder this state was read from
    stamps_changed: bool = False  # the cache learnt a file's new stat (its content was unchanged)
    hashed: dict[str, tuple[bytes, str | None]] = field(default_factory=dict)  # cell -> (stat_of, sha), this run
    seen: set[str] = field(default_factory=set)  # cells whose stat matched the cache, this run
    _lines: dict[str, str] | None = None  # the lines file's, once read
    _spilled: SpilledLines | None = None  # the lines set since it was written (this run's, a journal's): on disk

    def __post_init__(self) -> None:
        if type(self.units) is not UnitTable:
            self.units = UnitTable(self.units)
        if type(self.hashes) is not StatTable:
            self.hashes = StatTable(4, self.hashes)
        if type(self.stamps) is not StatTable:
            self.stamps = StatTable(3, self.stamps)

    def lines(self) -> Lines:
        """Each file's manifest line, by path cell (the lines file is read on first use: a no-op run
        never needs it)."""
        if self._lines is None:
            base = {} if self.root is None else _read_lines(self.root, self.place, self.migrated_from)
            lines = Lines(base, self._spilled)
            files = self.units.all_cells()
            unlisted = next((cell for cell in files if cell not in lines), None)
            if unlisted is not None and self.root is not None:  # read back: a file of the wrong shape
                raise UntrustedError(
                    f"{path(self.root, LINES, self.place)} has no manifest line for {unlisted!r}, a file the state "
                    "records: it is not the lines file augcli wrote with that state; restore both, or delete the "
                    ".augcli-* files and rerun with --overwrite"
                )
            self._lines = base
        return Lines(self._lines, self._spilled)

    def set_lines(self, updates: dict[str, str]) -> None:
        if updates:
            if self._spilled is None:
                self._spilled = SpilledLines()
            self._spilled.update(updates)

    def spill_lines_to(self, folder: Path) -> None:
        """Where the lines set from now on go once there are many (OUTPUT, for a run: a command that
        only reads OUTPUT leaves them in the system's temporary folder)."""
        if self._spilled is None:
            self._spilled = SpilledLines()
        self._spilled.folder = folder

    def close(self) -> None:
        """Let go of the lines set since the lines file was written (once the state is saved)."""
        if self._spilled is not None:
            self._spilled.close()
            self._spilled = None

    def lines_changed(self) -> bool:
        """Whether lines were set since the lines file was written."""
        return self._spilled is not None and len(self._spilled) > 0

    def owned(self) -> set[str]:
        """Every file the state says augcli wrote, as manifest cells name them."""
        return set(self.units.all_cells())

    def owns(self) -> Callable[[str], bool]:
        """A test of whether a path cell is a file the state says augcli wrote, without a set of
        every file (a million-file OUTPUT's is about 100 MB): a one-file record is found by its
        unit's name, the few others' cells are gathered."""
        units = self.units
        others = {cell for _, record in units.other_items() for cell in cells_of(record)}
        return lambda cell: cell in others or units.own_name(cell) is not None

    def recorded_sha(self) -> dict[str, str]:
        """Each owned file's recorded sha256, by path cell."""
        return {f[0]: f[1] for record in self.units.values() for f in record["files"]}


def cells_of(record: Record | PackedRecord) -> Iterable[str]:
    """A record's path cells (a packed record's without spelling its hashes)."""
    return record.cell_list() if type(record) is PackedRecord else [f[0] for f in record["files"]]


def keep_hashes(known: State) -> None:
    """Keep the cached hashes of the files this run asked for (StatTable.mark) and drop the rest;
    a rerun that used every entry keeps the table as it is (at a million inputs, rebuilding it
    costs a second)."""
    if not known.hashes.all_marked():
        known.hashes = known.hashes.keep_marked()


def shard_place(shard: tuple[int, int] | None) -> str:
    """The state-file prefix of shard K of N (each shard has its own state, lock and manifest part)."""
    return PLACE if shard is None else f"{PLACE}shard-{shard[0]}-of-{shard[1]}-"


def parse_shard_place(name: str) -> tuple[int, int] | None:
    match = _SHARD_PLACE.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def path(output_root: Path, name: str, place: str = PLACE) -> Path:
    """Where one state file of `place` lives."""
    return output_root / (place + name)


def is_state_name(name: str) -> bool:
    """Whether a name at OUTPUT's root is one of augcli's own files (any shard's, any temporary)."""
    return name.startswith(PLACE) or name == OLD_FOLDER


WRITTEN_IN_PLACE = (JOURNAL, LOCK)  # appended to or locked, never replaced: they may not be links


def check_state_files(output_root: Path, place: str = PLACE) -> str | None:
    """Why OUTPUT's state files cannot be used (the journal or lock is a link; one is a folder or
    a device), or None. The others may be links (DVC links the files it tracks into its cache):
    they are read through and replaced by a rename, never written through."""
    old = output_root / OLD_FOLDER
    if old.is_symlink():
        return f"{old} is a symbolic link: augcli keeps its state only in plain files; remove the link"
    for name in STATE_NAMES:
        target = path(output_root, name, place)
        try:
            info = os.lstat(target)
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) and name in WRITTEN_IN_PLACE:
            return f"{target} is a symbolic link: augcli appends to it in place, never through a link; remove it"
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(target)
            except OSError:
                return f"{target} is a link to nothing: remove it"
        if not stat.S_ISREG(info.st_mode):
            return f"{target} is not a plain file: remove it"
    return None


# -- reading (everything here is untrusted) ---------------------------------------------------------


def _json_file(file: Path) -> Any:
    return read_json_file(file)  # bounded, never a FIFO; UntrustedError for what is not JSON or too deep


def _check_cell(cell: Any, where: str) -> str:
    expect(cell, str, where)
    try:
        check_relative(decode_path(cell), where)
    except UntrustedError as exc:  # decode_path's own message: say which file holds the cell
        message = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
        raise UntrustedError(message) from None
    return cell


def _check_record(unit: Any, record: Any, where: str) -> Record:
    """`record` if it is a well-formed unit record with safe paths, else UntrustedError saying
    what is wrong. A state holds one per output: the common case is checked without building a
    message, and only a record that fails is checked again for its words."""
    if _plain_record(unit, record):
        return record
    return _check_record_slowly(unit, record, where)


def _plain_record(unit: Any, record: Any) -> bool:
    """Whether a record is right on the fast path: paths, hashes and shapes, no partners."""
    if type(unit) is not str or type(record) is not dict or relative_path_problem(unit):
        return False
    key, files = record.get("key"), record.get("files")
    if not (key is None or type(key) is str) or type(files) is not list or "partners" in record:
        return False
    for entry in files:
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not str or type(entry[1]) is not str:
            return False
        cell = entry[0]
        if cell.startswith(BYTES_MARK) or not SHA256.match(entry[1]):
            return False
        if cell == unit:  # a unit's own file (the usual first): its path was checked as the unit's,
            entry[0] = unit  # and one string serves both (a large state holds millions)
        elif relative_path_problem(cell):
            return False
    return ("entry" not in record or type(record["entry"]) is dict) and (
        "run" not in record or type(record["run"]) is bool
    )


def _check_record_slowly(unit: Any, record: Any, where: str) -> Record:
    check_relative(expect(unit, str, where), where)
    expect(record, dict, f"{where}: unit {unit!r}")
    if not isinstance(record.get("key"), (str, type(None))):
        raise UntrustedError(f"{where}: unit {unit!r} has no key")
    files = expect(record.get("files"), list, f"{where}: unit {unit!r} files")
    for entry in files:
        if not isinstance(entry, list) or len(entry) != 2:
            raise UntrustedError(f"{where}: unit {unit!r}: a file entry is not [path, sha256]")
        _check_cell(entry[0], f"{where}: unit {unit!r}")
        expect_sha(entry[1], f"{where}: unit {unit!r}")
    if "entry" in record:
        expect(record["entry"], dict, f"{where}: unit {unit!r} entry")
    if "run" in record:
        expect(record["run"], bool, f"{where}: unit {unit!r} run")
    for entry in expect(record.get("partners", []), list, f"{where}: unit {unit!r} partners"):
        ok = isinstance(entry, list) and len(entry) == 3 and type(entry[0]) is int and entry[0] >= 0
        if not ok or not isinstance(entry[1], str) or not isinstance(entry[2], (str, type(None))):
            raise UntrustedError(f"{where}: unit {unit!r}: a partner is not [slot, path, sha256]")
    return record


def _check_deaths(deaths: Any, where: str) -> dict[str, list[Any]]:
    for relative, value in expect(deaths, dict, f"{where}: deaths").items():
        ok = isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
        if not ok or not isinstance(value[1], (str, type(None))):
            raise UntrustedError(f"{where}: deaths of {relative!r} is not [count, sha256]")
    return deaths


def _check_garbage(paths: Any, where: str) -> list[str]:
    return [_check_cell(cell, f"{where}: garbage") for cell in expect(paths, list, f"{where}: garbage")]


def _check_packed(unit: str, record: PackedRecord, where: str) -> None:
    """A packed record's paths are safe (its key and hashes were checked as it was packed); the
    unit's own cell is made the unit's string, so one string serves both."""
    plain_name = not unit.startswith(BYTES_MARK) and not relative_path_problem(unit)  # (a bytes: name is decoded)
    if type(record.cells) is str and record.cells == unit and plain_name:
        record.cells = unit  # the usual record: its one file is the unit's (checked as the unit's name)
        return
    cells = record.cell_list()
    if not plain_name or any(
        cell.startswith(BYTES_MARK) or (cell != unit and relative_path_problem(cell)) for cell in cells
    ):  # the careful check: it raises, naming what is wrong (a bytes: name that decodes safely passes)
        _check_record_slowly(unit, record.as_dict(), where)
    if type(record.cells) is str:
        if record.cells == unit:
            record.cells = unit
    else:
        record.cells = tuple(unit if cell == unit else cell for cell in cells)


def _unpack_inner(record: Record) -> Record:
    """A record with anything packing met inside its `entry` (an object that happens to have a
    record's shape) turned back into what it was."""
    entry = unpacked(record["entry"])
    return record if entry is record["entry"] else {**record, "entry": entry}


def packed(unit: str, record: Record) -> Record | PackedRecord:
    """A record this run made, packed when it has the common shape, its own cell the unit's string."""
    result = pack(record)
    if type(result) is PackedRecord and type(result.cells) is str and result.cells == unit:
        result.cells = unit
    return result


def _packed_record(unit: Any, record: Any, where: str) -> Record | PackedRecord:
    """A record read back (checked), packed when it has the common shape."""
    record = _check_record(unit, record, where)
    result = pack(record)
    if type(result) is PackedRecord:
        _check_packed(unit, result, where)
    return result


_PACKING_SCAN = json.scanner.make_scanner(json.JSONDecoder(object_hook=pack))


def _read_snapshot(file: Path) -> Any:
    """The snapshot's document, its units read one at a time and packed as they come (at a million
    files neither the file's text nor the records' dicts and lists exist at once); a document
    written otherwise is parsed whole, its records packed all the same."""
    with contextlib.suppress(json_stream.NotStreamable), open_state_file(file) as handle:
        return json_stream.read_object(handle, STATE_FILE_LIMIT, _UNITS)
    return read_json_file(file, object_hook=pack)


_UNITS = {"units": json_stream.BigMember(_PACKING_SCAN, UnitTable)}


def _load_snapshot(state: State, file: Path) -> None:
    where = str(file)
    data = expect(_read_snapshot(file), dict, where)
    if data.get("version") != SNAPSHOT_VERSION:
        raise UntrustedError(
            f"{where}: version {data.get('version')!r}, this augcli reads {SNAPSHOT_VERSION}: delete the "
            ".augcli-* files and rerun with --overwrite (every output is remade)"
        )
    units = data.get("units")
    if type(units) is not UnitTable:  # a document parsed whole
        units = UnitTable(expect(units, dict, f"{where}: units"))
    for unit in units.one_file_units():  # a record of its own path: the unit's name is all to check
        if unit.startswith(BYTES_MARK) or relative_path_problem(unit):  # (a bytes: name that decodes safely passes)
            _check_record_slowly(unit, units[unit].as_dict(), where)
    for unit, record in units.other_items():  # checked where they lie: a million records are not copied
        if type(record) is PackedRecord:
            _check_packed(unit, record, where)
            continue
        if type(record) is dict and "entry" in record:
            record = units[unit] = _unpack_inner(record)
        if not _plain_record(unit, record):
            _check_record_slowly(unit, record, where)  # raises, naming what is wrong
    state.units = units
    state.deaths = _check_deaths(data.get("deaths", {}), where)
    state.garbage = set(_check_garbage(data.get("garbage", []), where))
    manifest = data.get("manifest")
    state.manifest = None if manifest is None else expect_sha(manifest, f"{where}: manifest")
    folders = expect(data.get("folders", []), list, f"{where}: folders")
    state.folders = {check_relative(expect(f, str, f"{where}: folders"), f"{where}: folders") for f in folders}


def _load_cache(state: State, file: Path, inputs: Mapping[str, str] | None = None) -> None:
    """The stat cache, packed as it is read (its entries' lists never exist all at once); anything
    of the wrong shape is dropped (it only saves hashing). An output's own cell shares the unit's
    string; an input under INPUT is held by its relative path, the unit's or the plan's string."""
    prefix = state.hashes.prefix
    try:
        state.hashes, state.stamps = stat_cache.read_file(file, state.units, inputs, prefix)
    except (OSError, ValueError):  # UntrustedError is a ValueError
        state.hashes, state.stamps = StatTable(4, prefix=prefix), StatTable(3)


def _read_lines(output_root: Path, place: str, migrated_from: Path | None) -> dict[str, str]:
    file = migrated_from / LINES if migrated_from is not None else path(output_root, LINES, place)
    try:
        lines = _json_file(file)
    except FileNotFoundError:
        return {}
    for cell, text in expect(lines, dict, str(file)).items():
        if not isinstance(text, str):
            raise UntrustedError(f"{file}: the line of {cell!r} is not text")
    return lines


def load(output_root: Path, place: str = PLACE, inputs: Mapping[str, str] | None = None, prefix: str = "") -> State:
    """The snapshot plus every complete journal line after it (a torn last line is ignored).
    `prefix` is INPUT's folder as the plan names it (Plan.source_prefix): the cache holds an input
    under it by its relative path, which `inputs` maps to the plan's string for it.

    Raises UntrustedError when a state file is not of the shape augcli writes (the CLI exits 2)."""
    state = State(root=output_root, place=place, hashes=StatTable(4, prefix=prefix))
    snapshot = path(output_root, SNAPSHOT, place)
    old = _old_folder(output_root, place)
    if not os.path.lexists(snapshot) and old is not None:
        _load_old(state, old)
        return state
    with contextlib.suppress(FileNotFoundError):
        _load_snapshot(state, snapshot)
    with contextlib.suppress(FileNotFoundError):
        _load_cache(state, path(output_root, CACHE, place), inputs)
    with contextlib.suppress(FileNotFoundError):
        _replay_journal(state, path(output_root, JOURNAL, place))
    return state


def _replay_journal(state: State, file: Path) -> None:
    data = read_state_file(file, follow=False)
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line:
            continue
        try:
            entry = load_json(line, f"{file}, line {number}")
        except NestedTooDeep:
            raise
        except UntrustedError:
            break  # the torn tail of a killed run
        _replay(state, entry, f"{file}, line {number}")


def _replay(state: State, entry: Any, where: str) -> None:
    expect(entry, dict, where)
    if "put" in entry:
        state.units[entry["put"]] = _packed_record(entry["put"], entry.get("record"), where)
        lines = expect(entry.get("lines", {}), dict, f"{where}: lines")
        for cell, text in lines.items():
            _check_cell(cell, where)
            expect(text, str, f"{where}: line of {cell!r}")
        state.set_lines(lines)
    elif "del" in entry:
        state.units.pop(expect(entry["del"], str, where), None)
    elif "garbage" not in entry:
        raise UntrustedError(f"{where}: not an entry augcli writes (put, del or garbage)")
    state.garbage.update(_check_garbage(entry.get("garbage", []), where))
    with contextlib.suppress(AttributeError, TypeError, ValueError):  # caches only: the odd entry dropped
        state.hashes.learn(entry.get("hashes", {}))
        state.stamps.learn(entry.get("stamps", {}))
    state.deaths.update(_check_deaths(entry.get("deaths", {}), where))


# -- the layout before format 5 (OUTPUT/.augcli/), read once and migrated --------------------------


def _old_folder(output_root: Path, place: str) -> Path | None:
    shard = parse_shard_place(place)
    folder = output_root / OLD_FOLDER
    if shard is not None:
        folder = folder / "shards" / f"{shard[0]}-of-{shard[1]}"
    if folder.is_dir() and not folder.is_symlink() and (folder / SNAPSHOT).is_file():
        return folder
    return None


def _load_old(state: State, folder: Path) -> None:
    """A version 4 state: files were [cell, size, mtime_ns] and their hashes lived in the lines."""
    where = str(folder / SNAPSHOT)
    data = expect(_json_file(folder / SNAPSHOT), dict, where)
    if data.get("version") != 4:
        return
    units = expect(data.get("units"), dict, f"{where}: units")
    lines = expect(_json_file(folder / LINES), dict, str(folder / LINES)) if (folder / LINES).is_file() else {}
    with contextlib.suppress(FileNotFoundError):
        for number, raw in enumerate(read_state_file(folder / JOURNAL).split(b"\n"), start=1):
            try:
                entry = load_json(raw, f"{folder / JOURNAL}, line {number}") if raw else None
            except NestedTooDeep:
                raise
            except UntrustedError:
                break
            if isinstance(entry, dict) and isinstance(entry.get("put"), str):
                units[entry["put"]] = entry.get("record")
                lines.update(expect(entry.get("lines", {}), dict, f"{folder / JOURNAL}, line {number}"))
            elif isinstance(entry, dict) and isinstance(entry.get("del"), str):
                units.pop(entry["del"], None)
    state.migrated_from = folder
    state.deaths = _check_deaths(data.get("deaths", {}), where)
    state.garbage = set(_check_garbage(data.get("garbage", []), where))
    for unit, record in units.items():
        expect(record, dict, f"{where}: unit {unit!r}")
        files = []
        for entry in expect(record.get("files"), list, f"{where}: unit {unit!r} files"):
            cell = _check_cell(expect(entry, list, where)[0], where)
            text = lines.get(cell)
            sha = text.rsplit(",", 1)[-1] if isinstance(text, str) else ""
            if len(sha) != 64:
                state.garbage.add(cell)  # no hash to prove it: remade, and its old file replaced
                files = None
                break
            files.append([cell, sha])
            with contextlib.suppress(OSError, TypeError, IndexError):
                info = os.lstat(state.root / decode_path(cell))  # type: ignore[operator]
                if [info.st_size, info.st_mtime_ns] == entry[1:3]:
                    state.stamps[cell] = [info.st_size, info.st_mtime_ns, info.st_ino]
        if files is not None:
            new = {k: v for k, v in record.items() if k in ("key", "entry", "run")} | {"files": files}
            state.units[unit] = _packed_record(unit, new, where)
    state._lines = {cell: text for cell, text in lines.items() if isinstance(text, str)}


def remove_old_folder(output_root: Path, folder: Path) -> None:
    """Delete a migrated .augcli/ folder's files (only the names augcli wrote there) and the folder."""
    for name in (*STATE_NAMES, "mirror.json", MANIFEST_PART):
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    for candidate in (folder, folder.parent, folder.parent.parent):
        if candidate == output_root or output_root not in candidate.parents:
            break
        with contextlib.suppress(OSError):
            candidate.rmdir()


MANIFEST_PART = "manifest.csv"


def files_to_push(output_root: Path, place: str, manifest_name: str) -> tuple[set[str], list[str]]:
    """What a remote OUTPUT must hold of this state: the files it owns (paths relative to OUTPUT)
    and the state's own files worth keeping (not the lock, journal or cache)."""
    owned = {decode_path(cell) for cell in load(output_root, place).owned()}
    kept = [name for name in STATE_NAMES if name not in (LOCK, JOURNAL, CACHE)]
    extras = [place + name for name in kept if path(output_root, name, place).is_file()]
    if manifest_name != MANIFEST_PART and (output_root / manifest_name).is_file():
        extras.append(manifest_name)  # a shard's manifest part (push sends it last)
    return owned, extras


# -- writing --------------------------------------------------------------------------------------


class Journal:
    """Appends unit records as they complete: each handed to the kernel as it is written (a killed
    process loses none: its files are in place, and a record proves them its), fsynced in batches
    and on close (what a power cut may lose, the claims made before writing still name)."""

    def __init__(self, output_root: Path, place: str = PLACE) -> None:
        self._path = path(output_root, JOURNAL, place)
        self._handle: Any = None  # opened at the first entry: a no-op run writes nothing
        self._pending = 0
        self.entries = 0
        self._last_sync = time.monotonic()

    def put(
        self,
        unit: str,
        record: Record,
        lines: dict[str, str],
        hashes: dict[str, HashEntry] | None = None,
        stamps: dict[str, Stamp] | None = None,
    ) -> None:
        self._append({"put": unit, "record": record, "lines": lines, "hashes": hashes or {}, "stamps": stamps or {}})

    def delete(self, unit: str) -> None:
        self._append({"del": unit})

    def garbage(self, paths: list[str]) -> None:
        """Claim paths about to be written, durably before any of them is: a run killed after its
        workers wrote them must not leave files the next run takes for someone else's. In entries
        of GARBAGE_PER_ENTRY paths: a million claims are never one line in memory."""
        for start in range(0, len(paths), GARBAGE_PER_ENTRY):
            self._append({"garbage": paths[start : start + GARBAGE_PER_ENTRY]})
        self.sync()

    def _append(self, entry: dict[str, Any]) -> None:
        if self._handle is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            self._handle = os.fdopen(os.open(self._path, flags, 0o644), "ab")
        self.entries += 1
        self._handle.write(json.dumps(entry, separators=(",", ":"), default=json_default).encode() + b"\n")
        self._handle.flush()  # in the kernel at once: a killed run loses no record of files already in place
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


def _in_pieces(texts: Iterable[str], batch: int = 4096) -> Iterator[bytes]:
    """Texts joined and encoded a few thousand at a time: a large document is never one string."""
    pieces: list[str] = []
    for text in texts:
        pieces.append(text)
        if len(pieces) >= batch:
            yield "".join(pieces).encode()
            pieces.clear()
    yield "".join(pieces).encode()


def _json_chunks(value: Any) -> Iterator[bytes]:
    """A JSON document in pieces, so a large state is never one string in memory."""
    encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=json_default)
    return _in_pieces(encoder.iterencode(value))


def _lines_chunks(state: State) -> Iterator[bytes]:
    """The lines file as `_json_chunks` writes it (sorted keys, no spaces), each owned file's line
    in name order (lines() has one for every owned cell; lines of files no record owns any more are
    dropped): streamed, never one dict nor one string."""
    return _in_pieces(_lines_texts(state))


def _lines_texts(state: State) -> Iterator[str]:
    lines = state.lines()
    last = None
    for cell in sorted(state.units.all_cells()):
        if cell == last:
            continue  # (two records of one file: a hand-made state) one key, as a dict has
        yield f"{'{' if last is None else ','}{_ENCODE_KEY(cell)}:{_ENCODE_KEY(lines[cell])}"
        last = cell
    yield "{}" if last is None else "}"


def _snapshot_chunks(data: dict[str, Any], units: UnitTable) -> Iterator[bytes]:
    """The snapshot as `_json_chunks` writes it (json.dumps, sorted keys, no spaces), its units
    streamed in name order: a million records are never one dict, nor one string."""
    return _in_pieces(_snapshot_texts(data, units))


def _snapshot_texts(data: dict[str, Any], units: UnitTable) -> Iterator[str]:
    encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=json_default)
    head, _, tail = encoder.encode({**data, "units": {}}).rpartition('"units":{}')  # only "version" sorts after it
    yield head + '"units":{'
    for index, (unit, record) in enumerate(units.sorted_items()):
        name = _ENCODE_KEY(unit)
        if type(record) is PackedRecord and record.cells is unit:  # one file, the unit's own: spelt here
            value = f'{{"files":[[{name},"{record.sha(0)}"]],"key":"{record.key()}"}}'
        else:
            value = encoder.encode(record)
        yield f"{',' if index else ''}{name}:{value}"
    yield "}" + tail


def save(output_root: Path, state: State, write_chunks, place: str = PLACE) -> None:
    """Write the snapshot (content only: the same set gives the same bytes) and the cache
    atomically, then drop the journal they now contain."""
    data = {
        "version": SNAPSHOT_VERSION,
        "deaths": state.deaths,
        "garbage": sorted(state.garbage),
        "manifest": state.manifest,
    }
    if state.folders:  # absent when none: an OUTPUT without mirrored folders keeps its bytes
        data["folders"] = sorted(state.folders)
    lines_file = path(output_root, LINES, place)
    if state._lines is not None or state.lines_changed() or not lines_file.exists() or state.migrated_from:
        write_chunks(place + LINES, _lines_chunks(state))
    write_chunks(place + SNAPSHOT, _snapshot_chunks(data, state.units))
    save_cache(output_root, state, write_chunks, place)
    with contextlib.suppress(FileNotFoundError):
        path(output_root, JOURNAL, place).unlink()
    if state.migrated_from is not None:
        remove_old_folder(output_root, state.migrated_from)
        state.migrated_from = None


def save_cache(output_root: Path, state: State, write_chunks, place: str = PLACE) -> None:
    """The stat cache alone (a no-op run that had to hash files it saw with new times)."""
    owns = state.owns()
    stamps = [cell for cell in state.stamps if cell == MANIFEST_PART or owns(cell)]
    write_chunks(place + CACHE, stat_cache.write_chunks(state.hashes, state.stamps, stamps))


def write_run_info(output_root: Path, info: dict[str, Any], write_chunks, place: str = PLACE) -> None:
    """.augcli-run.json: the recipe (its text and where it was), INPUT, seed and copies of the last
    run that changed OUTPUT, so `augcli replay` can make any output again."""
    data = json.dumps(info, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogateescape")
    write_chunks(place + RUN_INFO, [data])


def read_run_info(output_root: Path, place: str = PLACE) -> dict[str, Any] | None:
    """The run record, or None when there is none or it is not an object of the fields augcli writes."""
    old = _old_folder(output_root, place)
    file = old / RUN_INFO if old is not None and not path(output_root, RUN_INFO, place).exists() else None
    file = file or path(output_root, RUN_INFO, place)
    try:
        text = read_state_file(file, RECORD_FILE_LIMIT).decode("utf-8", "surrogateescape")
        info = load_json(text, file, JSON_DEPTH)
    except (OSError, ValueError):  # UntrustedError too: a record of the wrong kind is no record
        return None
    if not isinstance(info, dict):
        return None
    kinds = {
        "recipe_text": str,
        "recipe": str,
        "recipe_folder": str,
        "input": str,
        "input_url": str,
        "seed": int,
        "copies": int,
        "summary": dict,
    }
    fits = lambda k, v: isinstance(v, kinds[k]) or (v is None and kinds[k] is str)  # noqa: E731 (a null path)
    return {k: v for k, v in info.items() if k not in kinds or fits(k, v)}


def write_failures(output_root: Path, failures: Iterable[tuple[str, str]], write_chunks, place: str = PLACE) -> None:
    """.augcli-failures.csv: the inputs that failed in the last run (removed when none did; not
    rewritten when the same ones failed again)."""
    rows = list(failures)
    file = path(output_root, FAILURES, place)
    if not rows:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["source", "error"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", "surrogateescape")
    with contextlib.suppress(OSError, ValueError):
        if read_state_file(file, RECORD_FILE_LIMIT) == data:
            return
    write_chunks(place + FAILURES, [data])


@contextlib.contextmanager
def locked(output_root: Path, place: str = PLACE) -> Iterator[None]:
    """Hold OUTPUT (or one shard of it) for this run; a second run exits at once naming the holder's
    PID. OUTPUT's own folder is the lock (flock on its descriptor), so a run creates no file to take
    it and a no-op run changes nothing in OUTPUT, not even the folder's mtime; a shard, which runs
    beside others in one OUTPUT, holds a lock file of its own that exists only while it runs. The
    lock of a process that died is free again (the kernel releases flock locks with their holder)."""
    import fcntl

    output_root.mkdir(parents=True, exist_ok=True)
    if place == PLACE:
        fd = os.open(output_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _flock_holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise LockedError(_in_use(output_root, holder)) from None
        try:
            yield
        finally:
            os.close(fd)
        return
    file = path(output_root, LOCK, place)
    for _attempt in range(100):
        fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise LockedError(_in_use(output_root, holder)) from None
        try:
            same = os.fstat(fd).st_ino == os.lstat(file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed that file as we took it: take the new one
    else:
        raise LockedError(f"OUTPUT {output_root}: could not take its lock {file}")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(file)
        os.close(fd)


def in_use(output_root: Path) -> str | None:
    """Why OUTPUT is busy (another run holds it), or None; takes nothing (for `--check`)."""
    import fcntl

    try:
        fd = os.open(output_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _in_use(output_root, _flock_holder(fd))
    finally:
        os.close(fd)
    return None


def _in_use(output_root: Path, holder: str) -> str:
    return f"OUTPUT {output_root} is in use by another augcli run (PID {holder}): wait for it to finish, or stop it"


def _flock_holder(fd: int) -> str:
    """The PID holding a flock on the file behind `fd`, from /proc/locks (Linux), or "unknown"."""
    info = os.fstat(fd)
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "FLOCK" in fields and device in fields:
                return fields[fields.index(device) - 1]
    return "unknown"
