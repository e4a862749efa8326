"""`balance:`: how many copies each file (or table row) gets so every class ends with about the
same number of samples."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


MAX_COPIES = 100_000  # as `copies:` is capped


def balanced_copies(classes: Mapping[K, str], target: str | int, copies: int, keep_original: bool) -> dict[K, int]:
    """Copies per sample (a file, a table row) so each class ends with about `target` samples ("max":
    as many as the largest class), never fewer than `copies`. A class's extra copies go one by one
    to its samples in key order (path, row number)."""
    members: dict[str, list[K]] = {}
    for relative in sorted(classes):
        members.setdefault(classes[relative], []).append(relative)
    per_file = 1 + copies if keep_original else max(copies, 1)
    goal = max(len(m) for m in members.values()) * per_file if target == "max" else int(target)
    result = {}
    for label, files in members.items():
        needed = max(goal - (len(files) if keep_original else 0), 0)
        base, extra = divmod(needed, len(files))
        if base + (1 if extra else 0) > MAX_COPIES:
            raise ValueError(
                f"balance: class {label!r} has {len(files):,} file(s): reaching {goal:,} would take "
                f"{base + (1 if extra else 0):,} copies of each, over the cap of {MAX_COPIES:,} copies per file; "
                "lower the target"
            )
        for index, relative in enumerate(files):
            result[relative] = max(copies, base + (1 if index < extra else 0))
    return result
