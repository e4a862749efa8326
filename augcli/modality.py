"""What every modality provides to the planner and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from augcli.params import Param

if TYPE_CHECKING:
    from augcli.recipe import Section


@dataclass(frozen=True)
class Rendered:
    """One augmented copy: the encoded file and the transforms that made it (manifest records)."""

    data: bytes
    records: list[dict[str, Any]]


class Modality(Protocol):
    name: str
    default_include: tuple[str, ...]
    options: dict[str, Param]  # section keys beyond include / exclude / transforms
    preload: tuple[str, ...]  # heavy modules the fork server imports once for every worker

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        """The suffix an augmented copy of a file with `source_suffix` is written with."""

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        """Decode `source` once and make one copy per rng."""
