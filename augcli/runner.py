"""Run a plan like a build tool: make only what is out of date, never lose a good output.

Each output unit (a file and its companions: label, mask) has a key (keys.py). A unit whose key
and files match the state (state.py) is left alone; the others are made by the executor, each job
staging its units under temporary names and renaming them into place only when all were made, so
a failed input keeps its earlier outputs and a killed run leaves no half-written file. Records are
journalled as units complete; outputs of removed inputs are deleted, and manifest.csv replaced,
only once the rest of the run succeeded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import os
import stat
import sys
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from augcli import datacard, keys, manifest, pool, state
from augcli.errors import InputError
from augcli.executor import LocalExecutor, WorkerDied
from augcli.manifest import Row
from augcli.plan import MANIFEST_NAME, Job, Output, Plan
from augcli.recipe import Recipe
from augcli.seeding import FileRngs, rng_for
from augcli.storage import NotRegularFileError, OutputTree, Staged, open_input, sha256_file

INTERRUPTED = threading.Event()  # set by the CLI's SIGINT handler
MAX_WORKER_DEATHS = 2  # a file that killed this many workers is not tried again until it changes


class OutputError(Exception):
    """OUTPUT cannot be used as asked (inside INPUT, foreign files without --overwrite, a link, ...)."""


@dataclass
class Made:
    """One unit written: its files as [path cell, sha256, [size, mtime_ns, inode], manifest line],
    and a COCO entry."""

    output: str
    files: list[list[Any]]
    entry: dict[str, Any] | None = None


@dataclass
class JobResult:
    relative: str
    made: list[Made] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # shown with --verbose
    error: str | None = None
    details: str | None = None  # traceback, shown with --verbose
    died: bool = False  # its worker died
    sent: list[str] = field(default_factory=list)  # files uploaded to a remote OUTPUT by the worker


@dataclass
class Summary:
    files: int = 0
    current: int = 0  # files whose outputs were all up to date
    made: int = 0  # files (re)made
    written: int = 0  # output files written
    removed: int = 0  # output files deleted
    skipped: int = 0
    failures: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    sent: list[str] = field(default_factory=list)  # files the workers uploaded to a remote OUTPUT
    kept: list[str] = field(default_factory=list)  # outputs of removed inputs left alone: someone edited them

    def record(self) -> dict[str, Any]:
        """The counts, for the run report (OUTPUT/.augcli/run.json)."""
        counts = {key: getattr(self, key) for key in ("files", "current", "made", "written", "removed", "skipped")}
        return counts | {"failed": len(self.failures), "seconds": round(self.seconds, 2)}

    def line(self) -> str:
        line = (
            f"augcli: {self.files:,} files in: {self.current:,} up to date, {self.made:,} made "
            f"({self.written:,} outputs), {self.removed:,} removed, {len(self.failures):,} failed, "
            f"{self.seconds:.1f} s"
        )
        return line + (f"; {self.skipped:,} skipped" if self.skipped else "")


# -- what is out of date ------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A job's outputs to make (all of them, or those out of date); `part` a table's copy made apart."""

    job: Job
    outputs: tuple[Output, ...]
    part: int | None = None


@dataclass
class Status:
    """How OUTPUT stands against the plan: what to make, what to delete, what stays."""

    tasks: list[Task] = field(default_factory=list)
    unit_keys: dict[str, str | None] = field(default_factory=dict)  # every planned unit -> its key now
    job_hashes: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # per input: hashes to journal
    source_hashes: dict[str, str | None] = field(default_factory=dict)  # per input: its content hash
    current_jobs: int = 0
    new: list[str] = field(default_factory=list)  # units to make that OUTPUT has no record of
    changed: list[str] = field(default_factory=list)  # recorded units whose key or files changed
    removed: list[str] = field(default_factory=list)  # recorded units no longer planned
    blocked: dict[str, str] = field(default_factory=dict)  # input -> why it is not tried (killed workers)
    hashes_used: set[str] = field(default_factory=set)  # the cache entries still needed
    hashes_changed: bool = False


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


def check_output(input_root: Path, output_root: Path, overwrite: bool) -> None:
    """Refuse an OUTPUT that overlaps INPUT, is a file, or holds files no augcli run wrote
    (no state) without --overwrite."""
    real_in, real_out = input_root.resolve(), output_root.resolve()
    probe = real_out if real_out.exists() else next(p for p in real_out.parents if p.exists())
    if _inside(real_out, real_in) or _lies_in(probe, real_in):
        raise OutputError(f"OUTPUT {output_root} is INPUT or lies inside it: choose a folder outside {input_root}")
    if _inside(real_in, real_out) or (real_out.exists() and _lies_in(real_in, real_out)):
        raise OutputError(f"INPUT {input_root} lies inside OUTPUT {output_root}: choose a separate output folder")
    problem = state.check_state_files(output_root)
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


def _is_current(output_root: Path, record: dict[str, Any] | None, key: str | None, known: state.State) -> bool:
    """The record's key is the key now, and each of its files still holds the recorded bytes.

    Content decides: size, mtime and inode only save the hashing. A file whose stat differs from the
    cache (a git clone, cp -r, a restore, a data version tool's link) is hashed; equal content is
    current, and the cache learns its new stat. The file itself is never touched."""
    if record is None or key is None or record["key"] != key:
        return False
    root = os.fsdecode(output_root) + "/"
    for cell, sha in record["files"]:
        path = root + manifest.decode_path(cell)
        try:
            info = os.stat(path)  # through a link: DVC's symlink cache holds the bytes elsewhere
        except OSError:
            return False
        stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
        if known.stamps.get(cell) == stamp:
            continue
        try:
            if not stat.S_ISREG(info.st_mode) or sha256_file(Path(path)) != sha:
                return False
        except OSError:
            return False
        known.stamps[cell] = stamp
        known.stamps_changed = True
    return True


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
    from augcli.modalities import MODALITIES

    status = Status()
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
        suffix = PurePosixPath(path).suffix.lower()
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

    sources = hasher.many([os.fsdecode(job.source) for job in plan.jobs])
    if hasher.fresh or rebuild:
        work_found()
    for job in plan.jobs:
        modality = MODALITIES[job.modality]
        section = recipe.sections[job.modality]
        source = os.fsdecode(job.source)
        companions = modality.input_files(section, job.relative)
        content = keys.digest(sources[source], [hasher.file(path) for path in companions])
        status.source_hashes[job.relative] = sources[source]
        status.job_hashes[job.relative] = {p: hasher.fresh[p] for p in [source, *companions] if p in hasher.fresh}
        needed = []
        for output in job.outputs:
            if sources[source] is None:
                key = None  # unreadable: it is tried, and fails with its reason
            elif job.table:
                key = keys.fast_digest(
                    section_keys[job.modality], recipe.seed, recipe.copies, recipe.keep_original, content
                )
            elif output.copy is None:
                key = keys.fast_digest(original_keys[job.modality], content, output.path)
            else:
                key = keys.fast_digest(
                    copy_key(job.modality, output.path), recipe.seed, content, output.copy, output.path
                )
            status.unit_keys[output.path] = key
            record = known.units.get(output.path)
            if rebuild or not _is_current(output_root, record, key, known):
                needed.append(output)
                (status.new if record is None else status.changed).append(output.path)
        if not needed:
            status.current_jobs += 1
            continue
        work_found()
        deaths = known.deaths.get(job.relative)
        if deaths and deaths[0] >= MAX_WORKER_DEATHS and deaths[1] == sources[source] and not rebuild:
            status.blocked[job.relative] = (
                f"skipped: it killed {deaths[0]} workers in earlier runs; change the file, or pass --rebuild "
                "to try it again"
            )
            continue
        status.tasks += _split(job, tuple(needed), recipe)
    status.hashes_used = hasher.used
    status.hashes_changed = bool(hasher.fresh) or len(hasher.used) != len(known.hashes)
    planned = set(status.unit_keys)
    hidden = tuple(folder.rstrip("/") + "/" for folder, _ in plan.unreadable)  # unlisted, not gone: kept
    status.removed = sorted(
        u
        for u, record in known.units.items()
        if u not in planned and not record.get("run") and not (hidden and (u.startswith(hidden) or hidden == ("./",)))
    )
    return status


def _split(job: Job, outputs: tuple[Output, ...], recipe: Recipe) -> list[Task]:
    """A job whole, or a big table's copies as parts that keep every core busy (each copy has its
    own generator, so the result does not depend on how the parts were spread)."""
    from augcli.modalities import MODALITIES

    parts = MODALITIES[job.modality].table_parts(job.relative, recipe.sections[job.modality], recipe.copies)
    if not job.table or parts <= 1:
        return [Task(job, outputs)]
    return [Task(job, outputs, k) for k in range(parts)]


def foreign_files(status: Status, output_root: Path, known: state.State) -> list[str]:
    """Units about to be made whose path holds a file that no augcli run recorded."""
    owned = {manifest.decode_path(path) for path in known.owned() | known.garbage}
    return [path for path in status.new if path not in owned and os.path.lexists(output_root / path)]


def unsafe_folders(status: Status, tree: OutputTree) -> list[str]:
    """Why some output folders cannot be written: a link or a file on the way."""
    folders = sorted({str(PurePosixPath(o.path).parent) for task in status.tasks for o in task.outputs})
    problems = [tree.check_folder("" if folder == "." else folder) for folder in folders]
    return sorted({p for p in problems if p})


# -- making one input's outputs (in a worker) ---------------------------------------------------


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, (InputError, OSError)):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory while making this file"
    if isinstance(exc, RecursionError):
        return "the file is nested too deeply to read"
    return f"internal error ({type(exc).__name__}: {exc}); rerun with --verbose for the traceback"


def _check_regular(source: Path) -> None:
    """Fail a FIFO, socket or device (it may have replaced the file since the plan), a dangling link
    or a link loop before reading it, with a reason a user understands."""
    try:
        with open_input(source):
            pass
    except NotRegularFileError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("symbolic link loop: the link resolves to itself") from None
        if isinstance(exc, FileNotFoundError) and source.is_symlink():
            raise InputError(f"broken symbolic link (to {os.readlink(source)})") from None
        raise InputError(f"cannot open: {exc.strerror}") from None


class _Stager:
    """Stages a job's files and commits them together, or discards them all."""

    def __init__(self, tree: OutputTree, job: Job) -> None:
        self.tree, self.job = tree, job
        self.staged: list[tuple[Staged, Row]] = []
        self.units: list[tuple[str, int, dict[str, Any] | None]] = []  # output, files staged so far, entry

    def stage(self, relative: str, data: bytes | Iterator[bytes] | None, row: Row) -> None:
        if data is None:
            staged = self.tree.stage(relative, source=self.job.source)
        elif isinstance(data, bytes):
            staged = self.tree.stage(relative, data)
        else:  # made while it is written (a large table)
            staged = self.tree.stage(relative, chunks=data)
        self.staged.append((staged, row))

    def replace_row(self, row: Row) -> None:
        """The last staged file's manifest row, once what it records is known."""
        self.staged[-1] = (self.staged[-1][0], row)

    def end_unit(self, output: str, entry: dict[str, Any] | None = None) -> None:
        start = self.units[-1][1] if self.units else 0
        for index in range(start, len(self.staged)):
            staged, row = self.staged[index]
            record = manifest.side_record(row)
            if record is not None:  # a record too long for a csv field: a hidden file beside the output
                side, data = record
                self.staged[index] = (staged, dataclasses.replace(row, transforms=(manifest.reference(side, data),)))
                self.stage(side, data, Row(side, row.source, row.modality, None, kind="record"))
        self.units.append((output, len(self.staged), entry))

    def commit(self) -> list[Made]:
        stamps = []
        for index, (staged, _) in enumerate(self.staged):
            try:
                stamps.append(self.tree.commit(staged))
            except BaseException:
                for later, _ in self.staged[index + 1 :]:
                    self.tree.discard(later)
                self.staged.clear()
                raise
        for folder in sorted({staged.relative.rpartition("/")[0] for staged, _ in self.staged}):
            self.tree.sync_folder(folder)  # the renames survive a power cut before they are journalled
        made, start = [], 0
        for output, end, entry in self.units:
            files = []
            for (staged, row), stamp in zip(self.staged[start:end], stamps[start:end], strict=True):
                values = dataclasses.replace(row, sha256=staged.sha256).cells()
                files.append([values[0], staged.sha256, stamp.stat(), manifest.line(values)])
            made.append(Made(output, files, entry))
            start = end
        self.staged.clear()
        return made

    def discard(self) -> None:
        for staged, _ in self.staged:
            self.tree.discard(staged)


def _make_table(task: Task, recipe: Recipe, stager: _Stager, parts: list | None) -> JobResult:
    """One input table in, one output table out: its rows, their variants and synthetic rows."""
    from augcli.modalities import MODALITIES

    job = task.job
    (output,) = job.outputs
    section = recipe.sections[job.modality]
    rngs = FileRngs(recipe.seed, job.relative)
    table = MODALITIES[job.modality].render_table(job.source, section, recipe.copies, rngs, parts)
    stager.stage(output.path, table.data, Row(output.path, job.relative, job.modality, None, kind="table"))
    records = tuple(table.records)
    stager.replace_row(Row(output.path, job.relative, job.modality, None, records, table.rows, kind="table"))
    stager.end_unit(output.path)
    return JobResult(job.relative, stager.commit(), table.warnings, table.notes)


def process(task: Task, recipe: Recipe, tree: OutputTree, parts: list | None = None) -> JobResult:
    """Make the task's outputs of one input file; on any failure, leave none of them behind."""
    from augcli.modalities import MODALITIES

    job = task.job
    stager = _Stager(tree, job)
    try:
        _check_regular(job.source)
        if job.table:
            return _make_table(task, recipe, stager, parts)
        copies = [o.copy for o in task.outputs if o.copy is not None]
        section = recipe.sections[job.modality]
        modality = MODALITIES[job.modality]
        rngs = [rng_for(recipe.seed, job.relative, copy) for copy in copies]
        rendered = iter(modality.render(job.source, section, rngs) if copies else [])
        warnings: dict[str, None] = {}
        for output in task.outputs:
            copy = next(rendered) if output.copy is not None else None
            records = tuple(copy.records) if copy is not None else ()
            kind = "passthrough" if job.passthrough else ""
            row = Row(output.path, job.relative, job.modality, output.copy, records, kind=kind, group=job.group)
            stager.stage(output.path, None if copy is None else copy.data, row)
            warnings.update(dict.fromkeys(copy.warnings if copy is not None else ()))
            extra = modality.companion_files(section, job.source, output.path, copy)
            entry = None
            if extra is not None:
                for relative, data in extra.files:
                    companion = dataclasses.replace(row, output=relative)
                    stager.stage(relative, data, companion)
                entry = extra.coco_entry
            stager.end_unit(output.path, entry)
        return JobResult(job.relative, stager.commit(), tuple(warnings))
    except Exception as exc:  # one bad file must never stop the run
        stager.discard()
        return JobResult(job.relative, error=_failure_reason(exc), details=traceback.format_exc())


_WORKER: dict[str, Any] = {}


def _init_worker(recipe: Recipe, output_root: Path, tag: str = "", upload: Callable | None = None) -> None:
    if "image" in recipe.sections:  # OpenCV only where it is used: a text worker starts lighter
        import cv2

        cv2.setNumThreads(1)  # one process per core already; OpenCV's threads would only contend
    warnings.simplefilter("ignore")  # a library's warning about one file never reaches the terminal raw
    pool.tune_allocator()
    output_root.mkdir(parents=True, exist_ok=True)  # a worker on another machine writes its own copy
    _WORKER.update(recipe=recipe, tree=OutputTree(output_root, tag), upload=upload)


def _send(result: JobResult, upload: Callable | None) -> JobResult:
    """Upload a finished job's files to a remote OUTPUT (one whole object each), where there is one."""
    if upload is not None and result.made:
        result.sent = upload([manifest.decode_path(f[0]) for made in result.made for f in made.files])
    return result


def _run_task(task: Task) -> object:
    """A whole job's JobResult, or a part's payload (a failed part: a JobResult with the error)."""
    from augcli.modalities import MODALITIES

    recipe: Recipe = _WORKER["recipe"]
    job = task.job
    if task.part is None:
        return _send(process(task, recipe, _WORKER["tree"]), _WORKER.get("upload"))
    try:
        _check_regular(job.source)
        rngs = FileRngs(recipe.seed, job.relative)
        section = recipe.sections[job.modality]
        return MODALITIES[job.modality].render_table_part(job.source, section, recipe.copies, rngs, task.part)
    except Exception as exc:  # reported once for the whole file
        return JobResult(job.relative, error=_failure_reason(exc), details=traceback.format_exc())


def _executor(options: Options, recipe: Recipe, tree: OutputTree, tasks: int):
    """The engine that runs the tasks: the local process pool, or a Dask cluster; never more
    workers than tasks (one input table's copies are tasks of their own)."""
    initargs = (recipe, tree.root, tree.tag, options.upload)
    workers = max(1, min(options.workers, tasks))
    if options.executor == "dask":
        from augcli.dask_executor import DaskExecutor

        return DaskExecutor(workers, _run_task, _init_worker, initargs, options.scheduler)
    return LocalExecutor(workers, _run_task, _init_worker, initargs)


def _results(tasks: list[Task], recipe: Recipe, tree: OutputTree, options: Options) -> Iterator[JobResult]:
    """Every task's result; table parts are gathered and their table assembled here."""
    local = options.executor == "local"
    if local and (options.workers <= 1 or len(tasks) <= 1):  # in this process; OpenCV may use its own threads
        pool.tune_allocator()
        for task in tasks:
            if task.part in (None, 0):
                yield _send(process(Task(task.job, task.outputs), recipe, tree), options.upload)
        return
    expected = Counter(task.job.relative for task in tasks)
    parts: dict[str, dict[int, object]] = {}
    failed: set[str] = set()
    executor = _executor(options, recipe, tree, len(tasks))
    try:
        for task, outcome in executor.map(tasks):
            relative = task.job.relative
            if isinstance(outcome, WorkerDied):
                outcome = JobResult(relative, error=str(outcome), died=True)
            if task.part is None:
                yield outcome  # type: ignore[misc]
            elif isinstance(outcome, JobResult):
                if relative not in failed:
                    failed.add(relative)
                    yield outcome
            elif relative not in failed:
                done = parts.setdefault(relative, {})
                done[task.part] = outcome
                if len(done) == expected[relative]:
                    del parts[relative]
                    made = process(Task(task.job, task.outputs), recipe, tree, [done[k] for k in sorted(done)])
                    yield _send(made, options.upload)
    finally:
        executor.shutdown()  # at once, also when the caller stops early (Ctrl-C)


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    workers: int = 1
    rebuild: bool = False
    overwrite: bool = False
    allow_failures: bool = False
    progress: bool = False
    preload: list[str] = field(default_factory=list)  # heavy modules the worker pool imports once
    shard: tuple[int, int] | None = None  # (K, N): this run makes shard K of N (see plan.shard_of)
    input_url: str | None = None  # INPUT as the user named it, when it is a URL (INPUT is then its mirror)
    upload: Callable | None = None  # remote OUTPUT: sends each job's files from the worker that made them
    sent: list[str] = field(default_factory=list)  # what the workers sent (filled by the run)
    executor: str = "local"  # local (a process pool on this machine) or dask
    scheduler: str | None = None  # dask: the scheduler's address; none starts a LocalCluster

    @property
    def place(self) -> str:
        """The prefix of the state files: .augcli-, or this shard's own .augcli-shard-K-of-N-."""
        return state.shard_place(self.shard)

    @property
    def manifest_name(self) -> str:
        """manifest.csv, or this shard's manifest part (`augcli merge` joins the parts)."""
        return MANIFEST_NAME if self.shard is None else self.place + MANIFEST_NAME


def _record(key: str | None, made: Made, run_wide: bool = False) -> dict[str, Any]:
    """A unit's state record, as small as it can be (a state holds one per output); `run_wide`
    marks files built from every output (a COCO json)."""
    record: dict[str, Any] = {"key": key, "files": [entry[:2] for entry in made.files]}
    if made.entry is not None:
        record["entry"] = made.entry
    if run_wide:
        record["run"] = True
    return record


class _Run:
    """One run's bookkeeping: the state, its journal, OUTPUT's tree."""

    def __init__(self, output_root: Path, known: state.State, tree: OutputTree, place: str = state.PLACE) -> None:
        self.root, self.known, self.tree = output_root, known, tree
        self.journal = state.Journal(output_root, place)
        self.kept_modified: list[str] = []  # outputs of removed inputs that were edited: not deleted

    def put(self, made: Made, record: dict[str, Any], hashes: dict[str, list[Any]] | None = None) -> None:
        unit = made.output
        lines = {entry[0]: entry[3] for entry in made.files}
        old = self.known.units.get(unit)
        if old is not None:  # companions the new record no longer has are deleted after success
            kept = {entry[0] for entry in record["files"]}
            self.garbage([entry[0] for entry in old["files"] if entry[0] not in kept])
        stamps = {entry[0]: entry[2] for entry in made.files}
        self.known.units[unit] = record
        self.known.set_lines(lines)
        self.known.stamps.update(stamps)
        self.journal.put(unit, record, lines, hashes, stamps)

    def garbage(self, paths: list[str]) -> None:
        if paths:
            self.known.garbage.update(paths)
            self.journal.garbage(paths)


def run(
    plan: Plan,
    recipe: Recipe,
    output_root: Path,
    options: Options,
    report: Callable[[JobResult], None] | None = None,
) -> Summary:
    """Bring OUTPUT up to date with the plan; per-file failures are collected, never raised.

    Raises OutputError (nothing written yet) when OUTPUT holds foreign files or links on the way.
    `report` sees every result that failed or carries warnings or notes, as it arrives.
    """
    started = time.perf_counter()
    INTERRUPTED.clear()
    place = options.place
    known = state.load(output_root, place)
    splits = len(plan.jobs) > 1 or any(job.table for job in plan.jobs)  # a table may go in parts
    pool_wanted = [options.executor == "local" and options.workers > 1 and splits]

    def start_pool() -> None:  # at the first sign of work: the pool's imports overlap the keying
        if pool_wanted[0]:
            pool_wanted[0] = False
            pool.start_server(options.preload)

    if not known.units:  # a first run has work for sure
        start_pool()
    status = assess(plan, recipe, output_root, known, options.rebuild, start_pool)
    if not options.overwrite:
        foreign = foreign_files(status, output_root, known)
        if foreign:
            raise OutputError(
                f"OUTPUT holds {len(foreign)} file(s) that no augcli run recorded where outputs go, e.g. "
                f"{foreign[0]}: pass --overwrite to replace them"
            )
    if status.tasks or status.removed:
        known.lines()  # read (and checked) before anything is written: the manifest will need them
    summary = Summary(files=len(plan.jobs), skipped=len(plan.unclaimed) + len(plan.special))
    summary.current = status.current_jobs
    tag = "" if options.shard is None else f"s{options.shard[0]}of{options.shard[1]}-"
    with OutputTree(output_root, tag) as tree:
        unsafe = unsafe_folders(status, tree)
        if unsafe:
            raise OutputError(unsafe[0])
        tree.remove_temps()  # a shard removes only its own: another shard may be writing beside it
        work = _Run(output_root, known, tree, place)
        journal = state.path(output_root, state.JOURNAL, place)
        stale_state = bool(known.garbage or known.migrated_from) or journal.exists()
        deaths_before = dict(known.deaths)
        try:
            for relative, why in [*plan.unreadable, *status.blocked.items()]:
                summary.failures.append(JobResult(relative, error=why))
                if report is not None:
                    report(summary.failures[-1])
            try:
                _make(status, recipe, work, options, summary, report)
            except BaseException:  # Ctrl-C, a full state disk: workers are stopped; drop their temporaries
                tree.remove_temps()
                raise
            if options.executor != "local" or any(f.died for f in summary.failures):
                tree.remove_temps()  # a lost worker's half-written files (its tasks ran again elsewhere)
            ok = not summary.failures or options.allow_failures
            if ok:
                if options.shard is None:  # run-wide files need every shard's entries: `augcli merge`
                    summary.written += _finish(recipe, work, status)
                summary.removed = _remove(work, status)
                summary.kept = work.kept_modified
            work.journal.sync()
            name = options.manifest_name
            changed = bool(work.journal.entries or summary.removed or stale_state)
            if ok and (changed or not _manifest_is_current(output_root, known, name)):
                manifest_bytes = _render_manifest(known)
                sha = hashlib.sha256(manifest_bytes).hexdigest()
                if tree.content_sha(name) != sha:
                    tree.write(name, manifest_bytes)
                    changed = True
                info = os.stat(output_root / name)
                known.stamps[state.MANIFEST_PART] = [info.st_size, info.st_mtime_ns, info.st_ino]
                known.stamps_changed = True
                if known.manifest != sha:
                    known.manifest = sha
                    changed = True  # the snapshot must remember it
            summary.seconds = time.perf_counter() - started
            if plan.input_root is not None and (changed or state.read_run_info(output_root, place) is None):
                info = run_info(recipe, plan.input_root) | {"summary": summary.record(), "shard": options.shard}
                info["input_url"] = options.input_url
                info["complete"] = ok
                state.write_run_info(output_root, info, tree.write_chunks, place)
            failures = [(f.relative, f.error or "") for f in summary.failures]
            state.write_failures(output_root, failures, tree.write_chunks, place)
            known.hashes = {path: known.hashes[path] for path in status.hashes_used if path in known.hashes}
            if changed or known.deaths != deaths_before:
                state.save(output_root, known, tree.write_chunks, place)
            elif status.hashes_changed or known.stamps_changed:
                state.save_cache(output_root, known, tree.write_chunks, place)
        finally:
            work.journal.close()
    options.sent = summary.sent
    summary.failures.sort(key=lambda r: r.relative)
    summary.seconds = time.perf_counter() - started
    return summary


def run_info(recipe: Recipe, input_root: Path) -> dict[str, Any]:
    """What `augcli replay` needs to make an output again: the recipe as it was, and INPUT."""
    return {
        "recipe": recipe.source,
        "recipe_text": recipe.text,
        "recipe_folder": os.fsdecode(recipe.base_dir) if recipe.base_dir is not None else None,
        "input": os.fsdecode(input_root),
        "seed": recipe.seed,
        "copies": recipe.copies,
    }


def _render_manifest(known: state.State) -> bytes:
    lines = known.lines()
    return manifest.render((f[0], lines[f[0]]) for record in known.units.values() for f in record["files"])


def _manifest_is_current(output_root: Path, known: state.State, name: str = MANIFEST_NAME) -> bool:
    """manifest.csv holds what the last successful run wrote (a no-op run need not render it):
    its cached stat, or else its content."""
    try:
        info = os.stat(output_root / name)
    except OSError:
        return False
    stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
    if known.manifest is None:
        return False
    if known.stamps.get(state.MANIFEST_PART) == stamp:
        return True
    try:
        if sha256_file(output_root / name) != known.manifest:
            return False
    except OSError:
        return False
    known.stamps[state.MANIFEST_PART] = stamp
    known.stamps_changed = True
    return True


def _make(status: Status, recipe: Recipe, work: _Run, options: Options, summary: Summary, report) -> None:
    """Run the tasks; journal each unit as it lands; collect failures."""
    # Paths about to be written are ours even if a kill loses their records: a rerun may replace
    # them, and a successful run deletes those that no record claims.
    work.garbage(sorted({manifest.encode_path(p) for task in status.tasks for o in task.outputs for p in o.files}))
    bar = _progress_bar(summary, options.progress)
    try:
        with contextlib.closing(_results(status.tasks, recipe, work.tree, options)) as results:
            for result in results:
                if INTERRUPTED.is_set():  # a library may turn Ctrl-C into an error of its own (pandas does)
                    raise KeyboardInterrupt
                if result.error is None:
                    hashes = status.job_hashes.get(result.relative)
                    for made in result.made:
                        work.put(made, _record(status.unit_keys.get(made.output), made), hashes)
                        summary.written += len(made.files)
                    summary.made += 1
                    summary.sent += result.sent
                    if result.relative in work.known.deaths:
                        del work.known.deaths[result.relative]
                else:
                    summary.failures.append(result)
                    if result.died:
                        count = work.known.deaths.get(result.relative, [0, None])[0] + 1
                        work.known.deaths[result.relative] = [count, status.source_hashes.get(result.relative)]
                if report is not None and (result.error or result.warnings or result.notes):
                    bar.clear()
                    report(result)
                    bar.refresh()
                bar.update(1)
    finally:
        bar.close()


class _NoBar:
    """The progress bar's calls, doing nothing (-q, or stderr is not a terminal): tqdm not imported."""

    def clear(self) -> None: ...
    def refresh(self) -> None: ...
    def update(self, count: int) -> None: ...
    def close(self) -> None: ...


def _progress_bar(summary: Summary, shown: bool):
    if not shown:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=summary.files, initial=summary.current, unit="file", file=sys.stderr, dynamic_ncols=True)


def _finish(recipe: Recipe, work: _Run, status: Status) -> int:
    """Run-wide files built from every current output's entry (a COCO json), written when their
    bytes changed; those no section makes any more are deleted. Returns how many were written."""
    from augcli.modalities import MODALITIES

    units = work.known.units
    entries = sorted((u, r["entry"]) for u, r in units.items() if "entry" in r and u in status.unit_keys)
    produced: set[str] = set()
    written = 0
    for section in recipe.sections.values():
        for relative, data in MODALITIES[section.modality].finish(section, entries):
            produced.add(relative)
            sha = hashlib.sha256(data).hexdigest()
            if _is_current(work.root, units.get(relative), sha, work.known):
                continue
            stamp = work.tree.write(relative, data)
            cells = Row(relative, relative, section.modality, None, sha256=sha, kind="dataset").cells()
            made = Made(relative, [[cells[0], sha, stamp.stat(), manifest.line(cells)]])
            work.put(made, _record(sha, made, True))
            written += 1
    listed = units.get(datacard.CARD_NAME)
    unchanged = not (work.journal.entries or status.removed or status.tasks)
    card = None if unchanged and listed is not None else _dataset_card(recipe, work, status)
    if unchanged and listed is not None and listed.get("run"):
        produced.add(datacard.CARD_NAME)  # the set did not change: its card stands as it is
    if card is not None:
        produced.add(datacard.CARD_NAME)
        sha = hashlib.sha256(card).hexdigest()
        if not _is_current(work.root, units.get(datacard.CARD_NAME), sha, work.known):
            stamp = work.tree.write(datacard.CARD_NAME, card)
            modality = "tabular" if "tabular" in recipe.sections else "text"
            cells = Row(datacard.CARD_NAME, datacard.CARD_NAME, modality, None, sha256=sha, kind="dataset").cells()
            made = Made(datacard.CARD_NAME, [[cells[0], sha, stamp.stat(), manifest.line(cells)]])
            work.put(made, _record(sha, made, True))
            written += 1
    status.removed += sorted(u for u, r in units.items() if r.get("run") and u not in produced)
    return written


def _dataset_card(recipe: Recipe, work: _Run, status: Status) -> bytes | None:
    """OUTPUT/README.md for Hugging Face datasets when a load of OUTPUT would read manifest.csv as
    data (CSV/TSV tables), listing the data files; never over a README.md that is not augcli's
    card (an input's output, or the user's own file). None: no card."""
    units = work.known.units
    current = units.get(datacard.CARD_NAME)
    if current is not None and not current.get("run"):
        return None  # INPUT has a README.md of its own at the top: it is an output
    if current is None and os.path.lexists(work.root / datacard.CARD_NAME):
        return None  # someone's own file: never replaced
    return datacard.for_units({u: r for u, r in units.items() if u in status.unit_keys}, recipe.sections)


def _remove(work: _Run, status: Status) -> int:
    """Delete the outputs of units no longer planned, and companions a remade unit dropped."""
    units = work.known.units
    gone = set(status.removed)
    kept = {entry[0] for unit, record in units.items() if unit not in gone for entry in record["files"]}
    doomed = [entry[0] for unit in status.removed if unit in units for entry in units[unit]["files"]]
    recorded = {entry[0]: entry[1] for unit in status.removed if unit in units for entry in units[unit]["files"]}
    removed = 0
    for path in sorted(set(doomed) | work.known.garbage):
        if path in kept:
            continue
        relative = manifest.decode_path(path)
        if path in recorded and work.tree.content_sha(relative) not in (recorded[path], None):
            work.kept_modified.append(relative)  # not the bytes augcli wrote: someone's edit, kept
            continue
        if work.tree.remove(relative):
            removed += 1
    for unit in status.removed:
        if units.pop(unit, None) is not None:
            work.journal.delete(unit)
    work.known.garbage.clear()
    return removed


@dataclass
class CheckReport:
    new: list[str]
    changed: list[str]
    removed: list[str]
    manifest_stale: str  # why manifest.csv would be rewritten, or "" (also when outputs change)

    @property
    def up_to_date(self) -> bool:
        return not (self.new or self.changed or self.removed or self.manifest_stale)


def check(plan: Plan, recipe: Recipe, output_root: Path, shard: tuple[int, int] | None = None) -> CheckReport:
    """What a run would do to OUTPUT (or one shard of it), without writing anything (`run --check`)."""
    options = Options(shard=shard)
    known = state.load(output_root, options.place)
    status = assess(plan, recipe, output_root, known, rebuild=False)
    stale = ""
    if not (status.tasks or status.removed or status.blocked):
        expected = _render_manifest(known)
        try:
            on_disk = (output_root / options.manifest_name).read_bytes()
        except FileNotFoundError:
            stale = "it is missing"
        except OSError as exc:
            stale = f"it cannot be read ({exc.strerror})"
        else:
            if on_disk != expected:
                stale = "it does not list what OUTPUT holds (it was edited, or a run was stopped before writing it)"
    return CheckReport(status.new, status.changed, status.removed, stale)
