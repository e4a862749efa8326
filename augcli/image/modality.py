"""The image modality: decode once, plan and run each copy's transforms, encode."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from augcli.image import io
from augcli.image import transforms as _registered  # noqa: F401  (registers the transforms)
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo
from augcli.modality import FileModality, Rendered
from augcli.params import Choice, Flag, Number, Options
from augcli.transforms import plan_pipeline

if TYPE_CHECKING:
    from augcli.recipe import Section


class ImageModality(FileModality):
    name = "image"
    default_include = ("*.jpg", "*.jpeg", "*.png", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.gif")
    options = {
        "output": Options(
            {
                "format": Choice("same", ["same", "jpeg", "png", "webp"], "output format; same keeps the input's"),
                "quality": Number(95, "JPEG / WebP quality", integer=True, lo=1, hi=100),
                "png_compress_level": Number(1, "PNG zlib level (0 none, 9 smallest)", integer=True, lo=0, hi=9),
                "webp_lossless": Flag(False, "write lossless WebP"),
            },
            "how augmented copies are written",
        )
    }

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return io.output_suffix(source_suffix, section.options["output"])

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        decoded = io.load(source)
        info = ImageInfo.of(decoded.pixels)
        copies = []
        for rng in rngs:
            applied, _ = plan_pipeline(section.transforms, rng, info)
            pixels = run_ops(decoded.pixels, [a.transform.op(a.info, **a.params) for a in applied])
            data = io.encode(pixels, decoded, section.options["output"])
            copies.append(Rendered(data, [a.record() for a in applied]))
        return copies
