"""Temporal video transforms: each turns the list of input frames a copy shows into a new list
(a window, a faster or slower clip, the clip backwards, frames left out). The picture transforms
of a video section are the image modality's, drawn once per copy and applied to every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from augcli.core.params import Number, Span
from augcli.core.transforms import Transform, draw_seed, register, uniform
from augcli.image.transforms import ImageInfo


@dataclass(frozen=True)
class VideoInfo(ImageInfo):
    """What sampling needs to know of a copy at a point in its chain: its frames' size, and how
    many frames it has at what rate."""

    frames: int = 0
    fps: float = 25.0


class Temporal(Transform):
    """Changes which input frames a copy shows, and in which order."""

    def remap(self, shown: list[int], **params: Any) -> list[int]:
        raise NotImplementedError


@register("video")
class Clip(Temporal):
    """Keep a random window of the clip, `duration_s` seconds long (all of it when shorter)."""

    duration_s = Span((1.0, 5.0), "length of the window in seconds", lo=0.0, lo_open=True, hi=86_400)

    def sample(self, rng, info):
        length = max(1, min(info.frames, round(uniform(rng, self.duration_s) * info.fps)))
        return {"start": int(rng.integers(info.frames - length + 1)), "frames": length}

    def output_info(self, info, params):
        return replace(info, frames=params["frames"])

    def remap(self, shown, start, frames):
        start = min(start, max(len(shown) - frames, 0))  # an earlier step left fewer frames than planned
        return shown[start : start + frames]


@register("video")
class Speed(Temporal):
    """Play faster (factor > 1: frames dropped) or slower (< 1: frames repeated) at the same frame rate."""

    factor = Span((0.8, 1.25), "speed factor range", lo=0.05, hi=20)

    def sample(self, rng, info):
        return {"factor": uniform(rng, self.factor)}

    def output_info(self, info, params):
        return replace(info, frames=max(1, round(info.frames / params["factor"])))

    def remap(self, shown, factor):
        count = max(1, round(len(shown) / factor))
        return [shown[min(int(k * factor), len(shown) - 1)] for k in range(count)]


@register("video")
class Reverse(Temporal):
    """Play the clip backwards (its frames are held in memory: clip long videos first)."""

    def remap(self, shown):
        return shown[::-1]


@register("video")
class FrameDrop(Temporal):
    """Leave out each frame with probability `rate` (the clip gets shorter; at least one frame stays)."""

    rate = Number(0.1, "chance that a frame is left out", lo=0.0, hi=0.9)

    def sample(self, rng, info):
        return {"seed": draw_seed(rng)}

    def output_info(self, info, params):
        return replace(info, frames=max(1, round(info.frames * (1 - self.rate))))

    def remap(self, shown, seed):
        keep = np.random.default_rng(seed).random(len(shown)) >= self.rate
        kept = [frame for frame, stays in zip(shown, keep, strict=True) if stays]
        return kept or shown[:1]


@register("video")
class TemporalJitter(Transform):
    """Let the picture steps' numbers drift over the clip (off unless listed): every `every_s`
    seconds each drawn number is scaled by 1 +- `amount`, and frames between glide linearly."""

    amount = Number(0.1, "largest relative change of a drawn number at a key frame", lo=0.0, hi=1.0)
    every_s = Number(1.0, "seconds between key frames", lo=0.05, hi=3600.0)

    def sample(self, rng, info):
        return {"seed": draw_seed(rng)}

    def drift(self, params: dict[str, Any], position: int, fps: float, seed: int, step: int) -> dict[str, Any]:
        """One picture step's parameters at output frame `position`: numbers scaled by a factor
        that moves linearly between key frames (factors drawn from `seed`, this step and the key)."""
        span = max(self.every_s * fps, 1.0)
        key, into = divmod(position / span, 1.0)
        key = int(key)
        out = dict(params)
        for index, (name, value) in enumerate(sorted(params.items())):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            here, there = (self._factor(seed, step, index, key + k) for k in (0, 1))
            moved = value * (here + (there - here) * into)
            out[name] = round(moved) if isinstance(value, int) else float(moved)
        return out

    def _factor(self, seed: int, step: int, index: int, key: int) -> float:
        rng = np.random.default_rng([seed, step, index, key])
        return 1.0 + self.amount * float(rng.uniform(-1.0, 1.0))
