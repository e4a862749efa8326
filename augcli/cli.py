"""Command line: `augcli run`, `augcli validate`, `augcli transforms`.

Exit codes: 0 everything written; 1 some inputs failed (the rest were written); 2 usage, recipe
or output-folder error (nothing written); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from augcli import __version__

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DRY_RUN_SHOWN = 10


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="augcli")
def main() -> None:
    """Offline dataset augmentation from one YAML recipe, reproducible to the byte."""


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("input_dir", metavar="INPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option("--copies", type=click.IntRange(0, 100000), help="Augmented copies per file (overrides the recipe).")
@click.option("--seed", type=click.IntRange(0), help="Random seed (overrides the recipe).")
@click.option("--workers", type=click.IntRange(1), help="Worker processes [default: all cores].")
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--overwrite", is_flag=True, help="Allow a non-empty OUTPUT; replaces files of the same names.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks for failed files, the unclaimed files.")
def run(recipe, input_dir, output_dir, copies, seed, workers, dry_run, overwrite, quiet, verbose) -> None:
    """Augment every file under INPUT into OUTPUT as RECIPE says."""
    from augcli import pool

    config = _load(recipe)
    workers = workers or default_workers()
    if workers > 1 and not dry_run:
        pool.start_server(_preload(config))  # now: its imports overlap the plan and ours

    from augcli import runner
    from augcli.plan import PlanError, build_plan

    if copies is not None:
        config.copies = copies
    if seed is not None:
        config.seed = seed
    try:
        runner.check_output(input_dir, output_dir, overwrite)
        plan = build_plan(config, input_dir)
    except (runner.OutputError, PlanError) as exc:
        _fail(str(exc))
    for warning in plan.warnings:
        click.echo(f"augcli: warning: {warning}", err=True)
    if verbose:
        for relative in plan.unclaimed:
            click.echo(f"augcli: skipped (no section claims it): {relative}", err=True)
    if dry_run:
        _print_plan(plan)
        return
    if not plan.jobs:
        click.echo("augcli: warning: no input file matched any section's include globs", err=True)

    def report(result: runner.JobResult) -> None:
        for warning in result.warnings:
            click.echo(f"augcli: warning: {result.relative}: {warning}", err=True)
        for note in result.notes if verbose else ():
            click.echo(f"augcli: note: {result.relative}: {note}", err=True)
        if result.error is not None:
            click.echo(f"augcli: failed: {result.relative}: {result.error}", err=True)
            if verbose and result.details:
                click.echo(result.details, err=True)

    show_bar = not quiet and sys.stderr.isatty()
    try:
        summary = runner.run(plan, config, output_dir, workers, show_bar, report)
    except KeyboardInterrupt:
        click.echo("augcli: interrupted; files already renamed into place are complete", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:  # OUTPUT itself or its manifest cannot be written
        _fail(f"cannot write to OUTPUT {output_dir}: {exc}", EXIT_FAILED_INPUTS)
    click.echo(summary.line(), err=True)
    if summary.failures:
        sys.exit(EXIT_FAILED_INPUTS)


def _preload(config) -> list[str]:
    from augcli.modalities import MODALITIES

    return [module for name in config.sections for module in MODALITIES[name].preload]


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _print_plan(plan) -> None:
    counts: dict[str, int] = {}
    for job in plan.jobs:
        counts[job.modality] = counts.get(job.modality, 0) + 1
    per_modality = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "none"
    click.echo(
        f"plan: {len(plan.jobs)} files ({per_modality}), {plan.output_count} outputs, {len(plan.unclaimed)} skipped"
    )
    outputs = [output.path for job in plan.jobs for output in job.outputs]
    for path in outputs[:DRY_RUN_SHOWN]:
        click.echo(f"  {path}")
    if len(outputs) > DRY_RUN_SHOWN:
        click.echo(f"  ... and {len(outputs) - DRY_RUN_SHOWN} more")
    click.echo("dry run: nothing written")


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
def list_transforms(modality, markdown) -> None:
    """List every transform with its parameters, defaults and meaning."""
    from augcli import docs
    from augcli.modalities import MODALITIES
    from augcli.suggest import did_you_mean

    if modality is not None and modality not in MODALITIES:
        _fail(f"unknown modality '{modality}'{did_you_mean(modality, MODALITIES)} (available: {', '.join(MODALITIES)})")
    chosen = [modality] if modality else list(MODALITIES)
    click.echo(docs.markdown_reference(chosen) if markdown else docs.text_reference(chosen), nl=False)
