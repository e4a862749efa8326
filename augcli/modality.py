"""What every modality provides to the planner and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from augcli.params import Param
from augcli.seeding import FileRngs
from augcli.transforms import Transform

if TYPE_CHECKING:
    from augcli.recipe import Section


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


class Modality(Protocol):
    name: str
    default_include: tuple[str, ...]
    options: dict[str, Param]  # section keys beyond include / exclude / transforms
    preload: tuple[str, ...]  # heavy modules the fork server imports once for every worker
    transforms_optional: bool  # a section may do its work without row/file transforms (tabular resampling)

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        """The suffix an augmented copy of a file with `source_suffix` is written with."""

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        """Section-wide checks (several keys, files the section names, relative to `base_dir`)."""

    def layout(self, relative: str, section: Section) -> str:
        """ "copies": each copy is a file of its own (`render`); "table": the originals and the
        copies are rows of one output table with the input's name (`render_table`)."""

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """Decode `source` once and make one copy per rng."""

    def render_table(self, source: Path, section: Section, copies: int, rngs: FileRngs) -> Rendered:
        """Read a table once; write its original rows (if section.keep_original) and `copies` variants."""


class FileModality:
    """Defaults for a modality whose copies are files of their own (image, audio)."""

    preload: tuple[str, ...] = ()
    transforms_optional = False

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        return []

    def layout(self, relative: str, section: Section) -> str:
        return "copies"

    def render_table(self, source: Path, section: Section, copies: int, rngs: FileRngs) -> Rendered:
        raise NotImplementedError(f"{type(self).__name__} writes copies as files of their own")
