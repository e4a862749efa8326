"""Atomic file writes: a temporary name in the final folder, then a rename."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TEMP_MARK = ".augcli-tmp-"


def temp_path_for(final: Path) -> Path:
    """A hidden sibling of `final` that no real output can be named like."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}")


def stage_bytes(final: Path, data: bytes) -> Path:
    """Write `data` next to `final` (whose folder exists) under a temporary name; return that name."""
    temp = temp_path_for(final)
    temp.write_bytes(data)
    return temp


def stage_copy(source: Path, final: Path) -> Path:
    """Copy `source` byte for byte next to `final` (whose folder exists) under a temporary name."""
    temp = temp_path_for(final)
    shutil.copyfile(source, temp)
    return temp


def write_atomic(final: Path, data: bytes) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(stage_bytes(final, data), final)


def remove_temps(root: Path) -> int:
    """Delete temporary files a killed run left under `root`; return how many."""
    removed = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if TEMP_MARK in name and name.startswith("."):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed
