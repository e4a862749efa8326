"""What is out of date: every planned unit keyed and compared with the state; nothing written.

A unit (a file and its companions) is current when its recorded key is the key now and its files
hold the recorded bytes (their stat is only a cache of that). Also the checks made before a run
writes anything: OUTPUT against INPUT, foreign files where outputs go, links on the way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.build import keys, manifest, state
from augcli.build.columns import Columns
from augcli.build.plan import Job, Output, Plan
from augcli.build.records import PackedRecord, exact_hex
from augcli.build.stat_cache import StatTable, stat_of
from augcli.core.files import sha256_file, sha256_files
from augcli.core.partners import visited_are_current
from augcli.core.recipe import Recipe
from augcli.core.words import plural
from augcli.storage.tree import OutputTree

MAX_WORKER_DEATHS = 2  # a file that killed this many workers is not tried again until it changes


class OutputError(Exception):
    """OUTPUT cannot be used as asked (inside INPUT, foreign files without --overwrite, a link, ...)."""


class UnitKeys:
    """unit -> its key now (a 32-digit hex digest, or None: its input cannot be read), for every
    unit a run makes: held as Columns of 16 bytes (a first run of a million files makes two million
    units; a dict of the digests' strings was about 125 bytes a unit)."""

    __slots__ = ("_columns",)

    def __init__(self) -> None:
        self._columns = Columns(16)

    def __setitem__(self, unit: str, key: str | None) -> None:
        packed = exact_hex(key) if type(key) is str and len(key) == 32 else None
        self._columns.put(unit, packed, key)

    def get(self, unit: str) -> str | None:
        key = self._columns.get(unit)
        return key.hex() if type(key) is bytes else key

    def __len__(self) -> int:
        return len(self._columns)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)


@dataclass(frozen=True, slots=True)
class Task:
    """A job's outputs to make (all of them, or those out of date); `part` a table's copy made apart."""

    job: Job
    needed: tuple[Output, ...] | None  # None: every output of the job (made on demand: a first run of
    # a million files holds no Output per file while its tasks wait)
    part: int | None = None

    @property
    def outputs(self) -> tuple[Output, ...]:
        return self.job.outputs if self.needed is None else self.needed

    @property
    def output_paths(self) -> tuple[str, ...]:
        return self.job.output_paths if self.needed is None else tuple(output.path for output in self.needed)

    @property
    def written(self) -> tuple[str, ...]:
        """Every file its outputs write (each output's, then its companions), without an Output
        made when the task is the whole job."""
        return self.job.written if self.needed is None else tuple(p for output in self.needed for p in output.files)


@dataclass
class Status:
    """How OUTPUT stands against the plan: what to make, what to delete, what stays."""

    tasks: list[Task] = field(default_factory=list)
    unit_keys: UnitKeys = field(default_factory=lambda: UnitKeys())  # every unit to make -> its key now
    plan: Plan | None = field(default=None, repr=False)
    partner_hashes: dict[str, str | None] = field(default_factory=dict)  # per partner (relative): its hash
    companions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # input with work -> its companions, if any
    unhashed: set[str] = field(default_factory=set)  # inputs with work that could not be read: no hash this run
    current_jobs: int = 0
    new: list[str] = field(default_factory=list)  # units to make that OUTPUT has no record of
    changed: list[str] = field(default_factory=list)  # recorded units whose key or files changed
    removed: list[str] = field(default_factory=list)  # recorded units no longer planned
    blocked: dict[str, str] = field(default_factory=dict)  # input -> why it is not tried (killed workers)
    hashes_changed: bool = False
    every_record_planned: bool = False  # each unit the state recorded is planned: none is removed
    _planned: set[str] | None = field(default=None, repr=False)

    @property
    def planned(self) -> set[str]:
        """Every planned unit, current or not (made when first asked: a rerun that removes nothing
        and writes no run-wide file never needs it)."""
        if self._planned is None:
            jobs = self.plan.jobs if self.plan is not None else []
            self._planned = {path for job in jobs for path in job.output_paths}
        return self._planned

    def is_planned(self, unit: str) -> bool:
        """Whether a unit of the state is planned: without a set of every planned unit when each
        recorded one is (a first run of a million files, every no-op rerun)."""
        return self.every_record_planned or unit in self.planned

    def input_files(self, relative: str) -> tuple[str, ...]:
        """An input's files as the cache names them (its whole path, then its companions'): their
        cache entries are journalled with its outputs, read back from the cache then, so no map of
        hashes is kept per input (about 500 bytes an input in a first run)."""
        root = self.plan.jobs[0].root if self.plan is not None and self.plan.jobs else ""
        return (root + relative, *self.companions.get(relative, ()))

    def source_sha(self, relative: str, hashes: StatTable) -> str | None:
        """An input's content hash this run (None: it could not be read), from the cache."""
        entry = None if relative in self.unhashed else hashes.get(self.input_files(relative)[0])
        return None if entry is None else entry[3]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _lies_in(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or below it as the file system sees them: each folder on the way
    up is compared by device and inode, so a bind mount or a second name of a folder is caught."""
    target = _identity(folder)
    if target is None:
        return False
    current = path.resolve()
    while True:
        if _identity(current) == target:
            return True
        if current.parent == current:
            return False
        current = current.parent


def check_output(input_root: Path, output_root: Path, overwrite: bool, place: str = state.PLACE) -> None:
    """Refuse an OUTPUT that overlaps INPUT, is a file, or holds files no augcli run wrote
    (no state) without --overwrite; or whose state files (and those of `place`: a shard's) are
    links where augcli appends, folders or devices."""
    real_in, real_out = input_root.resolve(), output_root.resolve()
    probe = real_out if real_out.exists() else next(p for p in real_out.parents if p.exists())
    if _inside(real_out, real_in) or _lies_in(probe, real_in):
        raise OutputError(f"OUTPUT {output_root} is INPUT or lies inside it: choose a folder outside {input_root}")
    if _inside(real_in, real_out) or (real_out.exists() and _lies_in(real_in, real_out)):
        raise OutputError(f"INPUT {input_root} lies inside OUTPUT {output_root}: choose a separate output folder")
    problem = state.check_state_files(output_root) or state.check_state_files(output_root, place)
    if problem:
        raise OutputError(problem)
    if real_out.exists() and not real_out.is_dir():
        raise OutputError(f"OUTPUT {output_root} exists and is not a folder")
    if overwrite or not real_out.is_dir() or has_state(real_out):
        return
    if any(real_out.iterdir()):
        raise OutputError(
            f"OUTPUT {output_root} holds files that no augcli run wrote: pass --overwrite to write there anyway "
            "(files of the same names are replaced), or pick an empty folder"
        )


def has_state(output_root: Path) -> bool:
    """Whether an augcli run has written OUTPUT (its state files, or an older version's folder)."""
    try:
        names = os.listdir(output_root)
    except OSError:
        return False
    return any(state.is_state_name(name) for name in names)


HASH_THREADS = 4
HASH_AHEAD_FROM = 64  # outputs with a changed stat: fewer are hashed one by one as they are met
STAT_AHEAD_JOBS = 4096  # inputs whose recorded outputs are stat'ed (and hashed on threads) together


def is_current(output_root: Path, record: dict[str, Any] | None, key: str | None, known: state.State) -> bool:
    """The record's key is the key now, and each of its files still holds the recorded bytes.

    Content decides: size, mtime and inode only save the hashing. A file whose stat differs from the
    cache (a git clone, cp -r, a restore, a data version tool's link) is hashed; equal content is
    current, and the cache learns its new stat. The file itself is never touched."""
    if record is None or key is None:
        return False
    if type(record) is PackedRecord:  # (its hashes are spelt only when one must be compared)
        if record.key() != key:
            return False
        cells, sha_of = record.cell_list(), record.sha
    else:
        if record["key"] != key:
            return False
        files = record["files"]
        cells, sha_of = [f[0] for f in files], lambda index: files[index][1]
    for index, cell in enumerate(cells):
        hashed = known.hashed.get(cell)
        if hashed is not None:  # hashed ahead, on threads (see hash_changed_outputs)
            if hashed[1] != sha_of(index):
                return False
            known.stamps.put_stat(cell, hashed[0])
            known.stamps_changed = True
            continue
        if cell in known.seen:  # stat'ed just now by hash_changed_outputs, and matching the cache
            continue
        path = os.fsdecode(output_root) + "/" + manifest.decode_path(cell)
        try:
            info = os.stat(path)  # through a link: DVC's symlink cache holds the bytes elsewhere
        except OSError:
            return False
        stamp = stat_of(info)
        if known.stamps.current(cell, stamp):
            continue
        try:
            if not stat.S_ISREG(info.st_mode) or sha256_file(Path(path)) != sha_of(index):
                return False
        except OSError:
            return False
        known.stamps.put_stat(cell, stamp)
        known.stamps_changed = True
    return True


def hash_changed_outputs(output_root: Path, known: state.State, cells: list[str]) -> None:
    """Hash, on a few threads, the recorded outputs whose stat is not the cached one (a clone, a
    copy, a restore: every file at once), so is_current finds their hashes ready. hashlib and reads
    release the GIL. A file whose stat matches the cache is noted as seen, so a rerun stats each
    output once and hashes none."""
    root = os.fsdecode(output_root) + "/"
    todo: list[tuple[str, bytes]] = []
    for cell in cells:
        try:
            info = os.stat(root + manifest.decode_path(cell))
        except OSError:
            continue
        stamp = stat_of(info)
        if known.stamps.current(cell, stamp):
            known.seen.add(cell)
        elif stat.S_ISREG(info.st_mode):
            todo.append((cell, stamp))
    if len(todo) < HASH_AHEAD_FROM:
        return  # a few: hashed one by one as they are met

    shas = sha256_files([root + manifest.decode_path(cell) for cell, _ in todo], HASH_THREADS)
    known.hashed.update((cell, (stamp, sha)) for (cell, stamp), sha in zip(todo, shas, strict=True))


def _stat_ahead(output_root: Path, known: state.State, jobs: list[Job]) -> None:
    """Stat the recorded outputs of the next few thousand inputs, hashing the changed ones on
    threads (hash_changed_outputs); what it learnt of the last batch is let go, so what a run keeps
    of this does not grow with the dataset."""
    known.seen.clear()
    known.hashed.clear()
    units = known.units
    cells = [cell for job in jobs for path in job.output_paths if (owned := units.cells(path)) for cell in owned]
    hash_changed_outputs(output_root, known, cells)


def _share_name(job: Job, output: Output, record: Any) -> bool:
    """Let a planned output (and its job, for an original) name itself with the state's string for
    the same path: a million-file plan then holds no second copy of each name (about 150 bytes an
    input). The plan's records are frozen for everyone else; this swaps equal text only. Whether
    it swapped (a job that holds its outputs as paths takes them again: _keep_names)."""
    cells = getattr(record, "cells", None)
    if type(cells) is not str or cells is output.path or cells != output.path:
        return False
    if job.relative is output.path:
        object.__setattr__(job, "relative", cells)
    object.__setattr__(output, "path", cells)
    return True


def _keep_names(job: Job, outputs: tuple[Output, ...]) -> None:
    """A job whose outputs are held as paths (Job.planned) holds the names its outputs now have."""
    if job.planned and type(job.planned[0]) is str:
        object.__setattr__(job, "planned", tuple([output.path for output in outputs]))


def canonical_options(value: Any, base_dir: Path | None) -> Any:
    """Section options with the recipe's own folder taken out of the paths it resolved, so a key
    does not change when the project is cloned or copied elsewhere."""
    if base_dir is None:
        return value
    prefix = os.fsdecode(base_dir.resolve()) + "/"
    if isinstance(value, str):
        return "recipe:" + value[len(prefix) :] if value.startswith(prefix) else value
    if isinstance(value, dict):
        return {k: canonical_options(v, base_dir) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_options(v, base_dir) for v in value]
    return value


def assess(
    plan: Plan,
    recipe: Recipe,
    output_root: Path,
    known: state.State,
    rebuild: bool,
    work_found: Callable[[], None] = lambda: None,
) -> Status:
    """Key every planned unit and compare it with the state: nothing is written. `work_found` is
    called as soon as something is out of date (the worker pool can start while the rest is keyed)."""
    from augcli.core.modalities import MODALITIES

    status = Status(plan=plan)
    hasher = keys.Hasher(known.hashes)
    section_keys, original_keys, key_parts = {}, {}, {}
    for name, section in recipe.sections.items():
        modality = MODALITIES[section.modality]
        files = [hasher.tree(f) for f in sorted(modality.section_files(section))]
        transforms = canonical_options([keys.canonical_transform(t) for t in section.transforms], recipe.base_dir)
        options = canonical_options(section.options, recipe.base_dir)
        version = modality.key_version(section)  # past 1 only: every other section's keys stay as they were
        extra = [version] if version > 1 else []
        key_parts[name] = (transforms, options, files, extra)
        section_keys[name] = keys.digest(keys.FORMAT_VERSION, name, transforms, options, files, *extra)
        original_keys[name] = keys.digest(keys.FORMAT_VERSION, name, modality.original_settings(section), files, *extra)
    copy_keys: dict[tuple[str, str], str] = {}

    def copy_key(name: str, path: str) -> str:
        """The section's key for a copy written as `path`: output options that cannot change a file
        of its format (JPEG quality for a PNG) count at their defaults, so changing them remakes
        exactly the copies they affect."""
        base = path.rpartition("/")[2]
        dot = base.rfind(".")
        suffix = base[dot:].lower() if 0 < dot < len(base) - 1 else ""  # PurePosixPath.suffix, without its cost
        found = copy_keys.get((name, suffix))
        if found is None:
            transforms, options, files, extra = key_parts[name]
            section = recipe.sections[name]
            output = MODALITIES[section.modality].output_key(section, suffix)
            options = options if output is None else {**options, "output": output}
            found = copy_keys[(name, suffix)] = keys.digest(
                keys.FORMAT_VERSION, name, transforms, options, files, *extra
            )
        return found

    status.partner_hashes = _partner_hashes(plan, recipe, hasher)
    units = known.units
    recorded = 0  # planned units the state has a record of
    if hasher.hashed or rebuild:
        work_found()
    sources: dict[str, str | None] = {}
    for index, job in enumerate(plan.jobs):
        if index % STAT_AHEAD_JOBS == 0:  # the next few thousand inputs hashed (on threads), their outputs stat'ed
            batch = plan.jobs[index : index + STAT_AHEAD_JOBS]
            sources = hasher.many([each.source_path for each in batch], [each.relative for each in batch])
            if hasher.hashed:
                work_found()
            if not rebuild:
                _stat_ahead(output_root, known, batch)
        modality = MODALITIES[job.modality]
        section = recipe.sections[job.modality]
        source = job.source_path
        source_sha = sources[source]
        companions = modality.input_files(section, job.relative)
        content = keys.content_digest(source_sha, [hasher.file(path) for path in companions])
        needed = []
        outputs, swapped = job.outputs, False
        for output in outputs:
            if source_sha is None:
                key = None  # unreadable: it is tried, and fails with its reason
            elif job.table:
                key = keys.fast_digest(
                    section_keys[job.modality], recipe.seed, recipe.copies, recipe.keep_original, content
                )
            elif output.copy is None:
                key = keys.fast_digest(original_keys[job.modality], content, output.path)
            else:
                key = keys.fast_digest(
                    copy_key(job.modality, output.path), recipe.seed, content, output.copy, output.path, *output.paste
                )
            record = units.get(output.path)
            if record is not None:
                recorded += 1
                swapped = _share_name(job, output, record) or swapped
            current = not rebuild and is_current(output_root, record, key, known)
            if current and output.partners:  # a mixed copy: the partners it took are still its, unchanged
                current = visited_are_current(record.get("partners"), output.partners, status.partner_hashes)
            if not current:
                status.unit_keys[output.path] = key
                needed.append(output)
                (status.new if record is None else status.changed).append(output.path)
        if swapped:
            _keep_names(job, outputs)
        if not needed:
            status.current_jobs += 1
            continue
        work_found()
        if companions:
            status.companions[job.relative] = tuple(companions)
        if source_sha is None:
            status.unhashed.add(job.relative)
        deaths = known.deaths.get(job.relative)
        if deaths and deaths[0] >= MAX_WORKER_DEATHS and deaths[1] == source_sha and not rebuild:
            status.blocked[job.relative] = (
                f"skipped: it killed {plural(deaths[0], 'worker')} in earlier runs; change the file, or pass --rebuild "
                "to try it again"
            )
            continue
        status.tasks += _split(job, None if len(needed) == len(outputs) else tuple(needed), recipe)
    order = _ring_order(plan)
    if order:  # mixing sections in ring order: a worker meets the partners it decoded for the last input
        status.tasks.sort(key=lambda task: order.get(task.job.relative, -1))
    status.hashes_changed = hasher.hashed > 0 or not known.hashes.all_marked()
    known.seen.clear()
    known.hashed.clear()
    if recorded == len(known.units):
        status.every_record_planned = True
        return status  # none is removed
    planned = status.planned
    hidden = tuple(folder.rstrip("/") + "/" for folder, _ in plan.unreadable)  # unlisted, not gone: kept
    status.removed = sorted(
        u
        for u, record in known.units.items()
        if u not in planned and not record.get("run") and not (hidden and (u.startswith(hidden) or hidden == ("./",)))
    )
    return status


def _ring_order(plan: Plan) -> dict[str, int]:
    """Each input of a mixing section by its place on its partner ring (none: no section mixes)."""
    order: dict[str, int] = {}
    for drawer in plan.drawers.values():
        for ring in drawer.rings.values():
            order.update(ring.places)
    return order


def _partner_hashes(plan: Plan, recipe: Recipe, hasher: keys.Hasher) -> dict[str, str | None]:
    """What every input a copy may take as a partner holds: its content hash with its label's and
    mask's (a partner's boxes go into the copy too), None when it cannot be read. Partners may
    lie in other shards: they are hashed here all the same."""
    from augcli.core.modalities import MODALITIES

    named: dict[str, str] = {}  # partner -> its section
    if not plan.drawers:
        return {}  # no section mixes: no copy has partners
    for job in plan.jobs:
        if job.modality not in plan.drawers:
            continue
        for output in job.outputs:
            named.update((name, job.modality) for slot in output.partners for name in slot)
    if not named or plan.input_root is None:
        return {}
    root = os.fsdecode(plan.input_root) + "/"
    found = hasher.many([root + name for name in sorted(named)])
    hashes: dict[str, str | None] = {}
    for name, section_name in sorted(named.items()):
        section = recipe.sections[section_name]
        companions = MODALITIES[section.modality].input_files(section, name)
        sha = found[root + name]
        hashes[name] = None if sha is None else keys.digest(sha, [hasher.file(path) for path in companions])
    return hashes


def _split(job: Job, outputs: tuple[Output, ...] | None, recipe: Recipe) -> list[Task]:
    """A job whole, or a big table's copies as parts that keep every core busy (each copy has its
    own generator, so the result does not depend on how the parts were spread)."""
    from augcli.core.modalities import MODALITIES

    parts = MODALITIES[job.modality].table_parts(job.relative, recipe.sections[job.modality], recipe.copies)
    if not job.table or parts <= 1:
        return [Task(job, outputs)]
    return [Task(job, outputs, k) for k in range(parts)]


def foreign_files(status: Status, output_root: Path, known: state.State) -> list[str]:
    """Units about to be made whose path holds a file that no augcli run recorded."""
    if not status.new:
        return []  # (a rerun of a large OUTPUT need not list every file it owns)
    owned = {manifest.decode_path(path) for path in known.owned() | known.garbage}
    root = os.fsdecode(output_root) + "/"
    missing = ""  # the last folder found missing: its files need no look each (a first run's)
    foreign = []
    for path in status.new:
        folder = path.rpartition("/")[0]
        if folder and missing and (folder == missing or folder.startswith(missing + "/")):
            continue
        if path in owned:
            continue
        if os.path.lexists(root + path):  # (a string, not a Path: no name of a million files interned)
            foreign.append(path)
        elif folder and not os.path.lexists(root + folder):
            missing = folder
    return foreign


def unsafe_folders(status: Status, tree: OutputTree) -> list[str]:
    """Why some output folders cannot be written: a link or a file on the way."""
    folders = sorted({path.rpartition("/")[0] for task in status.tasks for path in task.output_paths})
    problems = [tree.check_folder(folder) for folder in folders]
    return sorted({p for p in problems if p})
