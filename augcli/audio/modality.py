"""The audio modality: decode once, plan and run each copy's transforms, encode in kind."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.audio import io
from augcli.audio.io import UnsupportedAudio
from augcli.audio.transforms import AUDIO_SUFFIXES, AudioInfo, Skipped
from augcli.core.errors import InputError
from augcli.core.modality import FileModality, Rendered
from augcli.core.params import Choice, Flag, Options
from augcli.core.transforms import Applied, plan_pipeline, records_of, replay_pipeline

if TYPE_CHECKING:
    from augcli.core.recipe import Section


class AudioModality(FileModality):
    name = "audio"
    default_include = tuple(f"*{suffix}" for suffix in AUDIO_SUFFIXES)
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
        for rng in rngs:
            samples, records = augment_audio(section, decoded.samples, decoded.rate, rng)
            yield Rendered(io.encode(samples, decoded, section.options["output"]), records)

    def replay(self, source: Path, section: Section, records: list[dict[str, Any]]) -> Rendered:
        """One copy made again from its manifest records, with no randomness."""
        decoded = io.load(source)
        samples, records = replay_audio(section, decoded.samples, decoded.rate, records)
        return Rendered(io.encode(samples, decoded, section.options["output"]), records)


def augment_audio(
    section: Section, samples: np.ndarray, rate: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One copy of decoded audio ((channels, frames) float32) and its records: what `run` writes and
    what the Python API returns, by one code path."""
    channels = samples.shape[0] if samples.ndim == 2 else 1
    applied, _ = plan_pipeline(section.transforms, rng, AudioInfo(rate, channels))
    return apply_steps(samples, rate, applied, records_of(section.transforms, applied))


def replay_audio(
    section: Section, samples: np.ndarray, rate: int, records: list[dict[str, Any]]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A copy rebuilt from its records: the recorded parameters, no randomness."""
    channels = samples.shape[0] if samples.ndim == 2 else 1
    applied = replay_pipeline(section.transforms, records, AudioInfo(rate, channels))
    return apply_steps(samples, rate, applied, records_of(section.transforms, applied))


def apply_steps(
    samples: np.ndarray, rate: int, applied: list[Applied], made: list[dict[str, Any]]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Run drawn audio steps over (channels, frames) samples; `made` are their records, which get a
    `skipped` note where a step could not act."""
    records = []
    for step, record in zip(applied, made, strict=True):
        try:
            with warnings.catch_warnings():  # a library's warning about one file is not for the terminal
                warnings.simplefilter("ignore")
                samples = step.transform.apply(samples, rate, **step.params)
        except Skipped as skipped:
            record["skipped"] = str(skipped)
        except InputError:
            raise
        except (ValueError, FloatingPointError) as exc:  # e.g. audio too short for the operation
            raise UnsupportedAudio(f"{step.transform.name} cannot process this audio: {exc}") from None
        records.append(record)
    return samples, records
