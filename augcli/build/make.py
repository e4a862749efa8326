"""Making one input's outputs, in a worker: decode once, render every copy, stage each file under a
temporary name and commit the job's files together (or none), and the executors that run jobs.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augcli.build import manifest, pool
from augcli.build.assess import Task
from augcli.build.executor import LocalExecutor, WorkerDied
from augcli.build.manifest import Row
from augcli.build.plan import Job
from augcli.core.errors import InputError
from augcli.core.files import NotRegularFileError, open_input
from augcli.core.modalities import MODALITIES
from augcli.core.recipe import Recipe
from augcli.core.seeding import FileRngs, rng_for
from augcli.storage.tree import OutputTree, Staged

if TYPE_CHECKING:
    from augcli.build.runner import Options


@dataclass
class Made:
    """One unit written: its files as [path cell, sha256, [size, mtime_ns, inode], manifest line],
    and a COCO entry."""

    output: str
    files: list[list[Any]]
    entry: dict[str, Any] | None = None
    partners: tuple[tuple[int, str], ...] = ()  # (slot, input) of each partner tried: the state keeps them


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
        self.units: list[tuple[str, int, dict[str, Any] | None, tuple]] = []  # output, files so far, entry, partners

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

    def end_unit(self, output: str, entry: dict[str, Any] | None = None, partners: tuple = ()) -> None:
        start = self.units[-1][1] if self.units else 0
        for index in range(start, len(self.staged)):
            staged, row = self.staged[index]
            record = manifest.side_record(row)
            if record is not None:  # a record too long for a csv field: a hidden file beside the output
                side, data = record
                self.staged[index] = (staged, dataclasses.replace(row, transforms=(manifest.reference(side, data),)))
                self.stage(side, data, Row(side, row.source, row.modality, None, kind="record"))
        self.units.append((output, len(self.staged), entry, partners))

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
        for output, end, entry, partners in self.units:
            files = []
            for (staged, row), stamp in zip(self.staged[start:end], stamps[start:end], strict=True):
                values = dataclasses.replace(row, sha256=staged.sha256).cells()
                files.append([values[0], staged.sha256, stamp.stat(), manifest.line(values)])
            made.append(Made(output, files, entry, partners))
            start = end
        self.staged.clear()
        return made

    def discard(self) -> None:
        for staged, _ in self.staged:
            self.tree.discard(staged)
        self.staged.clear()


def _make_table(task: Task, recipe: Recipe, stager: _Stager, parts: list | None) -> JobResult:
    """One input table in, one output table out: its rows, their variants and synthetic rows."""
    from augcli.core.modalities import MODALITIES

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
    from augcli.core.modalities import MODALITIES

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
        drawn = [o.partners for o in task.outputs if o.copy is not None]
        mixing: dict[str, Any] = {"partners": drawn} if any(drawn) else {}  # only images mix pictures
        pasted = [o.paste for o in task.outputs if o.copy is not None]
        if any(pasted):
            mixing["paste"] = pasted
        rendered = iter(modality.render(job.source, section, rngs, **mixing) if copies else [])
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
                entry = extra.run_entry
            stager.end_unit(output.path, entry, copy.partners if copy is not None else ())
        return JobResult(job.relative, stager.commit(), tuple(warnings))
    except Exception as exc:  # one bad file must never stop the run
        stager.discard()
        return JobResult(job.relative, error=_failure_reason(exc), details=traceback.format_exc())
    except BaseException:  # Ctrl-C in a run without workers: no temporary file or descriptor left behind
        stager.discard()
        raise


_WORKER: dict[str, Any] = {}


def _init_worker(recipe: Recipe, output_root: Path, tag: str = "", upload: Callable | None = None) -> None:
    for name in recipe.sections:  # each modality sets up what it uses (image: OpenCV's threads)
        MODALITIES[name].worker_init()
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
    from augcli.core.modalities import MODALITIES

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
        from augcli.build.dask_executor import DaskExecutor

        return DaskExecutor(workers, _run_task, _init_worker, initargs, options.scheduler)
    return LocalExecutor(workers, _run_task, _init_worker, initargs)


def _share_names(task: Task, result: JobResult) -> None:
    """Name the units a worker made with the plan's strings for them, not the copies that came
    through the pipe: the state keeps one per output for the rest of the run (a first run over a
    million files holds two million paths)."""
    names = {path: path for output in task.outputs for path in output.files}
    for made in result.made:
        made.output = names.get(made.output, made.output)
        for entry in made.files:
            entry[0] = names.get(entry[0], entry[0])


def results(tasks: list[Task], recipe: Recipe, tree: OutputTree, options: Options) -> Iterator[JobResult]:
    """Every task's result; table parts are gathered and their table assembled here. `tasks` is
    emptied when the first result is asked for: each task is dropped once it is done (a first run
    of a million files does not hold a million tasks to its end)."""
    local = options.executor == "local"
    queue = deque(tasks)
    tasks.clear()
    if local and (options.workers <= 1 or len(queue) <= 1):  # in this process; OpenCV may use its own threads
        pool.tune_allocator()
        while queue:
            task = queue.popleft()
            if task.part in (None, 0):
                yield _send(process(Task(task.job, task.needed), recipe, tree), options.upload)
        return
    expected = Counter(task.job.relative for task in queue if task.part is not None)
    parts: dict[str, dict[int, object]] = {}
    failed: set[str] = set()
    executor = _executor(options, recipe, tree, len(queue))
    if not local:  # a cluster is handed every batch at once
        queue = list(queue)  # type: ignore[assignment]
    try:
        for task, outcome in executor.map(queue):
            relative = task.job.relative
            if isinstance(outcome, WorkerDied):
                outcome = JobResult(relative, error=str(outcome), died=True)
            elif isinstance(outcome, JobResult):
                _share_names(task, outcome)
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
                    made = process(Task(task.job, task.needed), recipe, tree, [done[k] for k in sorted(done)])
                    yield _send(made, options.upload)
    finally:
        executor.shutdown()  # at once, also when the caller stops early (Ctrl-C)
