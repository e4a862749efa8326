"""The dataset commands as Python functions: what `augcli run`, `verify`, `replay`, `merge`,
`report`, `preview` and `validate` do, without the command line.

Each function takes its command's arguments, tells what it does through a `Console` (one line at a
time: notes to stderr, results to stdout, as the CLI shows them) and returns the exit code: 0 done
or up to date, 1 some inputs failed / out of date / a difference found, 130 interrupted. A problem
found before anything was written raises `JobError` (exit 2, or the code it carries); a bad recipe
raises `RecipeError` with every problem. The CLI (cli.py) is a thin layer over these.

    from augcli import jobs
    code = jobs.run("augment.yaml", "data/raw", "data/augmented", workers=4, quiet=True)
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from augcli.core.files import is_url
from augcli.core.words import plural
from augcli.storage.untrusted import UntrustedError

if TYPE_CHECKING:
    from augcli.build.plan import Plan
    from augcli.core.recipe import Recipe

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DRY_RUN_SHOWN = 10
CHECK_SHOWN = 5
WARNINGS_SHOWN = 3  # a warning that many files share is shown for this many, then counted


class JobError(Exception):
    """A command cannot go on; nothing (more) was written. `code` is its exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Console:
    """Where a job's lines go: `note` for what it does (stderr), `show` for what was asked
    (stdout: a dry run's plan, validate's settings). Replace either to capture them."""

    note: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)
    show: Callable[[str], None] = lambda line: print(line, flush=True)


QUIET = Console(note=lambda line: None, show=lambda line: None)


def load(recipe_path: str | Path) -> Recipe:
    """The recipe, validated; RecipeError lists every problem."""
    from augcli.core.recipe import load_recipe

    return load_recipe(recipe_path)


def run(
    recipe_path: str | Path,
    input_dir: str | Path,
    output_dir: str | Path,
    *,
    copies: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    report: bool = False,
    shard: str | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    check: bool = False,
    rebuild: bool = False,
    overwrite: bool = False,
    allow_failures: bool = False,
    allow_empty: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    console: Console | None = None,
) -> int:
    """`augcli run`: bring OUTPUT up to date with the recipe and INPUT (a folder or a bucket URL).
    Returns 0 (done, or up to date with `check`), 1 (failed inputs, or out of date with `check`)
    or 130 (interrupted)."""
    console = console or Console()
    recipe_path, input_text, output_text = str(recipe_path), str(input_dir), str(output_dir)
    if not (dry_run or check):
        start_pool_early(recipe_path, input_text, output_text, workers, executor)
    config = load(recipe_path)
    if copies is not None:
        config.copies = copies
    if seed is not None:
        config.seed = seed
    overridden = {key: f"--{key}" for key, value in (("copies", copies), ("seed", seed)) if value is not None}

    from augcli.build import assess, collector, runner, state
    from augcli.build.plan import PlanError, build_plan
    from augcli.storage.tree import folds_case

    part = parse_shard(shard) if shard is not None else None
    local_input, local_output, mirror = places(input_text, output_text, console, pull_output=not dry_run)
    try:
        assess.check_output(local_input, local_output, overwrite or check, state.shard_place(part))
        folds = folds_case(local_output, probe=not (dry_run or check))  # a run may probe inside OUTPUT
        # one spelling of each path: stable hash-cache keys
        with collector.held():  # a few containers per file, kept to the end: no collection walks them
            plan = build_plan(config, local_input.resolve(), local_output, fold_case=folds)
    except (assess.OutputError, PlanError) as exc:
        raise JobError(str(exc)) from None
    if part is not None:
        from augcli.build.plan import take_shard

        take_shard(plan, *part)
    for warning in plan.warnings:
        console.note(f"augcli: warning: {warning}")
    if verbose:
        for relative in plan.unclaimed:
            console.note(f"augcli: skipped (no section claims it): {relative}")
        for relative, kind in plan.special:
            console.note(f"augcli: skipped ({kind}, never opened): {relative}")
    if not plan.jobs and plan.unreadable:
        why = "; ".join(f"INPUT/{relative}: {why}" for relative, why in plan.unreadable[:5])
        raise JobError(why, EXIT_FAILED_INPUTS)
    if not plan.jobs and not allow_empty:
        raise JobError(nothing_matched(config, plan))
    if dry_run:
        print_plan(plan, settings(config, overridden), console.show)
        return 0
    if not quiet:
        if copies is None and "copies" not in keys_set(config):  # one copy each, unasked: say so
            console.note(f"augcli: copies: {config.copies} (default)")
        print_balance(plan, lambda line: console.note("augcli:" + line[1:]))
    if check:
        return _check(plan, config, local_output, part, console)
    workers = workers or default_workers()  # the runner starts no more than it has tasks for
    if not verbose:  # files made in this process: library warnings stay off the terminal, as in workers
        import warnings

        warnings.simplefilter("ignore")
    if report:
        from augcli import report as reporting

        try:
            reporting.require()
        except ImportError as exc:
            raise JobError(str(exc)) from None
    if scheduler is not None and executor != "dask":
        raise JobError("--scheduler goes with --executor dask")
    if scheduler is not None:
        from augcli.build.dask_executor import SchedulerError, check_scheduler

        try:
            check_scheduler(scheduler)
        except SchedulerError as exc:
            raise JobError(str(exc)) from None
    from augcli.storage import remote

    options = runner.Options(workers, rebuild, overwrite, allow_failures, shard=part, executor=executor)
    options.scheduler = scheduler
    options.input_url = input_text if is_url(input_text) else None
    if mirror is not None:
        options.upload = remote.Uploader(mirror.url, local_output)
    code = _run(plan, config, local_output, options, quiet, verbose, console)
    if code in (0, EXIT_FAILED_INPUTS):  # failed inputs: the report lists them
        if report:
            _write_report(local_output, console)
        _push(mirror, options, console)
    return code


def places(input_text: str, output_text: str, console: Console, pull_output: bool = True):
    """INPUT and OUTPUT as local folders: a URL's local mirror (pulled up to date), or the path.
    Returns (input, output, the OUTPUT's mirror or None)."""
    from augcli.storage import remote

    try:
        if is_url(input_text):
            input_dir = remote.Mirror(input_text).pull()
            console.note(f"augcli: INPUT {input_text} pulled into {input_dir}")
        else:
            input_dir = remote.local_path(input_text)
            if not input_dir.is_dir():
                raise JobError(f"INPUT {input_text} is not a folder")
        mirror = None
        if is_url(output_text):
            mirror = remote.Mirror(output_text)
            output_dir = mirror.pull() if pull_output else mirror.local
        else:
            output_dir = remote.local_path(output_text)
    except remote.RemoteError as exc:
        raise JobError(str(exc)) from None
    return input_dir, output_dir, mirror


def _push(mirror, options, console: Console) -> None:
    """Send what the run changed to the remote OUTPUT (whole objects; manifest last)."""
    if mirror is None:
        return
    from augcli.build import state
    from augcli.build.plan import REPORT_NAME
    from augcli.storage import remote

    try:
        owned, extras = state.files_to_push(mirror.local, options.place, options.manifest_name)
        uploaded, deleted = mirror.push(options.place, owned, extras, options.manifest_name, options.sent)
        uploaded += mirror.push_file(REPORT_NAME) + len(options.sent)
    except remote.RemoteError as exc:
        raise JobError(str(exc), EXIT_FAILED_INPUTS) from None
    console.note(f"augcli: {mirror.url}: {plural(uploaded, 'object')} written, {deleted:,} deleted")


def _write_report(output_dir: Path, console: Console) -> None:
    from augcli.report import run_report

    try:
        written = run_report.write(output_dir)
    except (run_report.ReportError, OSError, UntrustedError) as exc:
        console.note(f"augcli: no report: {exc}")
        return
    console.note(f"augcli: report: {written}")


def report(output_dir: str | Path, console: Console | None = None, out: str | Path | None = None) -> int:
    """`augcli report`: write the report of OUTPUT to OUTPUT/report.html, or to `out`."""
    from augcli import report as reporting
    from augcli.report import run_report

    try:
        reporting.require()
        written = run_report.write(Path(output_dir), Path(out) if out is not None else None)
    except (ImportError, run_report.ReportError, OSError, UntrustedError) as exc:
        raise JobError(str(exc)) from None
    (console or Console()).note(f"augcli: report: {written}")
    return 0


def parse_shard(text: str) -> tuple[int, int]:
    """K/N with 0 <= K < N: SLURM's --array=0-(N-1) gives K as $SLURM_ARRAY_TASK_ID."""
    import re

    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match.group(2)) < 1 or int(match.group(1)) >= int(match.group(2)):
        raise JobError(f"--shard takes K/N with 0 <= K < N (e.g. 0/4 ... 3/4), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def merge(
    output_dir: str | Path,
    input_dir: str | Path | None = None,
    console: Console | None = None,
    recipe: str | Path | None = None,
) -> int:
    """`augcli merge`: join the parts `run --shard K/N` wrote into OUTPUT's manifest.csv (and
    run-wide files such as a COCO json), byte for byte what one run would write. `recipe`: the
    recipe the shards ran (default: their record; one that reads files outside INPUT needs it)."""
    from augcli.build import merge as merger
    from augcli.build import state
    from augcli.build.plan import MANIFEST_NAME
    from augcli.storage import remote

    output_text, mirror = str(output_dir), None
    try:
        if is_url(output_text):
            mirror = remote.Mirror(output_text)
            local = mirror.pull(state.PLACE)  # the shards' states and manifest parts
        else:
            local = remote.local_path(output_text)
        recipe_path = Path(recipe) if recipe is not None else None
        done = merger.merge(local, Path(input_dir) if input_dir is not None else None, recipe_path)
        if mirror is not None:
            owned, extras = state.files_to_push(mirror.local, state.PLACE, MANIFEST_NAME)
            mirror.push(state.PLACE, owned, extras, MANIFEST_NAME)
    except (merger.MergeError, state.LockedError, remote.RemoteError, UntrustedError) as exc:
        raise JobError(str(exc)) from None
    extra = f", and {', '.join(done.run_wide)}" if done.run_wide else ""
    (console or Console()).note(
        f"augcli: merged {plural(done.shards, 'shard')}: manifest.csv lists {plural(done.files, 'file')}{extra}"
    )
    return 0


def nothing_matched(config: Recipe, plan: Plan) -> str:
    """The zero-match error: the include globs, and the file names nearest to them."""
    import difflib

    globs = "; ".join(f"{name}: {', '.join(s.include)}" for name, s in config.sections.items())
    names = [relative.rsplit("/", 1)[-1] for relative in plan.unclaimed]
    if not names:
        return f"no file under INPUT matches the include globs ({globs}): INPUT holds no files (--allow-empty accepts)"
    patterns = [glob for s in config.sections.values() for glob in s.include]

    def likeness(name: str) -> float:
        return max(difflib.SequenceMatcher(None, name.lower(), p.lower()).ratio() for p in patterns)

    ranked = sorted(set(names), key=lambda n: -likeness(n))
    return (
        f"no file under INPUT matches the include globs ({globs}); nearest file names: {', '.join(ranked[:5])}. "
        "Fix the section's include: globs, or pass --allow-empty to accept"
    )


def _check(plan: Plan, config: Recipe, output_dir: Path, part, console: Console) -> int:
    """`run --check`: 0 when OUTPUT is up to date, else 1 with what would be made, changed, deleted."""
    from augcli.build import assess, runner, state

    busy = state.in_use(output_dir) if output_dir.is_dir() else None
    if busy:
        console.note(f"augcli: {busy}; what it will leave is not known yet")
        return EXIT_FAILED_INPUTS
    try:
        found = runner.check(plan, config, output_dir, part)
    except UntrustedError as exc:
        raise JobError(str(exc)) from None
    try:
        assess.check_output(plan.input_root, output_dir, overwrite=False)
    except assess.OutputError as exc:
        console.note(f"augcli: a run would refuse this OUTPUT (exit 2): {exc}")
        return EXIT_FAILED_INPUTS
    for relative, why in plan.unreadable:
        console.note(f"augcli: failed: {relative}: {why}")
    if found.up_to_date and not plan.unreadable:
        console.note(f"augcli: {output_dir} is up to date ({plural(len(plan.jobs), 'file')} in)")
        return 0
    console.note(f"augcli: {output_dir} is out of date:")

    def shown(paths: list[str]) -> str:
        return ", ".join(paths[:CHECK_SHOWN]) + (", ..." if len(paths) > CHECK_SHOWN else "")

    for label, paths in (("made", found.new), ("changed", found.changed), ("deleted", found.removed)):
        console.note(f"  {plural(len(paths), 'output')} would be {label}" + (f": {shown(paths)}" if paths else ""))
        if label == "made" and found.missing:  # recorded, and deleted since: not a change of their inputs
            console.note(f"  {plural(len(found.missing), 'output')} would be made (missing): {shown(found.missing)}")
    if found.folders:
        console.note(
            f"  {plural(len(found.folders), 'empty folder')} would be made (as in INPUT, for class-folder loaders): "
            f"{shown(found.folders)}"
        )
    if found.card_edited:
        console.note(
            "  README.md (augcli's dataset card) was edited: a run leaves it to you, and manifest.csv stops listing it"
        )
    if found.manifest_stale:
        console.note(f"  manifest.csv would be rewritten: {found.manifest_stale}")
    return EXIT_FAILED_INPUTS


def _run(plan: Plan, config: Recipe, output_dir: Path, options, quiet: bool, verbose: bool, console: Console) -> int:
    from augcli.build import runner, state

    options.preload = preload(config)
    repeated: dict[str, list[str]] = {}  # a warning many files share: the first few, then one line

    def said(result: runner.JobResult) -> None:
        for warning in result.warnings:
            seen = repeated.setdefault(warning, [])
            seen.append(result.relative)
            if len(seen) <= WARNINGS_SHOWN or verbose:
                console.note(f"augcli: warning: {result.relative}: {warning}")
        for note in result.notes if verbose else ():
            console.note(f"augcli: note: {result.relative}: {note}")
        if result.error is not None:
            console.note(f"augcli: failed: {result.relative}: {result.error}")
            if verbose and result.details:
                console.note(result.details)

    options.progress = not quiet and sys.stderr.isatty()
    with contextlib.suppress(ValueError):  # only the main thread may set it
        signal.signal(signal.SIGINT, _on_interrupt)
    fresh = not output_dir.exists()
    try:
        with state.locked(output_dir, options.place):
            summary = runner.run(plan, config, output_dir, options, said)
    except (state.LockedError, UntrustedError) as exc:
        raise JobError(str(exc)) from None
    except runner.OutputError as exc:  # found before anything was written: leave no trace
        if fresh:
            import shutil

            shutil.rmtree(output_dir, ignore_errors=True)
        raise JobError(str(exc)) from None
    except KeyboardInterrupt:
        console.note("augcli: interrupted; finished outputs are kept and a rerun makes the rest")
        return EXIT_INTERRUPTED
    except OSError as exc:  # OUTPUT itself, its state or its manifest cannot be written (disk full, ...)
        raise JobError(f"cannot write to OUTPUT {output_dir}: {exc}", EXIT_FAILED_INPUTS) from None
    for warning, files in repeated.items():
        if len(files) > WARNINGS_SHOWN and not verbose:
            console.note(f"augcli: warning: {plural(len(files) - WARNINGS_SHOWN, 'more file')}: {warning}")
    console.note(summary.line())
    if summary.card_taken:
        console.note(
            "augcli: README.md (augcli's dataset card) was edited: it is yours now; augcli no longer lists it in "
            "manifest.csv nor rewrites it (delete it, and the next run that changes OUTPUT writes its card)"
        )
    if summary.kept:
        shown = ", ".join(summary.kept[:CHECK_SHOWN]) + (", ..." if len(summary.kept) > CHECK_SHOWN else "")
        were = "was" if len(summary.kept) == 1 else "were"
        console.note(
            f"augcli: warning: {plural(len(summary.kept), 'output')} of removed inputs {were} edited since augcli "
            f"wrote them and {were} kept: {shown}"
        )
    if summary.unproven:
        shown = ", ".join(summary.unproven[:CHECK_SHOWN]) + (", ..." if len(summary.unproven) > CHECK_SHOWN else "")
        console.note(
            f"augcli: warning: OUTPUT's state named {plural(len(summary.unproven), 'file')} to delete that no record "
            f"shows augcli wrote; kept, and no longer named: {shown}"
        )
    if summary.failures:
        failures = state.path(output_dir, state.FAILURES, options.place)
        if options.allow_failures:
            console.note(f"augcli: failures accepted (--allow-failures); they are listed in {failures}")
        else:
            console.note(
                f"augcli: {options.manifest_name} not updated: {plural(len(summary.failures), 'input')} failed "
                f"(listed in {failures}); fix them and rerun"
            )
            return EXIT_FAILED_INPUTS
    return 0


def _on_interrupt(number: int, frame) -> None:
    from augcli.build import runner

    runner.INTERRUPTED.set()
    signal.default_int_handler(number, frame)


def preload(config: Recipe) -> list[str]:
    """The heavy modules the recipe's sections need, for the worker pool to import once."""
    from augcli.core.modalities import REINFLECTING, SYNONYM_WARMUP
    from augcli.core.modalities import preload as modules_of
    from augcli.core.transforms import leaves

    modules = modules_of(config.sections)
    text = config.sections.get("text")
    if text is not None and (
        text.options.get("exclude_words") or any(step.name in REINFLECTING for step in leaves(text.transforms))
    ):
        modules.append(SYNONYM_WARMUP)
    return modules


def start_pool_early(recipe_path: str, input_dir: str, output_dir: str, workers: int | None, executor: str) -> None:
    """A first run into a new OUTPUT has work for sure: start the worker pool's fork server before
    this process imports, loads the recipe and plans, so the two start-ups overlap (about 0.3 s of
    every first run). Only the recipe's top-level keys are read here; the real check comes next.
    An INPUT of one file runs in this process: no server (it would cost that run 0.1 s)."""
    from augcli.build import pool
    from augcli.core.files import read_input

    if executor != "local" or (workers or default_workers()) <= 1 or is_url(output_dir) or _single_file(input_dir):
        return
    from augcli.build.state import OLD_FOLDER, PLACE, SNAPSHOT

    if Path(output_dir, PLACE + SNAPSHOT).exists() or Path(output_dir, OLD_FOLDER).exists():  # a rerun may
        # have nothing to do: the runner decides
        return
    try:
        import yaml

        from augcli.core.modalities import REINFLECTING, SYNONYM_WARMUP, names_a_step
        from augcli.core.modalities import preload as modules_of

        top = yaml.safe_load(read_input(Path(recipe_path), 1 << 20))
        if not isinstance(top, dict):
            return
        modules = modules_of(str(key) for key in top)
        text = top.get("text")
        if isinstance(text, dict) and (text.get("exclude_words") or names_a_step(text.get("transforms"), REINFLECTING)):
            modules.append(SYNONYM_WARMUP)
    except Exception:  # any problem is the recipe check's to report, a moment later
        return
    pool.start_server(modules)


def _single_file(input_dir: str) -> bool:
    """Whether INPUT holds one file and nothing else (looked at without walking it)."""
    try:
        with os.scandir(input_dir) as entries:
            seen = [entry for _, entry in zip(range(2), entries, strict=False)]
    except OSError:
        return False
    return len(seen) == 1 and seen[0].is_file()


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def print_balance(plan: Plan, echo: Callable[[str], None]) -> None:
    """Copies per class of every balanced section."""
    for section, classes in plan.balance.items():
        parts = []
        for label, (files, low, high) in classes.items():
            copies = plural(low, "copy", "copies") if low == high else f"{low}-{high} copies"
            parts.append(f"{label} {plural(files, 'file')} x {copies}")
        echo(f"  {section} balance: " + "; ".join(parts))
    for section, classes in plan.objects.items():
        counts = "; ".join(f"{label} {before:,} -> {after:,}" for label, (before, after) in classes.items())
        echo(f"  {section} balance by object (objects in INPUT -> in OUTPUT, about): {counts}")


def print_plan(plan: Plan, shown_settings: list[str], echo: Callable[[str], None]) -> None:
    """A dry run: files, outputs, settings, splits, balance and the first output paths."""
    counts: dict[str, int] = {}
    for job in plan.jobs:
        counts[job.modality] = counts.get(job.modality, 0) + 1
    per_modality = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "none"
    echo(
        f"plan: {plural(len(plan.jobs), 'file')} ({per_modality}), {plural(plan.output_count, 'output')}, "
        f"{len(plan.unclaimed):,} skipped"
    )
    echo("  " + ", ".join(shown_settings))
    for split, (augmented, passed) in sorted(plan.splits.items()):
        echo(f"  split {split}: {augmented} augmented, {passed} passed through")
    print_balance(plan, echo)
    outputs = [path for job in plan.jobs for path in job.output_paths]
    for path in outputs[:DRY_RUN_SHOWN]:
        echo(f"  {path}")
    if len(outputs) > DRY_RUN_SHOWN:
        echo(f"  ... and {len(outputs) - DRY_RUN_SHOWN} more")
    echo("dry run: nothing written")


def verify(output_dir: str | Path, strict: bool = False, console: Console | None = None) -> int:
    """`augcli verify`: re-hash every file manifest.csv lists; 0 when all match, 1 with what is
    missing or modified (and, with `strict`, unlisted)."""
    from augcli.build import verify as checker

    console = console or Console()
    try:
        found = checker.verify(Path(output_dir), strict)
    except checker.VerifyError as exc:
        raise JobError(str(exc)) from None
    for label, paths in (("missing", found.missing), ("modified", found.modified), ("unlisted", found.unlisted)):
        for path in paths:
            console.note(f"augcli: {label}: {path}")
    console.note(
        f"augcli: {plural(found.checked, 'file')} checked: {len(found.missing)} missing, "
        f"{len(found.modified)} modified, {len(found.unlisted)} unlisted"
    )
    return 0 if found.ok else EXIT_FAILED_INPUTS


def replay(
    output_dir: str | Path,
    row_or_path: str | None = None,
    *,
    every: bool = False,
    out_file: str | Path | None = None,
    recipe: str | Path | None = None,
    input_dir: str | Path | None = None,
    console: Console | None = None,
) -> int:
    """`augcli replay`: make one output (a row number from 1, or its path; `every`: all rows) again
    from its manifest row's recorded parameters and compare with the file on disk: 0 identical,
    1 when any differs. `out_file` receives the bytes made."""
    from augcli.build.replay import Replayer, ReplayFailed, find_row, rows, write_to

    console = console or Console()
    if every and row_or_path is not None:
        raise JobError("give ROW-OR-PATH or --all, not both")
    if not every and row_or_path is None:
        raise JobError("give ROW-OR-PATH (a row number from 1, or an output's path) or --all")
    as_path = lambda value: Path(value) if value is not None else None  # noqa: E731
    try:
        replayer = Replayer(Path(output_dir), as_path(recipe), as_path(input_dir))
        all_rows = rows(Path(output_dir))
        chosen = all_rows if every else [find_row(all_rows, row_or_path)]
        differing = 0
        for row in chosen:
            done = replayer.replay(row)
            differing += not done.identical
            if not every or not done.identical:
                verdict = "identical to the file on disk" if done.identical else "DIFFERS from the file on disk"
                console.note(f"augcli: replayed {done.output} from its manifest row: {verdict}")
            if out_file is not None:
                write_to(Path(out_file), done.data)
    except (ReplayFailed, UntrustedError) as exc:
        raise JobError(str(exc)) from None
    if every:
        console.note(
            f"augcli: {plural(len(chosen), 'row')} replayed: {len(chosen) - differing:,} identical, "
            f"{differing:,} {'differs' if differing == 1 else 'differ'}"
        )
    return EXIT_FAILED_INPUTS if differing else 0


def preview(
    recipe_path: str | Path,
    input_dir: str | Path,
    destination: str | Path | None = None,
    *,
    files: int = 8,
    copies: int = 6,
    seed: int | None = None,
    fmt: str = "html",
    console: Console | None = None,
) -> Path:
    """`augcli preview`: render a few inputs per section and their copies, exactly as `run` would
    make them, into one page (HTML) or a PNG contact sheet; returns where it was written."""
    from augcli import report as reporting
    from augcli.build.plan import PlanError, build_plan

    console = console or Console()
    try:
        reporting.require()
    except ImportError as exc:
        raise JobError(str(exc)) from None
    config = load(recipe_path)
    if seed is not None:
        config.seed = seed
    try:
        plan = build_plan(config, Path(input_dir).resolve())
    except PlanError as exc:
        raise JobError(str(exc)) from None
    for warning in plan.warnings:
        console.note(f"augcli: warning: {warning}")
    if not plan.jobs:
        raise JobError(nothing_matched(config, plan))
    from augcli.report import preview as previewer

    written = Path(destination) if destination is not None else Path(f"preview.{fmt}")
    sections = previewer.write(config, plan, written, files, copies, fmt)
    shown = sum(len(s["files"]) for s in sections)
    console.note(f"augcli: preview of {plural(shown, 'file')}, {plural(copies, 'copy', 'copies')} each: {written}")
    return written


def validate(recipe_path: str | Path, console: Console | None = None) -> int:
    """`augcli validate`: check the recipe (RecipeError lists every problem) and show its settings,
    each default marked as such."""
    console = console or Console()
    config = load(recipe_path)
    sections = ", ".join(f"{name}: {plural(len(s.transforms), 'transform')}" for name, s in config.sections.items())
    console.show(f"{recipe_path}: valid ({sections})")
    for setting in settings(config):
        console.show(f"  {setting}")
    return 0


def settings(config: Recipe, overridden: dict[str, str] | None = None) -> list[str]:
    """The recipe's top-level settings as `key: value`: one the recipe does not set is marked
    `(default)`, one an option overrode names the option (`copies: 2 (--copies)`)."""
    from augcli.core.recipe import GLOBAL_KEYS

    given, shown = keys_set(config), []
    for key in GLOBAL_KEYS:
        value = getattr(config, key)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        origin = (overridden or {}).get(key) or ("" if key in given else "default")
        shown.append(f"{key}: {text}" + (f" ({origin})" if origin else ""))
    return shown


def keys_set(config: Recipe) -> set[str]:
    """The top-level keys the recipe's text sets (the rest took their defaults)."""
    from augcli.core.yamlsource import YamlSourceError, load_with_lines

    try:
        top, _ = load_with_lines(config.text)  # the text validated a moment ago: no new problem here
    except YamlSourceError:
        return set()
    return {str(key) for key in top} if isinstance(top, dict) else set()


__all__ = [
    "QUIET",
    "Console",
    "JobError",
    "merge",
    "preview",
    "replay",
    "report",
    "run",
    "validate",
    "verify",
]
