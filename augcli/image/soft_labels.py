"""soft_labels.csv: each mixed class-folder copy's class weights, for training with soft targets.

A mixup, cutmix or mosaic copy of a class-folder dataset holds several classes; it lies in the
folder of its input, which keeps the largest share, and this file says how much of each class it
holds, so a training script reads its target without parsing the manifest. A file it does not
list holds one class: its folder's.
"""

from __future__ import annotations

import csv
import io
from typing import Any

SOFT_LABELS_NAME = "soft_labels.csv"


def finish(entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
    """The file from every mixed copy's entry (`shares`: class -> weight), or nothing."""
    rows = sorted((unit, entry["shares"]) for unit, entry in entries if _shares(entry.get("shares")))
    if not rows:
        return []
    classes = sorted({name for _, shares in rows for name in shares})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", *classes])
    for unit, shares in rows:
        writer.writerow([unit, *(_weight(shares.get(name, 0.0)) for name in classes)])
    return [(SOFT_LABELS_NAME, buffer.getvalue().encode("utf-8", "surrogateescape"))]


def _weight(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value else "0"


def _shares(value: Any) -> bool:
    """Whether a recorded entry holds class weights (the state is read back from OUTPUT: an edited
    entry that does not is left out, never a reason to fail)."""
    return isinstance(value, dict) and all(
        isinstance(name, str) and isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= weight <= 1
        for name, weight in value.items()
    )
