"""What one fired image transform does to the pixels, in a form that can merge with its neighbour.

Consecutive `Warp`s multiply into one matrix (one resampling per run of geometric transforms);
consecutive `Recolor`s compose into one colour map (one pass over the pixels). Anything else is
a `Kernel` that runs on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from augcli.image import functional as F
from augcli.image.color import ColorMap


class Op:
    def merge(self, after: Op) -> Op | None:
        """One op doing self then `after`, or None when they cannot be merged."""
        return None

    def run(self, pixels: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _agree(a: Any, b: Any) -> tuple[bool, Any]:
    """Settings agree when equal or when either side does not care (None)."""
    if a is None or b is None:
        return True, a if b is None else b
    return a == b, a


@dataclass(frozen=True)
class Warp(Op):
    """A source->output matrix and output size; settings left None take the neighbours' or the defaults.

    `canvases` remembers the intermediate images a merged warp skipped, each as (matrix to the
    output, size): output pixels that fall outside one of them were cut away by a crop or pushed
    out by a shift along the way, so they get the fill, as they would step by step.
    """

    matrix: np.ndarray
    size: tuple[int, int]  # (width, height)
    interpolation: str | None = None
    border: str | None = None
    fill: tuple[float, ...] | None = None
    canvases: tuple[tuple[np.ndarray, tuple[int, int]], ...] = ()

    def merge(self, after: Op) -> Op | None:
        if not isinstance(after, Warp):
            return None
        settings = {}
        for name in ("interpolation", "border", "fill"):
            ok, value = _agree(getattr(self, name), getattr(after, name))
            if not ok:
                return None
            settings[name] = value
        skipped = tuple((after.matrix @ m, size) for m, size in self.canvases) + ((after.matrix, self.size),)
        return Warp(after.matrix @ self.matrix, after.size, canvases=skipped + after.canvases, **settings)

    def run(self, pixels: np.ndarray) -> np.ndarray:
        border, fill = self.border or "constant", self.fill or (0.0,)
        out = F.warp(pixels, self.matrix, self.size, self.interpolation or "bilinear", border, fill)
        if border == "constant":
            source_size = (pixels.shape[1], pixels.shape[0])
            for matrix, size in self.canvases:
                out = F.fill_outside(out, matrix, size, fill, self.matrix, source_size)
        return out


@dataclass(frozen=True)
class Recolor(Op):
    cmap: ColorMap

    def merge(self, after: Op) -> Op | None:
        if not isinstance(after, Recolor):
            return None
        return replace(self, cmap=self.cmap.then(after.cmap))

    def run(self, pixels: np.ndarray) -> np.ndarray:
        return F.color_map(pixels, self.cmap)


@dataclass(frozen=True)
class Kernel(Op):
    """Any other pure kernel with its parameters bound."""

    function: Callable[..., np.ndarray]
    kwargs: dict[str, Any]

    def run(self, pixels: np.ndarray) -> np.ndarray:
        return self.function(pixels, **self.kwargs)


def run_ops(pixels: np.ndarray, ops: Sequence[Op]) -> np.ndarray:
    """Merge neighbouring ops where possible and run the result over the pixels."""
    pending: Op | None = None
    for op in ops:
        merged = pending.merge(op) if pending is not None else None
        if merged is not None:
            pending = merged
            continue
        if pending is not None:
            pixels = pending.run(pixels)
        pending = op
    return pending.run(pixels) if pending is not None else pixels
