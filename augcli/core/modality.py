"""What every modality provides to the planner and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from augcli.core.params import Param
from augcli.core.seeding import FileRngs
from augcli.core.transforms import Composition, Transform

if TYPE_CHECKING:
    from augcli.core.recipe import Section


@dataclass(frozen=True)
class Rendered:
    """One augmented file: its bytes and the transforms that made it (manifest records).

    A table (the one output of a `table` layout) also counts its rows by kind, and may carry
    warnings (always shown) and notes (shown with --verbose) about how the file was read.
    """

    data: bytes
    records: list[dict[str, Any]]
    rows: dict[str, int] | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    extra: Any = None  # what the modality needs to write the copy's companion files (moved boxes, mask)
    partners: tuple[tuple[int, str], ...] = ()  # (slot, input) of every partner tried, in order


@dataclass
class Written:
    """Files that go with one output (its labels, its mask), and its entry for a run-wide file that
    the modality writes from every output at the end (`Modality.finish`: a COCO json)."""

    files: list[tuple[str, bytes]] = field(default_factory=list)  # (path relative to OUTPUT, bytes)
    run_entry: dict[str, Any] | None = None


@dataclass(frozen=True)
class Prepared:
    """What a section learnt of INPUT before the walk: folders that hold annotations, not samples,
    and the dataset's named splits (split -> folders under INPUT, from an ultralytics data.yaml)."""

    reserved: tuple[str, ...] = ()
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)


class Modality(Protocol):
    name: str
    default_include: tuple[str, ...]
    options: dict[str, Param]  # section keys beyond include / exclude / transforms
    transforms_optional: bool  # a section may do its work without row/file transforms (tabular resampling)

    def worker_init(self) -> None:
        """Set up a worker process that will make this modality's files (library threads, ...)."""

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        """The suffix an augmented copy of a file with `source_suffix` is written with."""

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        """Section-wide checks (several keys, files the section names, relative to `base_dir`)."""

    def prepare(self, section: Section, input_root: Path) -> Prepared:
        """Bind the section to INPUT before the walk (raise ValueError if they do not fit)."""

    def review(self, section: Section, claimed: list[str]) -> list[str]:
        """Warnings about the dataset once the walk knows which files the section claimed."""

    def companion_files(self, section: Section, source: Path, output: str, rendered: Rendered | None) -> Any:
        """Files that go with one output (annotations), or None."""

    def companion_paths(self, section: Section, relative: str, output: str, copy: int | None) -> list[str]:
        """The paths (relative to OUTPUT) of the files written with one output of input `relative`
        (its label, its mask), known before anything is made: claimed, and checked for collisions."""

    def classes_of(self, section: Section, relatives: list[str]) -> dict[str, str]:
        """Each file's class for `balance:` (raise ValueError if one cannot be read)."""

    def object_classes(self, section: Section, relatives: list[str]) -> dict[str, list[str]]:
        """The class of every object in each file, for `balance: {by: object}` (ValueError: none)."""

    def section_files(self, section: Section) -> list[str]:
        """Files and folders every output of the section depends on (a COCO json, a noise folder)."""

    def input_files(self, section: Section, relative: str) -> list[str]:
        """Files one input's outputs depend on besides the input (its label file, its mask)."""

    def original_settings(self, section: Section) -> Any:
        """The settings an untouched original's outputs depend on (how its companions are found)."""

    def key_version(self, section: Section) -> int:
        """A version of the section's outputs that joins their keys once past 1."""

    def output_key(self, section: Section, suffix: str) -> dict[str, Any] | None:
        """The `output:` options a copy written with `suffix` depends on (the others at their
        defaults), or None when all count."""

    def finish(self, section: Section, entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
        """Files written once per run from the outputs' entries (a COCO json)."""

    def layout(self, relative: str, section: Section) -> str:
        """ "copies": each copy is a file of its own (`render`); "table": the originals and the
        copies are rows of one output table with the input's name (`render_table`)."""

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """Decode `source` once and make one copy per rng."""

    def render_table(
        self, source: Path, section: Section, copies: int, rngs: FileRngs, parts: list[Any] | None = None
    ) -> Rendered:
        """Read a table once; write its original rows (if section.keep_original) and `copies` variants.
        `parts`: the copies, when render_table_part made them in parallel (see table_parts)."""

    def table_parts(self, relative: str, section: Section, copies: int) -> int:
        """How many parts a table's job may be split into across the pool (1: it is made whole)."""

    def render_table_part(self, source: Path, section: Section, copies: int, rngs: FileRngs, part: int) -> Any:
        """One part (a copy) of a table, made on its own in a worker."""


def transform_files(transforms: list[Transform]) -> list[str]:
    """Files and folders the transforms read (a noise folder, translation models)."""
    found: list[str] = []
    for transform in transforms:
        found += transform_files(transform.children) if isinstance(transform, Composition) else transform.dependencies()
    return found


class BaseModality:
    """Defaults every modality shares; each overrides what it does differently."""

    transforms_optional = False

    def worker_init(self) -> None:
        """Nothing to set up by default."""

    def output_key(self, section: Section, suffix: str) -> dict[str, Any] | None:
        """The section's `output:` options as a copy written with `suffix` depends on them (options
        that cannot change such a file at their defaults), or None: all of them count."""
        return None

    def key_version(self, section: Section) -> int:
        """Joins the keys of the section's outputs once past 1: bumped when what a section's outputs
        (or their records) hold changes, so only that section's outputs are remade."""
        return 1

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        return []

    def prepare(self, section: Section, input_root: Path) -> Prepared:
        return Prepared()

    def review(self, section: Section, claimed: list[str]) -> list[str]:
        return []

    def companion_files(self, section: Section, source: Path, output: str, rendered: Rendered | None) -> Any:
        return None

    def companion_paths(self, section: Section, relative: str, output: str, copy: int | None) -> list[str]:
        return []

    def classes_of(self, section: Section, relatives: list[str]) -> dict[str, str]:
        """The parent folder is the class (ImageFolder-style class folders); files at the top: "(top)"."""
        return {relative: relative.rpartition("/")[0].rpartition("/")[2] or "(top)" for relative in relatives}

    def object_classes(self, section: Section, relatives: list[str]) -> dict[str, list[str]]:
        raise ValueError(
            f"by object needs objects: an image section with annotations; {self.name} files are balanced by "
            "file (balance: max)"
        )

    def section_files(self, section: Section) -> list[str]:
        return transform_files(section.transforms)

    def input_files(self, section: Section, relative: str) -> list[str]:
        return []

    def original_settings(self, section: Section) -> Any:
        return None

    def finish(self, section: Section, entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
        return []

    def table_parts(self, relative: str, section: Section, copies: int) -> int:
        """How many parts a table's job may be split into across the pool (1: it is made whole)."""
        return 1


class FileModality(BaseModality):
    """A modality whose copies are files of their own (image, audio)."""

    def layout(self, relative: str, section: Section) -> str:
        return "copies"

    def render_table(
        self, source: Path, section: Section, copies: int, rngs: FileRngs, parts: list[Any] | None = None
    ) -> Rendered:
        raise NotImplementedError(f"{type(self).__name__} writes copies as files of their own")
