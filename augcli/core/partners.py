"""Which other inputs a mixing copy (mosaic, mixup, cutmix, copy_paste) takes as its partners.

Every candidate and every partner slot of an output gets a point on a 64-bit ring, from the seed
and their names only; a slot takes the first candidates clockwise from its point. Adding an input
moves a slot's partner only when the new point lands between the slot and its partner (about one
slot in N), and removing an input moves only the slots that took it, so an unrelated change
leaves almost every copy's partners, and bytes, as they were. No worker count, file order or
shard changes a choice: it depends on the names and the seed alone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from augcli.core.seeding import stable_hash

FALLBACKS = 2  # candidates after the first, tried in turn when a partner cannot be decoded


class Ring:
    """The candidates of one section and split, placed on the ring by the seed."""

    def __init__(self, seed: int, candidates: Iterable[str]) -> None:
        self.seed = seed
        placed = sorted((stable_hash(f"partner:{seed}:{name}"), name) for name in set(candidates))
        self.points = [point for point, _ in placed]
        self.names = [name for _, name in placed]

    def __len__(self) -> int:
        return len(self.names)

    def walk(self, point: int, avoid: set[str], count: int) -> list[str]:
        """Up to `count` candidates clockwise from `point`, skipping those in `avoid`."""
        found: list[str] = []
        start = bisect.bisect_left(self.points, point)
        for step in range(len(self.names)):
            name = self.names[(start + step) % len(self.names)]
            if name not in avoid:
                found.append(name)
                if len(found) == count:
                    break
        return found

    def draw(self, relative: str, copy: int, slots: int) -> tuple[tuple[str, ...], ...]:
        """For each of an output's `slots`: its partner, then the fallbacks; never the output's own
        input nor an earlier slot's partner while other candidates remain."""
        drawn: list[tuple[str, ...]] = []
        taken = {relative}
        for slot in range(slots):
            point = stable_hash(f"slot:{self.seed}:{relative}:{copy}:{slot}")
            names = self.walk(point, taken, 1 + FALLBACKS) or self.walk(point, {relative}, 1 + FALLBACKS)
            names = names or [relative]  # the section's only input mixes with itself
            drawn.append(tuple(names))
            if names:
                taken.add(names[0])
        return tuple(drawn)

    def pick(self, relative: str, copy: int, index: int) -> tuple[str, ...]:
        """The holders of one class to take the `index`-th pasted object of an output from: another
        picture first, the output's own input only when it is the class's only holder."""
        point = stable_hash(f"paste:{self.seed}:{relative}:{copy}:{index}")
        return tuple(self.walk(point, {relative}, 1 + FALLBACKS) or [relative])


def visited_are_current(visited: Any, drawn: tuple[tuple[str, ...], ...], hashes: dict[str, str | None]) -> bool:
    """Whether the partners a copy used (its record: [slot, path, sha256] in the order they were
    tried) are still the ones it would take, with the same bytes. Slots the copy did not use do
    not count: its own draws decide which steps fire, and they have not changed."""
    if not visited:
        return True
    tried: dict[int, list[str]] = {}
    for slot, path, sha in visited:
        if slot >= len(drawn) or hashes.get(path) != sha:
            return False
        tried.setdefault(slot, []).append(path)
    return all(tuple(paths) == drawn[slot][: len(paths)] for slot, paths in tried.items())
