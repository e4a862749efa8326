"""Command line: `augcli run`, `validate`, `preview`, `verify`, `replay`, `report`, `merge`, `transforms`.

Exit codes: 0 everything up to date; 1 some inputs failed (the rest were written; manifest.csv not
replaced), `--check` found OUTPUT out of date, or `verify` found a difference; 2 usage, recipe or
output-folder error (nothing written); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import click

from augcli import __version__
from augcli.core.files import is_url
from augcli.storage.untrusted import UntrustedError

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DRY_RUN_SHOWN = 10
CHECK_SHOWN = 5
WARNINGS_SHOWN = 3  # a warning that many files share is shown for this many, then counted
COMMAND_ORDER = ("run", "validate", "preview", "verify", "replay", "report", "merge", "transforms")
EPILOG = """\b
Example:
  augcli validate augment.yaml
  augcli run augment.yaml data/raw data/augmented

'augcli COMMAND --help' shows a command's arguments and options."""


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"augcli: error: {message}", err=True)
    sys.exit(code)


def _plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 file", "2 files": the runner's `plural`, imported on use (the CLI loads the build engine late)."""
    from augcli.build.runner import plural

    return plural(count, word, many)


def _load(recipe_path: str):
    from augcli.core.recipe import RecipeError, load_recipe

    try:
        return load_recipe(recipe_path)
    except RecipeError as exc:
        click.echo(f"augcli: invalid recipe ({_plural(len(exc.problems), 'problem')}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)


class _Commands(click.Group):
    """Commands listed in the order a user meets them, `run` first; Ctrl-C anywhere (planning,
    hashing, verify) is one line and exit 130, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for name in COMMAND_ORDER if name in self.commands]
        return known + sorted(set(self.commands) - set(known))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("augcli: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="augcli")
def main() -> None:
    """Offline dataset augmentation from one YAML recipe, reproducible to the byte."""


@main.command(short_help="Bring OUTPUT up to date with RECIPE and INPUT.")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("input_dir", metavar="INPUT")
@click.argument("output_dir", metavar="OUTPUT")
@click.option("--copies", type=click.IntRange(0, 100000), help="Augmented copies per file (overrides the recipe).")
@click.option("--seed", type=click.IntRange(0), help="Random seed (overrides the recipe).")
@click.option("--workers", type=click.IntRange(1), help="Worker processes [default: all cores].")
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--report", "make_report", is_flag=True, help="Also write OUTPUT/report.html (needs the report extra).")
@click.option("--shard", type=str, help="Make only shard K of N (K from 0), e.g. 3/8; then augcli merge OUTPUT.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: a process pool here; dask: a Dask cluster (augcli[dask]).",
)
@click.option(
    "--scheduler", help="With --executor dask: the scheduler's address (tcp://host:8786); none starts a local cluster."
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 0 if OUTPUT is up to date, else 1 and what would change."
)
@click.option("--rebuild", is_flag=True, help="Remake every output, even those up to date.")
@click.option(
    "--overwrite", is_flag=True, help="Allow an OUTPUT holding files no augcli run wrote; replaces same names."
)
@click.option("--allow-failures", is_flag=True, help="Exit 0 and write the manifest even if some inputs failed.")
@click.option("--allow-empty", is_flag=True, help="Exit 0 when the recipe matches no file under INPUT.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks for failed files, the skipped files and why.")
def run(
    recipe,
    input_dir,
    output_dir,
    copies,
    seed,
    workers,
    dry_run,
    make_report,
    shard,
    executor,
    scheduler,
    check,
    rebuild,
    overwrite,
    allow_failures,
    allow_empty,
    quiet,
    verbose,
) -> None:
    """Bring OUTPUT up to date with RECIPE and INPUT: make what is new or changed, delete what is gone."""
    if not (dry_run or check):
        _start_pool_early(recipe, input_dir, output_dir, workers, executor)
    config = _load(recipe)
    if copies is not None:
        config.copies = copies
    if seed is not None:
        config.seed = seed
    overridden = {key: f"--{key}" for key, value in (("copies", copies), ("seed", seed)) if value is not None}

    from augcli.build import assess, runner
    from augcli.build.plan import PlanError, build_plan

    part = _parse_shard(shard) if shard is not None else None
    input_text = input_dir
    input_dir, output_dir, mirror = _places(input_dir, output_dir, pull_output=not dry_run)
    try:
        assess.check_output(input_dir, output_dir, overwrite or check)
        from augcli.storage.tree import folds_case

        # one spelling of each path: stable hash-cache keys
        plan = build_plan(config, input_dir.resolve(), output_dir, fold_case=folds_case(output_dir))
    except (assess.OutputError, PlanError) as exc:
        _fail(str(exc))
    if part is not None:
        from augcli.build.plan import take_shard

        take_shard(plan, *part)
    for warning in plan.warnings:
        click.echo(f"augcli: warning: {warning}", err=True)
    if verbose:
        for relative in plan.unclaimed:
            click.echo(f"augcli: skipped (no section claims it): {relative}", err=True)
        for relative, kind in plan.special:
            click.echo(f"augcli: skipped ({kind}, never opened): {relative}", err=True)
    if not plan.jobs and plan.unreadable:
        _fail("; ".join(f"INPUT/{relative}: {why}" for relative, why in plan.unreadable[:5]), EXIT_FAILED_INPUTS)
    if not plan.jobs and not allow_empty:
        _fail(_nothing_matched(config, plan))
    if dry_run:
        _print_plan(plan, _settings(config, overridden))
        return
    if not quiet:
        if copies is None and "copies" not in _keys_set(config):  # one copy each, unasked: say so
            click.echo(f"augcli: copies: {config.copies} (default)", err=True)
        _print_balance(plan, lambda line: click.echo("augcli:" + line[1:], err=True))
    if check:
        sys.exit(_check(plan, config, output_dir, part))
    workers = workers or default_workers()  # the runner starts no more than it has tasks for
    if not verbose:  # files made in this process: library warnings stay off the terminal, as in workers
        import warnings

        warnings.simplefilter("ignore")
    if make_report:
        from augcli import report

        try:
            report.require()
        except ImportError as exc:
            _fail(str(exc))
    if scheduler is not None and executor != "dask":
        _fail("--scheduler goes with --executor dask")
    if scheduler is not None:
        from augcli.build.dask_executor import SchedulerError, check_scheduler

        try:
            check_scheduler(scheduler)
        except SchedulerError as exc:
            _fail(str(exc))
    from augcli.storage import remote

    options = runner.Options(workers, rebuild, overwrite, allow_failures, shard=part, executor=executor)
    options.scheduler = scheduler
    options.input_url = input_text if is_url(input_text) else None
    if mirror is not None:
        options.upload = remote.Uploader(mirror.url, output_dir)
    try:
        _run(plan, config, output_dir, options, quiet, verbose)
    except SystemExit as exc:  # failed inputs: the report lists them; other exits wrote nothing to report on
        if exc.code == EXIT_FAILED_INPUTS:
            if make_report:
                _write_report(output_dir)
            _push(mirror, options)
        raise
    if make_report:
        _write_report(output_dir)
    _push(mirror, options)


def _places(input_text: str, output_text: str, pull_output: bool = True):
    """INPUT and OUTPUT as local folders: a URL's local mirror (pulled up to date), or the path.
    Returns (input, output, the OUTPUT's mirror or None)."""
    from augcli.storage import remote

    try:
        if is_url(input_text):
            input_dir = remote.Mirror(input_text).pull()
            click.echo(f"augcli: INPUT {input_text} pulled into {input_dir}", err=True)
        else:
            input_dir = remote.local_path(input_text)
            if not input_dir.is_dir():
                _fail(f"INPUT {input_text} is not a folder")
        mirror = None
        if is_url(output_text):
            mirror = remote.Mirror(output_text)
            output_dir = mirror.pull() if pull_output else mirror.local
        else:
            output_dir = remote.local_path(output_text)
    except remote.RemoteError as exc:
        _fail(str(exc))
    return input_dir, output_dir, mirror


def _push(mirror, options) -> None:
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
        _fail(str(exc), EXIT_FAILED_INPUTS)
    click.echo(f"augcli: {mirror.url}: {_plural(uploaded, 'object')} written, {deleted:,} deleted", err=True)


def _write_report(output_dir: Path) -> None:
    from augcli.report import run_report

    try:
        written = run_report.write(output_dir)
    except (run_report.ReportError, OSError) as exc:
        click.echo(f"augcli: no report: {exc}", err=True)
        return
    click.echo(f"augcli: report: {written}", err=True)


@main.command("report", short_help="Write OUTPUT/report.html about the run that made it.")
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_command(output_dir: Path) -> None:
    """Write OUTPUT/report.html for the run that made OUTPUT: summary, recipe, how often each
    transform fired, sampled parameters, class counts, and a sample of the outputs."""
    from augcli import report
    from augcli.report import run_report

    try:
        report.require()
        written = run_report.write(output_dir)
    except (ImportError, run_report.ReportError, OSError, UntrustedError) as exc:
        _fail(str(exc))
    click.echo(f"augcli: report: {written}", err=True)


def _parse_shard(text: str) -> tuple[int, int]:
    """K/N with 0 <= K < N: SLURM's --array=0-(N-1) gives K as $SLURM_ARRAY_TASK_ID."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match.group(2)) < 1 or int(match.group(1)) >= int(match.group(2)):
        _fail(f"--shard takes K/N with 0 <= K < N (e.g. 0/4 ... 3/4), got {text!r}")
    return int(match.group(1)), int(match.group(2))


@main.command(short_help="Join the parts of a sharded run into one manifest.")
@click.argument("output_dir", metavar="OUTPUT")
@click.option(
    "--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), help="INPUT (default: the run's)."
)
def merge(output_dir: str, input_dir) -> None:
    """Join the parts `run --shard K/N` wrote into OUTPUT's manifest.csv (and run-wide files such
    as a COCO json), byte for byte what one run would write; every part must be complete."""
    from augcli.build import merge as merger
    from augcli.build import state
    from augcli.build.plan import MANIFEST_NAME
    from augcli.storage import remote

    mirror = None
    try:
        if is_url(output_dir):
            mirror = remote.Mirror(output_dir)
            local = mirror.pull(state.PLACE)  # the shards' states and manifest parts
        else:
            local = remote.local_path(output_dir)
        done = merger.merge(local, input_dir)
        if mirror is not None:
            owned, extras = state.files_to_push(mirror.local, state.PLACE, MANIFEST_NAME)
            mirror.push(state.PLACE, owned, extras, MANIFEST_NAME)
    except (merger.MergeError, state.LockedError, remote.RemoteError, UntrustedError) as exc:
        _fail(str(exc))
    extra = f", and {', '.join(done.run_wide)}" if done.run_wide else ""
    click.echo(
        f"augcli: merged {_plural(done.shards, 'shard')}: manifest.csv lists {_plural(done.files, 'file')}{extra}",
        err=True,
    )


def _nothing_matched(config, plan) -> str:
    """The zero-match error: the include globs, and the file names nearest to them."""
    globs = "; ".join(f"{name}: {', '.join(s.include)}" for name, s in config.sections.items())
    names = [relative.rsplit("/", 1)[-1] for relative in plan.unclaimed]
    if not names:
        return f"no file under INPUT matches the include globs ({globs}): INPUT holds no files (--allow-empty accepts)"
    patterns = [glob for s in config.sections.values() for glob in s.include]
    ranked = sorted(set(names), key=lambda n: -max(_likeness(n.lower(), p.lower()) for p in patterns))
    return (
        f"no file under INPUT matches the include globs ({globs}); nearest file names: {', '.join(ranked[:5])}. "
        "Fix the section's include: globs, or pass --allow-empty to accept"
    )


def _likeness(name: str, pattern: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, name, pattern).ratio()


def _check(plan, config, output_dir: Path, part=None) -> int:
    """`run --check`: 0 when OUTPUT is up to date, else 1 with what would be made, changed, deleted."""
    from augcli.build import assess, runner, state

    busy = state.in_use(output_dir) if output_dir.is_dir() else None
    if busy:
        click.echo(f"augcli: {busy}; what it will leave is not known yet", err=True)
        return 1
    try:
        report = runner.check(plan, config, output_dir, part)
    except UntrustedError as exc:
        _fail(str(exc))
    try:
        assess.check_output(plan.input_root, output_dir, overwrite=False)
    except assess.OutputError as exc:
        click.echo(f"augcli: a run would refuse this OUTPUT (exit 2): {exc}", err=True)
        return 1
    for relative, why in plan.unreadable:
        click.echo(f"augcli: failed: {relative}: {why}", err=True)
    if report.up_to_date and not plan.unreadable:
        click.echo(f"augcli: {output_dir} is up to date ({_plural(len(plan.jobs), 'file')} in)", err=True)
        return 0
    click.echo(f"augcli: {output_dir} is out of date:", err=True)
    for label, paths in (("made", report.new), ("changed", report.changed), ("deleted", report.removed)):
        shown = ", ".join(paths[:CHECK_SHOWN]) + (", ..." if len(paths) > CHECK_SHOWN else "")
        click.echo(f"  {_plural(len(paths), 'output')} would be {label}" + (f": {shown}" if paths else ""), err=True)
    if report.manifest_stale:
        click.echo(f"  manifest.csv would be rewritten: {report.manifest_stale}", err=True)
    return 1


def _run(plan, config, output_dir: Path, options, quiet: bool, verbose: bool) -> None:
    from augcli.build import runner, state

    options.preload = _preload(config)

    repeated: dict[str, list[str]] = {}  # a warning many files share: the first few, then one line

    def report(result: runner.JobResult) -> None:
        for warning in result.warnings:
            seen = repeated.setdefault(warning, [])
            seen.append(result.relative)
            if len(seen) <= WARNINGS_SHOWN or verbose:
                click.echo(f"augcli: warning: {result.relative}: {warning}", err=True)
        for note in result.notes if verbose else ():
            click.echo(f"augcli: note: {result.relative}: {note}", err=True)
        if result.error is not None:
            click.echo(f"augcli: failed: {result.relative}: {result.error}", err=True)
            if verbose and result.details:
                click.echo(result.details, err=True)

    options.progress = not quiet and sys.stderr.isatty()
    with contextlib.suppress(ValueError):  # only the main thread may set it
        signal.signal(signal.SIGINT, _on_interrupt)
    fresh = not output_dir.exists()
    try:
        with state.locked(output_dir, options.place):
            summary = runner.run(plan, config, output_dir, options, report)
    except (state.LockedError, UntrustedError) as exc:
        _fail(str(exc))
    except runner.OutputError as exc:  # found before anything was written: leave no trace
        if fresh:
            import shutil

            shutil.rmtree(output_dir, ignore_errors=True)
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("augcli: interrupted; finished outputs are kept and a rerun makes the rest", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:  # OUTPUT itself, its state or its manifest cannot be written (disk full, ...)
        _fail(f"cannot write to OUTPUT {output_dir}: {exc}", EXIT_FAILED_INPUTS)
    for warning, files in repeated.items():
        if len(files) > WARNINGS_SHOWN and not verbose:
            click.echo(f"augcli: warning: {_plural(len(files) - WARNINGS_SHOWN, 'more file')}: {warning}", err=True)
    click.echo(summary.line(), err=True)
    if summary.kept:
        shown = ", ".join(summary.kept[:CHECK_SHOWN]) + (", ..." if len(summary.kept) > CHECK_SHOWN else "")
        were = "was" if len(summary.kept) == 1 else "were"
        click.echo(
            f"augcli: warning: {_plural(len(summary.kept), 'output')} of removed inputs {were} edited since augcli "
            f"wrote them and {were} kept: {shown}",
            err=True,
        )
    if summary.failures:
        failures = state.path(output_dir, state.FAILURES, options.place)
        if options.allow_failures:
            click.echo(f"augcli: failures accepted (--allow-failures); they are listed in {failures}", err=True)
        else:
            click.echo(
                f"augcli: {options.manifest_name} not updated: {_plural(len(summary.failures), 'input')} failed "
                f"(listed in {failures}); fix them and rerun",
                err=True,
            )
            sys.exit(EXIT_FAILED_INPUTS)


def _on_interrupt(number: int, frame) -> None:
    from augcli.build import runner

    runner.INTERRUPTED.set()
    signal.default_int_handler(number, frame)


def _preload(config) -> list[str]:
    from augcli.core.modalities import preload

    return preload(config.sections)


def _start_pool_early(recipe_path: str, input_dir: str, output_dir: str, workers: int | None, executor: str) -> None:
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

        top = yaml.safe_load(read_input(Path(recipe_path), 1 << 20))
    except Exception:  # any problem is the recipe check's to report, a moment later
        return
    if isinstance(top, dict):
        from augcli.core.modalities import preload

        pool.start_server(preload(str(key) for key in top))


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


def _print_balance(plan, echo) -> None:
    """Copies per class of every balanced section."""
    for section, classes in plan.balance.items():
        parts = []
        for label, (files, low, high) in classes.items():
            copies = _plural(low, "copy", "copies") if low == high else f"{low}-{high} copies"
            parts.append(f"{label} {_plural(files, 'file')} x {copies}")
        echo(f"  {section} balance: " + "; ".join(parts))
    for section, classes in plan.objects.items():
        counts = "; ".join(f"{label} {before:,} -> {after:,}" for label, (before, after) in classes.items())
        echo(f"  {section} balance by object (objects in INPUT -> in OUTPUT, about): {counts}")


def _print_plan(plan, settings: list[str]) -> None:
    counts: dict[str, int] = {}
    for job in plan.jobs:
        counts[job.modality] = counts.get(job.modality, 0) + 1
    per_modality = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "none"
    click.echo(
        f"plan: {_plural(len(plan.jobs), 'file')} ({per_modality}), {_plural(plan.output_count, 'output')}, "
        f"{len(plan.unclaimed):,} skipped"
    )
    click.echo("  " + ", ".join(settings))
    for split, (augmented, passed) in sorted(plan.splits.items()):
        click.echo(f"  split {split}: {augmented} augmented, {passed} passed through")
    _print_balance(plan, click.echo)
    outputs = [output.path for job in plan.jobs for output in job.outputs]
    for path in outputs[:DRY_RUN_SHOWN]:
        click.echo(f"  {path}")
    if len(outputs) > DRY_RUN_SHOWN:
        click.echo(f"  ... and {len(outputs) - DRY_RUN_SHOWN} more")
    click.echo("dry run: nothing written")


@main.command(short_help="Check OUTPUT's files against the hashes in manifest.csv.")
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Also fail on files the manifest does not list.")
def verify(output_dir: Path, strict: bool) -> None:
    """Re-hash every file manifest.csv lists; exit 0 when all match, 1 with what is missing or
    modified (and, with --strict, unlisted: other tools' caches are reported, not failed)."""
    from augcli.build import verify as checker

    try:
        found = checker.verify(output_dir, strict)
    except checker.VerifyError as exc:
        _fail(str(exc))
    for label, paths in (("missing", found.missing), ("modified", found.modified), ("unlisted", found.unlisted)):
        for path in paths:
            click.echo(f"augcli: {label}: {path}", err=True)
    click.echo(
        f"augcli: {_plural(found.checked, 'file')} checked: {len(found.missing)} missing, "
        f"{len(found.modified)} modified, {len(found.unlisted)} unlisted",
        err=True,
    )
    if not found.ok:
        sys.exit(EXIT_FAILED_INPUTS)


@main.command(short_help="Make outputs again from their manifest rows and compare.")
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("row_or_path", metavar="[ROW-OR-PATH]", required=False)
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the bytes here.")
@click.option("--all", "every", is_flag=True, help="Replay every row of the manifest.")
@click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path), help="The recipe (default: the run's).")
@click.option(
    "--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), help="INPUT (default: the run's)."
)
def replay(output_dir: Path, row_or_path, out_file, every, recipe, input_dir) -> None:
    """Make one output again from its manifest row's recorded parameters (ROW-OR-PATH: a row
    number, 1 for the first row, or the output path; --all: every row) and compare it with the
    file on disk: exit 0 when the bytes are identical, 1 when they differ."""
    from augcli.build.replay import Replayer, ReplayFailed, find_row, rows, write_to

    if every == (row_or_path is not None):
        _fail("give ROW-OR-PATH or --all")
    try:
        replayer = Replayer(output_dir, recipe, input_dir)
        all_rows = rows(output_dir)
        chosen = all_rows if every else [find_row(all_rows, row_or_path)]
        differing = 0
        for row in chosen:
            done = replayer.replay(row)
            differing += not done.identical
            if not every or not done.identical:
                verdict = "identical to the file on disk" if done.identical else "DIFFERS from the file on disk"
                click.echo(f"augcli: replayed {done.output} from its manifest row: {verdict}", err=True)
            if out_file is not None:
                write_to(out_file, done.data)
    except (ReplayFailed, UntrustedError) as exc:
        _fail(str(exc))
    if every:
        click.echo(
            f"augcli: {_plural(len(chosen), 'row')} replayed: {len(chosen) - differing:,} identical, "
            f"{differing:,} {'differs' if differing == 1 else 'differ'}",
            err=True,
        )
    if differing:
        sys.exit(EXIT_FAILED_INPUTS)


@main.command(short_help="Render a few inputs and their copies into one page.")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("input_dir", metavar="INPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "destination", type=click.Path(dir_okay=False, path_type=Path), help="Where to write it.")
@click.option("--files", type=click.IntRange(1), default=8, show_default=True, help="Inputs per section.")
@click.option("--copies", type=click.IntRange(1), default=6, show_default=True, help="Copies per input.")
@click.option("--seed", type=click.IntRange(0), help="Override the recipe's seed.")
@click.option("--format", "fmt", type=click.Choice(["html", "png"]), default="html", show_default=True)
@click.option("--open", "open_it", is_flag=True, help="Open the page in the browser.")
def preview(recipe, input_dir: Path, destination, files, copies, seed, fmt, open_it) -> None:
    """Render a few inputs per section and their copies, exactly as `run` would make them, into
    one self-contained page (default preview.html) or a PNG contact sheet; nothing else is written."""
    from augcli import report
    from augcli.build.plan import PlanError, build_plan

    try:
        report.require()
    except ImportError as exc:
        _fail(str(exc))
    config = _load(recipe)
    if seed is not None:
        config.seed = seed
    try:
        plan = build_plan(config, input_dir.resolve())
    except PlanError as exc:
        _fail(str(exc))
    for warning in plan.warnings:
        click.echo(f"augcli: warning: {warning}", err=True)
    if not plan.jobs:
        _fail(_nothing_matched(config, plan))
    from augcli.report import preview as previewer

    destination = destination or Path(f"preview.{fmt}")
    sections = previewer.write(config, plan, destination, files, copies, fmt)
    shown = sum(len(s["files"]) for s in sections)
    click.echo(
        f"augcli: preview of {_plural(shown, 'file')}, {_plural(copies, 'copy', 'copies')} each: {destination}",
        err=True,
    )
    if open_it:
        import webbrowser

        webbrowser.open(destination.resolve().as_uri())


@main.command(short_help="Check RECIPE and show the settings it gives.")
@click.argument("recipe", type=click.Path(dir_okay=False))
def validate(recipe) -> None:
    """Check RECIPE; exit 0 when valid, 2 with every problem listed."""
    config = _load(recipe)
    sections = ", ".join(f"{name}: {_plural(len(s.transforms), 'transform')}" for name, s in config.sections.items())
    click.echo(f"{recipe}: valid ({sections})")
    for setting in _settings(config):
        click.echo(f"  {setting}")


def _settings(config, overridden: dict[str, str] | None = None) -> list[str]:
    """The recipe's top-level settings as `key: value`: one the recipe does not set is marked
    `(default)`, one an option overrode names the option (`copies: 2 (--copies)`)."""
    from augcli.core.recipe import GLOBAL_KEYS

    given, shown = _keys_set(config), []
    for key in GLOBAL_KEYS:
        value = getattr(config, key)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        origin = (overridden or {}).get(key) or ("" if key in given else "default")
        shown.append(f"{key}: {text}" + (f" ({origin})" if origin else ""))
    return shown


def _keys_set(config) -> set[str]:
    """The top-level keys the recipe's text sets (the rest took their defaults)."""
    from augcli.core.yamlsource import YamlSourceError, load_with_lines

    try:
        top, _ = load_with_lines(config.text)  # the text validated a moment ago: no new problem here
    except YamlSourceError:
        return set()
    return {str(key) for key in top} if isinstance(top, dict) else set()


@main.command("transforms", short_help="List the transforms or the recipe's keys, with defaults.")
@click.argument("modality", required=False)
@click.option("--markdown", is_flag=True, help="Print the reference as the README's Markdown tables.")
@click.option("--keys", is_flag=True, help="List the recipe's keys (top level and each section's) instead.")
def list_transforms(modality, markdown, keys) -> None:
    """List every transform with its parameters, defaults and meaning (--keys: the recipe's keys)."""
    from augcli import docs
    from augcli.core.modalities import MODALITIES
    from augcli.core.suggest import did_you_mean

    if modality is not None and modality not in MODALITIES:
        _fail(f"unknown modality '{modality}'{did_you_mean(modality, MODALITIES)} (available: {', '.join(MODALITIES)})")
    chosen = [modality] if modality else list(MODALITIES)
    if keys:
        click.echo(docs.markdown_keys(chosen) if markdown else docs.text_keys(chosen), nl=False)
        return
    click.echo(docs.markdown_reference(chosen) if markdown else docs.text_reference(chosen), nl=False)
