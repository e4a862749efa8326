"""`augcli replay`: make one output again from its manifest row's recorded parameters.

A copy is rebuilt from the parameters its row records (and, where an effect is drawn sample by
sample, the seed it drew from), not from the recipe's seed; an original or passthrough file is its
source; a table from the seeds its row records; a run-wide file (COCO json, data.yaml) from the
entries of the state. The result is compared with the file on disk: equal bytes show the manifest
is a complete record of how the output was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augcli.build import datacard, manifest, state
from augcli.build.plan import MANIFEST_NAME
from augcli.core.balance import MAX_COPIES
from augcli.core.files import read_input
from augcli.core.recipe import Recipe, RecipeError, load_recipe, parse_recipe
from augcli.storage.tree import OutputTree, write_file
from augcli.storage.untrusted import check_relative

_KERNEL_REFUSALS = (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError, MemoryError)


class ReplayFailed(Exception):
    """The row cannot be replayed (no such row, no run info, a source that is gone)."""


@dataclass
class Replayed:
    output: str  # relative to OUTPUT
    data: bytes
    identical: bool


def rows(output_root: Path) -> list[dict[str, str]]:
    """The manifest's rows, read bounded and checked (manifest.check_rows) before any is used;
    UntrustedError names the file and line of one augcli cannot have written."""
    path = output_root / MANIFEST_NAME
    try:
        found = manifest.read(path)
        manifest.resolve_records(found, output_root)
    except OSError as exc:
        raise ReplayFailed(f"cannot read {path}: {exc}") from None
    manifest.check_rows(found, path)
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
        if recipe_path is None and not still_the_users(info):
            outside = files_outside(self.recipe, self.input_root)
            if outside is not None:
                raise ReplayFailed(
                    f"the recipe recorded in {state.path(output_root, state.RUN_INFO)} reads {outside}, outside INPUT "
                    f"{self.input_root}: OUTPUT's files are not trusted to choose what augcli reads; pass --recipe "
                    "with the recipe you ran (and --input) to replay"
                )
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
        seed, copies = info.get("seed"), info.get("copies")  # read_run_info keeps numbers only
        recipe.seed = seed if isinstance(seed, int) else recipe.seed
        recipe.copies = copies if isinstance(copies, int) and 0 <= copies <= MAX_COPIES else recipe.copies
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
        records = json.loads(row.get("transforms") or "[]")  # a list of records: checked with the rows
        kind = row.get("kind", "")
        try:
            data = self._make(row, output, source, section, modality, records, kind)
        except OSError as exc:  # its source cannot be read (a name too long for any file, ...)
            raise ReplayFailed(f"{output}: cannot read its source: {exc.strerror or exc}") from None
        except Exception as exc:  # read back from OUTPUT: what replay_problem lets through, a kernel may refuse
            if not isinstance(exc, _KERNEL_REFUSALS) and type(exc).__module__ != "cv2":  # OpenCV's cv2.error
                raise
            why = f"{type(exc).__name__}: {exc}"
            raise ReplayFailed(f"{output}: its manifest row's records cannot be replayed ({why})") from None
        with OutputTree(self.output_root) as tree:  # never through a link, never a FIFO
            identical = tree.read(output) == data
        return Replayed(output, data, identical)

    def _make(self, row: dict[str, str], output: str, source: Path, section, modality, records, kind: str) -> bytes:
        """The bytes of one row's output, made again."""
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
                data = _bytes(rendered.data) if rendered is not None else read_input(source, None)
            else:
                data = self._companion(modality, section, source, unit, rendered, output)
        return data

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


def still_the_users(info: dict[str, Any]) -> bool:
    """Whether the recipe a run record holds is still, word for word, the user's recipe file it
    names: then the user's own file, not OUTPUT, says what the recipe reads (a noise folder beside
    INPUT is then fine to read for a replay or a merge)."""
    folder, source, text = info.get("recipe_folder"), info.get("recipe"), info.get("recipe_text")
    if not (isinstance(folder, str) and isinstance(source, str) and isinstance(text, str)):
        return False
    try:
        return read_input(Path(folder) / Path(source).name, len(text.encode()) + 1).decode() == text
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def files_outside(recipe: Recipe, input_root: Path | None) -> str | None:
    """A file or folder the recipe's sections read (a thesaurus, a noise folder) that lies outside
    INPUT (any, when INPUT is not known), or None. A recipe read back from OUTPUT's run record may
    read only inside its INPUT: OUTPUT's files do not choose what augcli reads."""
    from augcli.core.modalities import MODALITIES

    real_input = input_root.resolve() if input_root is not None else None
    for section in recipe.sections.values():
        for named in MODALITIES[section.modality].section_files(section):
            real = Path(named).resolve()
            if real_input is None or (real != real_input and real_input not in real.parents):
                return named
    return None


def _bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else b"".join(data)


def write_to(path: Path, data: bytes) -> None:
    """The replayed bytes into FILE, written whole then renamed (never through a planted link)."""
    write_file(path, data)
