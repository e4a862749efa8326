"""Which other inputs a mixing copy (mosaic, mixup, cutmix, copy_paste) takes as its partners.

Every candidate gets a point on a 64-bit ring from the seed and its name; a copy's partners are
the inputs that follow its own on the ring (copy k takes the k-th group of `slots` successors).
Neighbours on the ring share partners, so a worker that makes inputs in ring order decodes each
picture about once instead of once per copy that uses it. Adding or removing an input moves the
partners of only the few copies whose successor window holds its place; no worker count, file
order or shard changes a choice: it depends on the names and the seed alone.
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
        self.places = {name: index for index, name in enumerate(self.names)}

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

    def position(self, relative: str) -> int:
        """Where an input sits on the ring (its index in ring order)."""
        point = stable_hash(f"partner:{self.seed}:{relative}")
        return bisect.bisect_left(self.points, point)

    def draw(self, relative: str, copy: int, slots: int) -> tuple[tuple[str, ...], ...]:
        """For each of an output's `slots`: its partner, then the fallbacks. Copy k's slot j takes
        the input (1 + k * slots + j) places after its own on the ring, round the ring when there
        are fewer; the section's only input mixes with itself."""
        place = self.places.get(relative)
        others = len(self.names) - (place is not None)
        if others == 0:
            return tuple((relative,) for _ in range(slots))
        # start after the input itself (which the first `others` successors never reach), or where it would be
        here = place + 1 if place is not None else self.position(relative)
        count = len(self.names)
        drawn = []
        for slot in range(slots):
            first = copy * slots + slot
            picks = ((first + k) % others for k in range(min(1 + FALLBACKS, others)))
            drawn.append(tuple(self.names[(here + step) % count] for step in picks))
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
