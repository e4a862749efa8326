"""Run a plan: jobs over a process pool, each file decoded once, every output written atomically.

A job stages all of its outputs under temporary names and renames them into place only when all
of them were made, so a file that fails leaves nothing behind, and a killed run leaves no
half-written file under a final name.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from augcli import fsutil, manifest, pool
from augcli.errors import InputError
from augcli.manifest import Row
from augcli.plan import MANIFEST_NAME, Job, Plan
from augcli.recipe import Recipe
from augcli.seeding import FileRngs, rng_for


class OutputError(Exception):
    """OUTPUT cannot be used as asked (inside INPUT, not empty without --overwrite, ...)."""


@dataclass
class JobResult:
    relative: str
    rows: list[Row] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # shown with --verbose
    entries: list[tuple[str, dict]] = field(default_factory=list)  # per output, for a run-wide file (COCO)
    error: str | None = None
    details: str | None = None  # traceback, shown with --verbose


@dataclass
class Summary:
    files: int = 0
    written: int = 0
    skipped: int = 0
    failures: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"augcli: {self.files} files in, {self.written} outputs written, {self.skipped} skipped, "
            f"{len(self.failures)} failed, {self.seconds:.1f} s"
        )


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output(input_root: Path, output_root: Path, overwrite: bool) -> None:
    """Refuse an OUTPUT that overlaps INPUT, is a file, or holds files without --overwrite."""
    real_in, real_out = input_root.resolve(), output_root.resolve()
    if _inside(real_out, real_in):
        raise OutputError(f"OUTPUT {output_root} is INPUT or lies inside it: choose a folder outside {input_root}")
    if _inside(real_in, real_out):
        raise OutputError(f"INPUT {input_root} lies inside OUTPUT {output_root}: choose a separate output folder")
    if real_out.exists() and not real_out.is_dir():
        raise OutputError(f"OUTPUT {output_root} exists and is not a folder")
    if real_out.is_dir() and any(real_out.iterdir()) and not overwrite:
        raise OutputError(
            f"OUTPUT {output_root} already holds files: pass --overwrite to replace them, or pick an empty folder"
        )


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, (InputError, OSError)):
        return str(exc)
    return f"internal error ({type(exc).__name__}: {exc}); rerun with --verbose for the traceback"


def _process_table(job: Job, recipe: Recipe, output_root: Path, parts: list | None = None) -> JobResult:
    """One input table in, one output table out: its rows, their variants and synthetic rows.
    `parts` are its copies when they were made in parallel (see _results)."""
    from augcli.modalities import MODALITIES

    (output,) = job.outputs
    section = recipe.sections[job.modality]
    rngs = FileRngs(recipe.seed, job.relative)
    modality = MODALITIES[job.modality]
    table = modality.render_table(job.source, section, recipe.copies, rngs, parts)
    final = output_root / output.path
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = fsutil.stage_bytes(final, table.data)
    os.replace(temp, final)
    row = Row(output.path, job.relative, job.modality, None, tuple(table.records), table.rows)
    return JobResult(job.relative, [row], table.warnings, table.notes)


def process(job: Job, recipe: Recipe, output_root: Path, parts: list | None = None) -> JobResult:
    """Make every output of one input file; on any failure, leave none of them behind."""
    from augcli.modalities import MODALITIES

    staged: list[tuple[Path, Path]] = []
    try:
        if job.table:
            return _process_table(job, recipe, output_root, parts)
        copies = [o.copy for o in job.outputs if o.copy is not None]
        rngs = [rng_for(recipe.seed, job.relative, copy) for copy in copies]
        section = recipe.sections[job.modality]
        modality = MODALITIES[job.modality]
        rendered = iter(modality.render(job.source, section, rngs) if copies else [])
        result = JobResult(job.relative)
        warnings: dict[str, None] = {}

        def stage(relative: str, data: bytes | None, copy: int | None, records: tuple = ()) -> None:
            final = output_root / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = fsutil.stage_copy(job.source, final) if data is None else fsutil.stage_bytes(final, data)
            staged.append((temp, final))
            result.rows.append(Row(relative, job.relative, job.modality, copy, records))

        for output in job.outputs:
            copy = next(rendered) if output.copy is not None else None
            records = tuple(copy.records) if copy is not None else ()
            stage(output.path, None if copy is None else copy.data, output.copy, records)
            warnings.update(dict.fromkeys(copy.warnings if copy is not None else ()))
            extra = modality.companion_files(section, job.source, output.path, copy)
            if extra is not None:
                for relative, data in extra.files:
                    stage(relative, data, output.copy, records)
                if extra.coco_entry is not None:
                    result.entries.append((output.path, extra.coco_entry))
        for temp, final in staged:
            os.replace(temp, final)
        result.warnings = tuple(warnings)
        return result
    except Exception as exc:  # one bad file must never stop the run
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        return JobResult(job.relative, error=_failure_reason(exc), details=traceback.format_exc())


_STATE: dict[str, object] = {}


def _init_worker(recipe: Recipe, output_root: Path) -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; OpenCV's threads would only contend
    _STATE.update(recipe=recipe, output_root=output_root)


Task = tuple[Job, int | None]  # a whole job (None), or one part of a table job


def _run_task(task: Task, recipe: Recipe, output_root: Path) -> tuple[Task, object]:
    """A whole job's JobResult, or a part's payload (a failed part: a JobResult with the error)."""
    from augcli.modalities import MODALITIES

    job, part = task
    if part is None:
        return task, process(job, recipe, output_root)
    try:
        rngs = FileRngs(recipe.seed, job.relative)
        section = recipe.sections[job.modality]
        return task, MODALITIES[job.modality].render_table_part(job.source, section, recipe.copies, rngs, part)
    except Exception as exc:  # reported once for the whole file
        return task, JobResult(job.relative, error=_failure_reason(exc), details=traceback.format_exc())


def _task_in_worker(task: Task) -> tuple[Task, object]:
    return _run_task(task, _STATE["recipe"], _STATE["output_root"])  # type: ignore[arg-type]


def _tasks(plan: Plan, recipe: Recipe) -> list[Task]:
    """Every job whole, except big-table jobs whose copies can be made apart: one task per part,
    so a single large table keeps every core busy (each copy has its own generator, so the
    result does not depend on how the parts were spread)."""
    from augcli.modalities import MODALITIES

    tasks: list[Task] = []
    for job in plan.jobs:
        parts = MODALITIES[job.modality].table_parts(job.relative, recipe.sections[job.modality], recipe.copies)
        tasks += [(job, None)] if not job.table or parts <= 1 else [(job, k) for k in range(parts)]
    return tasks


def _results(plan: Plan, recipe: Recipe, output_root: Path, workers: int) -> Iterator[JobResult]:
    tasks = _tasks(plan, recipe) if workers > 1 else []
    if len(tasks) <= 1:  # in this process; OpenCV may use its own threads
        yield from (process(job, recipe, output_root) for job in plan.jobs)
        return
    expected = Counter(job.relative for job, _ in tasks)
    parts: dict[str, dict[int, object]] = {}
    failed: set[str] = set()
    with pool.context().Pool(workers, initializer=_init_worker, initargs=(recipe, output_root)) as workers_pool:
        for (job, part), outcome in workers_pool.imap_unordered(_task_in_worker, tasks, chunksize=1):
            if part is None:
                yield outcome  # type: ignore[misc]
            elif isinstance(outcome, JobResult):
                if job.relative not in failed:
                    failed.add(job.relative)
                    yield outcome
            elif job.relative not in failed:
                done = parts.setdefault(job.relative, {})
                done[part] = outcome
                if len(done) == expected[job.relative]:
                    del parts[job.relative]
                    yield process(job, recipe, output_root, [done[k] for k in sorted(done)])


def _finish(recipe: Recipe, output_root: Path, entries: list[tuple[str, dict]]) -> list[Row]:
    """Run-wide files built from every output's entry (a COCO json), written atomically."""
    from augcli.modalities import MODALITIES

    rows = []
    for section in recipe.sections.values():
        for relative, data in MODALITIES[section.modality].finish(section, entries):
            final = output_root / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            fsutil.write_atomic(final, data)
            rows.append(Row(relative, relative, section.modality, None))
    return rows


def _remove_stale(output_root: Path, previous: list[str], rows: list[Row]) -> None:
    """With --overwrite: delete files the previous manifest listed that this run did not write."""
    current = {row.output for row in rows}
    for relative in previous:
        if relative not in current:
            target = output_root / relative
            if _inside(target.resolve(), output_root.resolve()) and target.is_file():
                target.unlink()


def run(
    plan: Plan,
    recipe: Recipe,
    output_root: Path,
    workers: int,
    progress: bool = False,
    report: Callable[[JobResult], None] | None = None,
) -> Summary:
    """Execute the plan and write the manifest; per-file failures are collected, never raised.

    `report` sees every result that failed or carries warnings or notes, as it arrives.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    output_root.mkdir(parents=True, exist_ok=True)
    fsutil.remove_temps(output_root)
    previous = manifest.read_outputs(output_root / MANIFEST_NAME)
    summary = Summary(files=len(plan.jobs), skipped=len(plan.unclaimed))
    rows: list[Row] = []
    entries: list[tuple[str, dict]] = []
    bar = tqdm(total=len(plan.jobs), unit="file", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    try:
        for result in _results(plan, recipe, output_root, workers):
            if result.error is None:
                rows.extend(result.rows)
                entries.extend(result.entries)
            else:
                summary.failures.append(result)
            if report is not None and (result.error or result.warnings or result.notes):
                bar.clear()
                report(result)
                bar.refresh()
            bar.update(1)
    except BaseException:
        fsutil.remove_temps(output_root)
        raise
    finally:
        bar.close()
    rows += _finish(recipe, output_root, entries)
    _remove_stale(output_root, previous, rows)
    manifest.write(output_root / MANIFEST_NAME, rows)
    summary.written = len(rows)
    summary.failures.sort(key=lambda r: r.relative)
    summary.seconds = time.perf_counter() - started
    return summary
