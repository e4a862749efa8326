"""Command line: `augcli run`, `validate`, `preview`, `verify`, `replay`, `report`, `merge`, `transforms`.

A thin layer over `augcli.jobs` (the same commands as Python functions): it parses arguments,
prints, and turns a job's result into the exit code. Exit codes: 0 everything up to date; 1 some
inputs failed (the rest were written; manifest.csv not replaced), `--check` found OUTPUT out of
date, or `verify` found a difference; 2 usage, recipe or output-folder error (nothing written);
130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from augcli import __version__, jobs

EXIT_USAGE = jobs.EXIT_USAGE
EXIT_INTERRUPTED = jobs.EXIT_INTERRUPTED
COMMAND_ORDER = ("run", "validate", "preview", "verify", "replay", "report", "merge", "transforms")
EPILOG = """\b
Example:
  augcli validate augment.yaml
  augcli run augment.yaml data/raw data/augmented

'augcli COMMAND --help' shows a command's arguments and options."""
CLICK_CONSOLE = jobs.Console(note=lambda line: click.echo(line, err=True), show=click.echo)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"augcli: error: {message}", err=True)
    sys.exit(code)


def _call(job, *args, **kwargs):
    """Run a job with the terminal as its console; its error or exit code ends the process."""
    from augcli.core.errors import RecipeError

    try:
        result = job(*args, console=CLICK_CONSOLE, **kwargs)
    except jobs.JobError as exc:
        _fail(str(exc), exc.code)
    except RecipeError as exc:
        click.echo(f"augcli: invalid recipe ({jobs.plural(len(exc.problems), 'problem')}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)
    if isinstance(result, int) and result:
        sys.exit(result)
    return result


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
    help="local: a process pool here; dask: a Dask cluster (the dask extra: pip install -e '.[dask]').",
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
def run(recipe, input_dir, output_dir, **options) -> None:
    """Bring OUTPUT up to date with RECIPE and INPUT: make what is new or changed, delete what is gone."""
    options["report"] = options.pop("make_report")
    _call(jobs.run, recipe, input_dir, output_dir, **options)


@main.command("report", short_help="Write OUTPUT/report.html about the run that made it.")
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it here instead (default: OUTPUT/report.html); outside OUTPUT, a data version tool sees no change.",
)
def report_command(output_dir: Path, out_file: Path | None) -> None:
    """Write OUTPUT/report.html for the run that made OUTPUT: summary, recipe, how often each
    transform fired, sampled parameters, class counts, and a sample of the outputs."""
    _call(jobs.report, output_dir, out=out_file)


@main.command(short_help="Join the parts of a sharded run into one manifest.")
@click.argument("output_dir", metavar="OUTPUT")
@click.option(
    "--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), help="INPUT (default: the run's)."
)
@click.option(
    "--recipe",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The recipe (default: the shards' record; one that reads files outside INPUT needs this).",
)
def merge(output_dir: str, input_dir, recipe) -> None:
    """Join the parts `run --shard K/N` wrote into OUTPUT's manifest.csv (and run-wide files such
    as a COCO json), byte for byte what one run would write; every part must be complete."""
    _call(jobs.merge, output_dir, input_dir, recipe=recipe)


@main.command(short_help="Check OUTPUT's files against the hashes in manifest.csv.")
@click.argument("output_dir", metavar="OUTPUT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Also fail on files the manifest does not list.")
def verify(output_dir: Path, strict: bool) -> None:
    """Re-hash every file manifest.csv lists; exit 0 when all match, 1 with what is missing or
    modified (and, with --strict, unlisted: other tools' caches are reported, not failed)."""
    _call(jobs.verify, output_dir, strict)


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
    _call(jobs.replay, output_dir, row_or_path, every=every, out_file=out_file, recipe=recipe, input_dir=input_dir)


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
    written = _call(jobs.preview, recipe, input_dir, destination, files=files, copies=copies, seed=seed, fmt=fmt)
    if open_it:
        import webbrowser

        webbrowser.open(written.resolve().as_uri())


@main.command(short_help="Check RECIPE and show the settings it gives.")
@click.argument("recipe", type=click.Path(dir_okay=False))
def validate(recipe) -> None:
    """Check RECIPE; exit 0 when valid, 2 with every problem listed."""
    _call(jobs.validate, recipe)


@main.command("transforms", short_help="List the transforms or the recipe's keys, with defaults.")
@click.argument("modality", required=False)
@click.option("--markdown", is_flag=True, help="Print the reference as Markdown tables (docs/reference.md).")
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
