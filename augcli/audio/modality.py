"""The audio modality: decode once, plan and run each copy's transforms, encode in kind."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from augcli.audio import io
from augcli.audio.io import UnsupportedAudio
from augcli.audio.transforms import AUDIO_SUFFIXES, AudioInfo, Skipped
from augcli.errors import InputError
from augcli.modality import FileModality, Rendered
from augcli.params import Choice, Flag, Options
from augcli.transforms import plan_pipeline

if TYPE_CHECKING:
    from augcli.recipe import Section


class AudioModality(FileModality):
    name = "audio"
    default_include = tuple(f"*{suffix}" for suffix in AUDIO_SUFFIXES)
    preload = ("librosa.effects", "scipy.signal", "soxr", "augcli.audio.envelope")
    options = {
        "output": Options(
            {
                "format": Choice("same", ["same", *io.FORMATS], "output format; same keeps the input's"),
                "subtype": Choice("same", ["same", *io.SUBTYPES], "sample format; same keeps the input's"),
                "peak_normalize": Flag(False, "scale a copy that exceeds full scale down to full scale"),
                "clip": Flag(True, "saturate float files at full scale too (integer ones always saturate)"),
            },
            "how augmented copies are written",
        )
    }

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return io.output_suffix(source_suffix, section.options["output"])

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> Iterator[Rendered]:
        """Decode once; make the copies one at a time (each is written before the next is made)."""
        decoded = io.load(source)
        info = AudioInfo(decoded.rate, decoded.channels)
        for rng in rngs:
            applied, _ = plan_pipeline(section.transforms, rng, info)
            samples, records = decoded.samples, []
            for step in applied:
                record = step.record()
                try:
                    with warnings.catch_warnings():  # a library's warning about one file is not for the terminal
                        warnings.simplefilter("ignore")
                        samples = step.transform.apply(samples, decoded.rate, **step.params)
                except Skipped as skipped:
                    record["skipped"] = str(skipped)
                except InputError:
                    raise
                except (ValueError, FloatingPointError) as exc:  # e.g. audio too short for the operation
                    raise UnsupportedAudio(f"{step.transform.name} cannot process this audio: {exc}") from None
                records.append(record)
            data = io.encode(samples, decoded, section.options["output"])
            yield Rendered(data, records)
