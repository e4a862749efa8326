"""`augcli replay`: make one output again from its manifest row's recorded parameters.

A copy is rebuilt from the parameters its row records (and, where an effect is drawn sample by
sample, the seed it drew from), not from the recipe's seed; an original or passthrough file is its
source; a table from the seeds its row records; a run-wide file (COCO json, data.yaml) from the
entries of the state. The result is compared with the file on disk: equal bytes show the manifest
is a complete record of how the output was made.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augcli.build import datacard, manifest, state
from augcli.build.plan import MANIFEST_NAME
from augcli.core.recipe import Recipe, RecipeError, load_recipe, parse_recipe
from augcli.storage.tree import write_file
from augcli.storage.untrusted import check_relative


class ReplayFailed(Exception):
    """The row cannot be replayed (no such row, no run info, a source that is gone)."""


@dataclass
class Replayed:
    output: str  # relative to OUTPUT
    data: bytes
    identical: bool


def rows(output_root: Path) -> list[dict[str, str]]:
    try:
        found = manifest.read(output_root / MANIFEST_NAME)
        manifest.resolve_records(found, output_root)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReplayFailed(f"cannot read {output_root / MANIFEST_NAME}: {exc}") from None
    return found


def find_row(all_rows: list[dict[str, str]], row_or_path: str) -> dict[str, str]:
    """A row by its number (1 is the first row under the header) or by its output path."""
    if row_or_path.isdigit():
        index = int(row_or_path)
        if not 1 <= index <= len(all_rows):
            raise ReplayFailed(f"the manifest has rows 1 to {len(all_rows)}, not {index}")
        return all_rows[index - 1]
    for row in all_rows:
        if manifest.decode_path(row["output"]) == row_or_path:
            return row
    raise ReplayFailed(f"no manifest row has output {row_or_path!r}")


class Replayer:
    """Replays rows of one OUTPUT: its run info, recipe and state, read once."""

    def __init__(self, output_root: Path, recipe_path: Path | None = None, input_root: Path | None = None) -> None:
        self.output_root = output_root
        info = state.read_run_info(output_root) or {}
        if recipe_path is None and not info.get("recipe_text"):
            raise ReplayFailed(f"{output_root} has no record of its run (.augcli-run.json): pass --recipe and --input")
        self.recipe = self._recipe(info, recipe_path)
        root = input_root or (Path(info["input"]) if info.get("input") else None)
        if root is None or not root.is_dir():
            raise ReplayFailed(f"INPUT {root} is not a folder: pass --input")
        self.input_root = root.resolve()
        self.known = state.load(output_root)
        self.unit_of_file = {f[0]: unit for unit, record in self.known.units.items() for f in record["files"]}
        self.prepared: set[str] = set()
        self._tables: dict[str, dict[str, str]] | None = None

    @staticmethod
    def _recipe(info: dict[str, Any], recipe_path: Path | None) -> Recipe:
        try:
            if recipe_path is not None:
                recipe = load_recipe(recipe_path)
            else:
                folder = info.get("recipe_folder")
                recipe = parse_recipe(
                    info["recipe_text"], info.get("recipe", "recipe"), Path(folder) if folder else None
                )
        except RecipeError as exc:
            raise ReplayFailed(f"the run's recipe no longer validates: {exc}") from None
        recipe.seed = int(info.get("seed", recipe.seed))
        recipe.copies = int(info.get("copies", recipe.copies))
        return recipe

    def _table_row(self, source_cell: str) -> dict[str, str]:
        """The table row of a source (its records resolved), read from the manifest once."""
        if self._tables is None:
            self._tables = {r.get("source") or "": r for r in rows(self.output_root) if r.get("kind") == "table"}
        if source_cell not in self._tables:
            raise ReplayFailed(f"no table row has source {source_cell!r}")
        return self._tables[source_cell]

    def _unit_of(self, output_cell: str) -> str:
        """The output a file belongs to (an image for its label file); itself for a main output."""
        return self.unit_of_file.get(output_cell) or manifest.decode_path(output_cell)

    def replay(self, row: dict[str, str]) -> Replayed:
        from augcli.core.modalities import MODALITIES

        output = check_relative(manifest.decode_path(row.get("output") or ""), f"{MANIFEST_NAME}: output")
        source_cell = row.get("source") or ""
        if source_cell or row.get("kind") != "dataset":  # a run-wide file made from all outputs has none
            source = self.input_root / check_relative(manifest.decode_path(source_cell), f"{output}: source")
        else:
            source = self.input_root
        section = self.recipe.sections.get(row["modality"])
        if section is None:
            raise ReplayFailed(f"the recipe has no {row['modality']} section for {output}")
        modality = MODALITIES[row["modality"]]
        if row["modality"] not in self.prepared:
            modality.prepare(section, self.input_root)
            self.prepared.add(row["modality"])
        try:
            records = json.loads(row.get("transforms") or "[]")
        except ValueError:
            raise ReplayFailed(f"{output}: its transforms cell is not JSON") from None
        kind = row.get("kind", "")
        if kind == "dataset" and output == datacard.CARD_NAME:
            made = datacard.for_units(self.known.units, self.recipe.sections)
            data = made[0] if made is not None else b""
        elif kind == "dataset":
            data = self._run_wide(modality, section, output)
        elif not source.is_file():
            raise ReplayFailed(f"{output}: its source {source} is gone")
        elif kind == "table":
            data = _bytes(modality.replay_table(source, section, self.recipe.copies, records).data)
        elif kind == "record":  # a table's records, moved to a side file: made again with the table
            table = self._table_row(row.get("source") or "")
            again = modality.replay_table(source, section, self.recipe.copies, json.loads(table["transforms"]))
            data = manifest.record_bytes(again.records)
        else:
            unit = self._unit_of(row["output"])
            rendered = modality.replay(source, section, records) if kind == "copy" else None
            if unit == output:
                data = _bytes(rendered.data) if rendered is not None else source.read_bytes()
            else:
                data = self._companion(modality, section, source, unit, rendered, output)
        on_disk = self.output_root / output
        identical = not on_disk.is_symlink() and on_disk.is_file() and on_disk.read_bytes() == data
        return Replayed(output, data, identical)

    @staticmethod
    def _companion(modality: Any, section: Any, source: Path, unit: str, rendered: Any, output: str) -> bytes:
        written = modality.companion_files(section, source, unit, rendered)
        for path, data in written.files if written is not None else []:
            if path == output:
                return data
        raise ReplayFailed(f"{output} is not among the files that go with {unit}")

    def _run_wide(self, modality: Any, section: Any, output: str) -> bytes:
        entries = sorted((u, r["entry"]) for u, r in self.known.units.items() if "entry" in r)
        for path, data in modality.finish(section, entries):
            if path == output:
                return data
        raise ReplayFailed(f"{output}: no section makes it any more")


def _bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else b"".join(data)


def write_to(path: Path, data: bytes) -> None:
    """The replayed bytes into FILE, written whole then renamed (never through a planted link)."""
    write_file(path, data)
