"""The video modality: each copy draws its picture transforms once and applies them to every
frame alike (objects do not jitter), its temporal transforms choose which input frames it shows,
and its audio track follows the same frames.

Frames stream from the decoder through the merged pixel ops into the encoder; only `reverse`
holds the frames it reorders.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.audio.transforms import AudioInfo
from augcli.core.modality import FileModality, Rendered
from augcli.core.params import Choice, Number, Options, TransformList
from augcli.core.transforms import Applied, Transform, leaves, plan_pipeline, records_of, replay_pipeline
from augcli.image import modality as _image  # noqa: F401  (registers the picture transforms, mixing ones too)
from augcli.image.ops import run_ops
from augcli.video import io
from augcli.video.transforms import Temporal, TemporalJitter, VideoInfo

if TYPE_CHECKING:
    from augcli.core.recipe import Section

MAX_HELD_FRAMES_BYTES = 2 << 30  # `reverse` holds its frames: refuse a copy that would need more


class VideoModality(FileModality):
    name = "video"
    default_include = tuple(f"*{suffix}" for suffix in io.SUFFIXES)
    options = {
        "output": Options(
            {
                "format": Choice("same", ["same", *io.FORMATS], "container; same keeps the input's"),
                "crf": Number(23, "quality: lower is better and larger (H.264 and VP9 CRF)", integer=True, lo=0, hi=63),
                "preset": Choice(
                    "veryfast",
                    ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"],
                    "H.264 speed against size",
                ),
            },
            "how augmented copies are written (H.264 in mp4, mov, mkv; VP9 in webm; MPEG-4 in avi)",
        ),
        "audio": Choice("keep", ["keep", "drop"], "the audio track: keep it (it follows the copy's frames) or drop it"),
        "audio_transforms": TransformList(
            "audio", "audio transforms for the kept track, drawn once per copy, after it follows the frames"
        ),
    }

    def worker_init(self) -> None:
        """One process per core already: OpenCV's own threads would only contend."""
        import cv2

        cv2.setNumThreads(1)

    def check_options(self, options: dict[str, Any], transforms: list[Transform], base_dir: Path):
        mixing = sorted({leaf.name for leaf in leaves(transforms) if leaf.partner_slots()})
        if mixing:
            return [("transforms", f"{', '.join(mixing)} mix several pictures: they are for image sections")]
        return []

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return io.output_suffix(source_suffix, section.options["output"])

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> Iterator[Rendered]:
        """Probe once; per copy plan, then stream its frames through the pixel ops into the encoder."""
        found = io.probe(source)
        sound = io.audio(source) if section.options["audio"] == "keep" and found.audio_rate else None
        for rng in rngs:
            applied, _ = plan_pipeline(section.transforms, rng, _info(found))
            heard = _plan_audio(section, sound, rng)
            yield self._rendered(source, section, found, sound, applied, heard)

    def replay(self, source: Path, section: Section, records: list[dict[str, Any]]) -> Rendered:
        found = io.probe(source)
        sound = io.audio(source) if section.options["audio"] == "keep" and found.audio_rate else None
        applied = replay_pipeline(section.transforms, records, _info(found))
        track = next((r for r in records if isinstance(r, dict) and r.get("name") == AUDIO_TRACK), None)
        heard = None
        if track is not None and sound is not None:
            steps = track.get("params", {}).get("transforms", [])
            info = AudioInfo(sound[1], sound[0].shape[0])
            heard = replay_pipeline(list(section.options["audio_transforms"]), steps, info)
        return self._rendered(source, section, found, sound, applied, heard)

    def _rendered(
        self, source: Path, section: Section, found: io.Probe, sound, applied: list[Applied], heard=None
    ) -> Rendered:
        shown = list(range(found.frames))
        for step in applied:
            if isinstance(step.transform, Temporal):
                shown = step.transform.remap(shown, **step.params)
        pictures_steps = [a for a in applied if not isinstance(a.transform, (Temporal, TemporalJitter))]
        jitter = next((a for a in applied if isinstance(a.transform, TemporalJitter)), None)
        _check_held(shown, found)
        frames = _frames_shown(source, shown)
        if jitter is None:
            ops = [a.transform.op(a.info, **a.params) for a in pictures_steps]
            pictures = (run_ops(frame, ops) for frame in frames)
        else:
            pictures = _drifting(frames, pictures_steps, jitter, float(found.rate))
        track = _audio_shown(sound, shown, found) if sound is not None else None
        records = records_of(section.transforms, applied)
        if track is not None and heard is not None:
            samples, done = augment_track(track[0], track[1], heard, list(section.options["audio_transforms"]))
            track = (samples, track[1])
            records.append({"name": AUDIO_TRACK, "params": {"transforms": done}})
        suffix = self.output_suffix(source.suffix, section)
        data = io.encode(suffix, found.rate, pictures, track, section.options["output"])
        return Rendered(data, records)


AUDIO_TRACK = "audio_track"  # the record of the audio transforms a copy's track went through


def _plan_audio(section: Section, sound, rng: np.random.Generator) -> list[Applied] | None:
    """The audio steps of one copy, drawn from its generator after its picture and time steps."""
    steps = list(section.options["audio_transforms"])
    if sound is None or not steps:
        return None
    applied, _ = plan_pipeline(steps, rng, AudioInfo(sound[1], sound[0].shape[0]))
    return applied


def augment_track(samples: np.ndarray, rate: int, applied: list[Applied], steps: list) -> tuple[np.ndarray, list]:
    """A copy's audio track through its drawn audio steps, as an audio section applies them."""
    from augcli.audio.modality import apply_steps

    return apply_steps(samples, rate, applied, records_of(steps, applied))


def _drifting(frames: Iterator[np.ndarray], steps: list[Applied], jitter: Applied, fps: float) -> Iterator[np.ndarray]:
    """Frames through picture steps whose numbers drift over the copy (temporal_jitter)."""
    seed = jitter.params["seed"]
    for position, frame in enumerate(frames):
        ops = [
            a.transform.op(a.info, **jitter.transform.drift(a.params, position, fps, seed, index))
            for index, a in enumerate(steps)
        ]
        yield run_ops(frame, ops)


def _info(found: io.Probe) -> VideoInfo:
    return VideoInfo(found.width, found.height, 3, False, frames=found.frames, fps=float(found.rate))


def _check_held(shown: list[int], found: io.Probe) -> None:
    if any(later < earlier for earlier, later in itertools.pairwise(shown)):
        held = (max(shown) - min(shown) + 1) * found.width * found.height * 3
        if held > MAX_HELD_FRAMES_BYTES:
            raise io.UnsupportedVideo(
                f"reverse would hold {held / 2**30:.1f} GiB of frames: put a clip step before it to shorten the copy"
            )


def _frames_shown(source: Path, shown: list[int]) -> Iterator[np.ndarray]:
    """The frames of `shown` in its order, decoding the file once: frames in rising order stream
    straight through (each used as often as it appears); a reordering holds what it needs."""
    if all(later >= earlier for earlier, later in itertools.pairwise(shown)):
        wanted = iter(shown)
        target = next(wanted, None)
        for index, frame in enumerate(io.frames(source)):
            while target == index:
                yield frame
                target = next(wanted, None)
            if target is None:
                return
        return
    needed = set(shown)
    held = {index: frame for index, frame in enumerate(io.frames(source)) if index in needed}
    for index in shown:
        if index in held:
            yield held[index]


def _audio_shown(sound: tuple[np.ndarray, int], shown: list[int], found: io.Probe) -> tuple[np.ndarray, int]:
    """The audio under the frames a copy shows, in their order: each frame brings its own span of
    samples (backwards when the frames run backwards), so picture and sound stay together."""
    samples, rate = sound
    per_frame = rate / float(found.rate)
    pieces = []
    for position, index in enumerate(shown):
        start, end = round(index * per_frame), round((index + 1) * per_frame)
        piece = samples[:, start:end]
        backwards = position + 1 < len(shown) and shown[position + 1] < index
        backwards = backwards or (position > 0 and shown[position - 1] > index)
        pieces.append(piece[:, ::-1] if backwards else piece)
    return (np.concatenate(pieces, axis=1) if pieces else samples[:, :0]), rate
