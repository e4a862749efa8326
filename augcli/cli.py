"""Command line: `augcli run`, `augcli validate`, `augcli transforms`.

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
from augcli.storage import is_url
from augcli.untrusted import UntrustedError

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DRY_RUN_SHOWN = 10
CHECK_SHOWN = 5
WARNINGS_SHOWN = 3  # a warning that many files share is shown for this many, then counted


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"augcli: error: {message}", err=True)
    sys.exit(code)


def _load(recipe_path: str):
    from augcli.recipe import RecipeError, load_recipe

    try:
        return load_recipe(recipe_path)
    except RecipeError as exc:
        count = len(exc.problems)
        click.echo(f"augcli: invalid recipe ({count} problem{'s' if count > 1 else ''}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)


class _Commands(click.Group):
    """Ctrl-C anywhere (planning, hashing, verify) is one line and exit 130, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("augcli: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="augcli")
def main() -> None:
    """Offline dataset augmentation from one YAML recipe, reproducible to the byte."""


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("input_dir", metavar="INPUT")
@click.argument("output_dir", metavar="OUTPUT")
@click.option("--copies", type=click.IntRange(0, 100000), help="Augmented copies per file (overrides the recipe).")
@click.option("--seed", type=click.IntRange(0), help="Random seed (overrides the recipe).")
@click.option("--workers", type=click.IntRange(1), help="Worker processes [default: all cores].")
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--report", "make_report", is_flag=True, help="Also write OUTPUT/report.html (needs augcli[report]).")
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
        _start_pool_early(recipe, output_dir, workers, executor)
    config = _load(recipe)
    if copies is not None:
        config.copies = copies
    if seed is not None:
        config.seed = seed

    from augcli import runner
    from augcli.plan import PlanError, build_plan

    part = _parse_shard(shard) if shard is not None else None
    input_text = input_dir
    input_dir, output_dir, mirror = _places(input_dir, output_dir, pull_output=not dry_run)
    try:
        runner.check_output(input_dir, output_dir, overwrite or check)
        from augcli.storage import folds_case

        # one spelling of each path: stable hash-cache keys
        plan = build_plan(config, input_dir.resolve(), output_dir, fold_case=folds_case(output_dir))
    except (runner.OutputError, PlanError) as exc:
        _fail(str(exc))
    if part is not None:
        from augcli.plan import take_shard

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
        _print_plan(plan)
        return
    if not quiet:
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
        from augcli.dask_executor import SchedulerError, check_scheduler

        try:
            check_scheduler(scheduler)
        except SchedulerError as exc:
            _fail(str(exc))
    from augcli import remote

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
    from augcli import remote

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
    from augcli import remote
    from augcli.plan import REPORT_NAME

    try:
        uploaded, deleted = mirror.push(options.place, options.manifest_name, options.sent)
        uploaded += mirror.push_file(REPORT_NAME) + len(options.sent)
    except remote.RemoteError as exc:
        _fail(str(exc), EXIT_FAILED_INPUTS)
    click.echo(f"augcli: {mirror.url}: {uploaded} object(s) written, {deleted} deleted", err=True)


def _write_report(output_dir: Path) -> None:
    from augcli.report import run_report

    try:
        written = run_report.write(output_dir)
    except (run_report.ReportError, OSError) as exc:
        click.echo(f"augcli: no report: {exc}", err=True)
        return
    click.echo(f"augcli: report: {written}", err=True)


@main.command("report")
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


@main.command()
@click.argument("output_dir", metavar="OUTPUT")
@click.option(
    "--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), help="INPUT (default: the run's)."
)
def merge(output_dir: str, input_dir) -> None:
    """Join the parts `run --shard K/N` wrote into OUTPUT's manifest.csv (and run-wide files such
    as a COCO json), byte for byte what one run would write; every part must be complete."""
    from augcli import merge as merger
    from augcli import remote, state

    mirror = None
    try:
        if is_url(output_dir):
            mirror = remote.Mirror(output_dir)
            local = mirror.pull(state.PLACE)  # the shards' states and manifest parts
        else:
            local = remote.local_path(output_dir)
        done = merger.merge(local, input_dir)
        if mirror is not None:
            mirror.push()
    except (merger.MergeError, state.LockedError, remote.RemoteError, UntrustedError) as exc:
        _fail(str(exc))
    extra = f", and {', '.join(done.run_wide)}" if done.run_wide else ""
    click.echo(f"augcli: merged {done.shards} shards: manifest.csv lists {done.files:,} files{extra}", err=True)


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
    from augcli import runner

    try:
        report = runner.check(plan, config, output_dir, part)
    except UntrustedError as exc:
        _fail(str(exc))
    for relative, why in plan.unreadable:
        click.echo(f"augcli: failed: {relative}: {why}", err=True)
    if report.up_to_date and not plan.unreadable:
        click.echo(f"augcli: {output_dir} is up to date ({len(plan.jobs):,} files in)", err=True)
        return 0
    click.echo(f"augcli: {output_dir} is out of date:", err=True)
    for label, paths in (("made", report.new), ("changed", report.changed), ("deleted", report.removed)):
        shown = ", ".join(paths[:CHECK_SHOWN]) + (", ..." if len(paths) > CHECK_SHOWN else "")
        click.echo(f"  {len(paths):,} output(s) would be {label}" + (f": {shown}" if paths else ""), err=True)
    if report.manifest_stale:
        click.echo(f"  manifest.csv would be rewritten: {report.manifest_stale}", err=True)
    return 1


def _run(plan, config, output_dir: Path, options, quiet: bool, verbose: bool) -> None:
    from augcli import runner, state

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
            click.echo(f"augcli: warning: {len(files) - WARNINGS_SHOWN:,} more file(s): {warning}", err=True)
    click.echo(summary.line(), err=True)
    if summary.kept:
        shown = ", ".join(summary.kept[:CHECK_SHOWN]) + (", ..." if len(summary.kept) > CHECK_SHOWN else "")
        click.echo(
            f"augcli: warning: {len(summary.kept)} output(s) of removed inputs were edited since augcli wrote them "
            f"and were kept: {shown}",
            err=True,
        )
    if summary.failures:
        failures = state.path(output_dir, state.FAILURES, options.place)
        if options.allow_failures:
            click.echo(f"augcli: failures accepted (--allow-failures); they are listed in {failures}", err=True)
        else:
            click.echo(
                f"augcli: {options.manifest_name} not updated: {len(summary.failures)} input(s) failed "
                f"(listed in {failures}); fix them and rerun",
                err=True,
            )
            sys.exit(EXIT_FAILED_INPUTS)


def _on_interrupt(number: int, frame) -> None:
    from augcli import runner

    runner.INTERRUPTED.set()
    signal.default_int_handler(number, frame)


def _preload(config) -> list[str]:
    from augcli.modalities import preload

    return preload(config.sections)


def _start_pool_early(recipe_path: str, output_dir: str, workers: int | None, executor: str) -> None:
    """A first run into a new OUTPUT has work for sure: start the worker pool's fork server before
    this process imports, loads the recipe and plans, so the two start-ups overlap (about 0.3 s of
    every first run). Only the recipe's top-level keys are read here; the real check comes next."""
    from augcli import pool
    from augcli.storage import read_input

    if executor != "local" or (workers or default_workers()) <= 1 or is_url(output_dir):
        return
    from augcli.state import OLD_FOLDER, PLACE, SNAPSHOT

    if Path(output_dir, PLACE + SNAPSHOT).exists() or Path(output_dir, OLD_FOLDER).exists():  # a rerun may
        # have nothing to do: the runner decides
        return
    try:
        import yaml

        top = yaml.safe_load(read_input(Path(recipe_path), 1 << 20))
    except Exception:  # any problem is the recipe check's to report, a moment later
        return
    if isinstance(top, dict):
        from augcli.modalities import preload

        pool.start_server(preload(str(key) for key in top))


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
            copies = f"{low}" if low == high else f"{low}-{high}"
            parts.append(f"{label} {files} file{'s' if files != 1 else ''} x {copies} copies")
        echo(f"  {section} balance: " + "; ".join(parts))


def _print_plan(plan) -> None:
    counts: dict[str, int] = {}
    for job in plan.jobs:
        counts[job.modality] = counts.get(job.modality, 0) + 1
    per_modality = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "none"
    click.echo(
        f"plan: {len(plan.jobs)} files ({per_modality}), {plan.output_count} outputs, {len(plan.unclaimed)} skipped"
    )
    for split, (augmented, passed) in sorted(plan.splits.items()):
        click.echo(f"  split {split}: {augmented} augmented, {passed} passed through")
    _print_balance(plan, click.echo)
    outputs = [output.path for job in plan.jobs for output in job.outputs]
    for path in outputs[:DRY_RUN_SHOWN]:
        click.echo(f"  {path}")
    if len(outputs) > DRY_RUN_SHOWN:
        click.echo(f"  ... and {len(outputs) - DRY_RUN_SHOWN} more")
    click.echo("dry run: nothing written")


@main.command()
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Also fail on files the manifest does not list.")
def verify(output_dir: Path, strict: bool) -> None:
    """Re-hash every file manifest.csv lists; exit 0 when all match, 1 with what is missing or
    modified (and, with --strict, unlisted: other tools' caches are reported, not failed)."""
    from augcli import verify as checker

    try:
        found = checker.verify(output_dir, strict)
    except checker.VerifyError as exc:
        _fail(str(exc))
    for label, paths in (("missing", found.missing), ("modified", found.modified), ("unlisted", found.unlisted)):
        for path in paths:
            click.echo(f"augcli: {label}: {path}", err=True)
    click.echo(
        f"augcli: {found.checked:,} files checked: {len(found.missing)} missing, {len(found.modified)} modified, "
        f"{len(found.unlisted)} unlisted",
        err=True,
    )
    if not found.ok:
        sys.exit(EXIT_FAILED_INPUTS)


@main.command()
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("row_or_path", metavar="ROW-OR-PATH", required=False)
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the bytes here.")
@click.option("--all", "every", is_flag=True, help="Replay every row of the manifest.")
@click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path), help="The recipe (default: the run's).")
@click.option(
    "--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), help="INPUT (default: the run's)."
)
def replay(output_dir: Path, row_or_path, out_file, every, recipe, input_dir) -> None:
    """Make one output again from its manifest row's recorded parameters (ROW-OR-PATH: a row
    number, 1 for the first row, or the output path) and compare it with the file on disk:
    exit 0 when the bytes are identical, 1 when they differ."""
    from augcli.replay import Replayer, ReplayFailed, find_row, rows, write_to

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
            f"augcli: {len(chosen):,} rows replayed: {len(chosen) - differing:,} identical, {differing} differ",
            err=True,
        )
    if differing:
        sys.exit(EXIT_FAILED_INPUTS)


@main.command()
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
    from augcli.plan import PlanError, build_plan

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
    click.echo(f"augcli: preview of {shown} file(s), {copies} copies each: {destination}", err=True)
    if open_it:
        import webbrowser

        webbrowser.open(destination.resolve().as_uri())


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
def validate(recipe) -> None:
    """Check RECIPE; exit 0 when valid, 2 with every problem listed."""
    config = _load(recipe)
    sections = ", ".join(f"{name}: {len(s.transforms)} transforms" for name, s in config.sections.items())
    click.echo(f"{recipe}: valid ({sections}; seed {config.seed}, {config.copies} copies)")


@main.command("transforms")
@click.argument("modality", required=False)
@click.option("--markdown", is_flag=True, help="Print the reference as the README's Markdown tables.")
@click.option("--keys", is_flag=True, help="List the recipe's keys (top level and each section's) instead.")
def list_transforms(modality, markdown, keys) -> None:
    """List every transform with its parameters, defaults and meaning (--keys: the recipe's keys)."""
    from augcli import docs
    from augcli.modalities import MODALITIES
    from augcli.suggest import did_you_mean

    if modality is not None and modality not in MODALITIES:
        _fail(f"unknown modality '{modality}'{did_you_mean(modality, MODALITIES)} (available: {', '.join(MODALITIES)})")
    chosen = [modality] if modality else list(MODALITIES)
    if keys:
        click.echo(docs.markdown_keys(chosen) if markdown else docs.text_keys(chosen), nl=False)
        return
    click.echo(docs.markdown_reference(chosen) if markdown else docs.text_reference(chosen), nl=False)
