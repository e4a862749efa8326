"""`balance:`: how many copies each file (or table row) gets so every class ends with about the
same number of samples."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from augcli.core.words import plural

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
                f"balance: class {label!r} has {plural(len(files), 'file')}: reaching {goal:,} would take "
                f"{base + (1 if extra else 0):,} copies of each, over the cap of {MAX_COPIES:,} copies per file; "
                "lower the target"
            )
        for index, relative in enumerate(files):
            result[relative] = max(copies, base + (1 if index < extra else 0))
    return result


def object_quotas(
    objects: Mapping[str, list[str]], copies: int, keep_original: bool, ratio: float
) -> tuple[dict[tuple[str, int], tuple[str, ...]], dict[str, tuple[int, int]]]:
    """`balance: {by: object}`: which classes' objects each copy gets pasted in, so that no class
    ends with fewer than 1/`ratio` of the largest class's objects. Every copy repeats its picture's
    objects; the objects still missing are dealt out one by one, rarest class first, over the
    copies in (copy, path) order. Returns {(path, copy): classes} and class -> (objects in INPUT,
    objects expected in OUTPUT)."""
    per_picture = copies + (1 if keep_original else 0)
    before: dict[str, int] = {}
    for names in objects.values():
        for name in names:
            before[name] = before.get(name, 0) + 1
    if not before or copies < 1:
        return {}, {name: (count, count * per_picture) for name, count in before.items()}
    after = {name: count * per_picture for name, count in before.items()}
    goal = -(-max(after.values()) // ratio)  # ceil
    missing = {name: int(max(goal - count, 0)) for name, count in after.items()}
    order = sorted(missing, key=lambda name: (after[name], name))
    deal: list[str] = []
    while any(missing.values()):
        for name in order:
            if missing[name]:
                deal.append(name)
                missing[name] -= 1
    slots = [(relative, copy) for copy in range(copies) for relative in sorted(objects)]
    quotas: dict[tuple[str, int], list[str]] = {}
    for index, name in enumerate(deal):
        quotas.setdefault(slots[index % len(slots)], []).append(name)
        after[name] += 1
    return {key: tuple(names) for key, names in quotas.items()}, {n: (before[n], after[n]) for n in sorted(before)}
