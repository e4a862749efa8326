"""Audio load and save with soundfile (libsndfile): formats, subtypes, full-scale handling.

Samples leave `load` as float32 (channels, frames), the layout librosa and scipy work on, and come
back to `encode` in the same layout; `Decoded` keeps the input's format and subtype so a copy is
written in kind (PCM_16 stays PCM_16, FLAC stays FLAC) unless the section's `output:` says otherwise.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from augcli.audio import ogg, peak
from augcli.core.errors import InputError

# output format key -> (libsndfile format, suffix)
FORMATS = {"wav": ("WAV", ".wav"), "flac": ("FLAC", ".flac"), "ogg": ("OGG", ".ogg"), "mp3": ("MP3", ".mp3")}
SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT")
# libsndfile's log line for a sample chunk longer than the file, e.g. "data : 16000 (should be 4956)"
_SHORT_CHUNK = re.compile(r"^(?:data|SSND)\s*:\s*(\d+) \(should be (\d+)\)", re.MULTILINE)


class UnsupportedAudio(InputError):
    """An audio file that cannot be decoded or holds nothing usable."""


@dataclass(frozen=True)
class Decoded:
    """Samples plus what is needed to write them back in kind."""

    samples: np.ndarray  # float32, (channels, frames), read-only
    rate: int
    format: str  # libsndfile's major format: WAV, FLAC, OGG, MP3, AIFF, ...
    subtype: str  # PCM_16, PCM_24, FLOAT, VORBIS, ...

    @property
    def channels(self) -> int:
        return self.samples.shape[0]


def load(path: Path) -> Decoded:
    """Decode a whole file; refuse empty, truncated or non-finite audio with a reason."""
    if path.stat().st_size == 0:
        raise UnsupportedAudio("empty file (0 bytes)")
    return _decode(path)


def load_bounded(path: Path, limit: int) -> Decoded:
    """`load` for a file a recipe names (an impulse response): read through the bounded reader
    (a regular file only, never a FIFO, at most `limit` bytes), then decoded and checked alike."""
    from augcli.core.files import read_input

    data = read_input(path, limit)
    if not data:
        raise UnsupportedAudio("empty file (0 bytes)")
    return _decode(io.BytesIO(data))


def _decode(source: Any) -> Decoded:
    try:
        with sf.SoundFile(source) as handle:
            short = _SHORT_CHUNK.search(handle.extra_info)
            if short:
                declared, present = (int(v) for v in short.groups())
                frame_bytes = max(1, handle.channels * _bytes_per_sample(handle.subtype))
                raise UnsupportedAudio(
                    f"truncated: the header promises {declared // frame_bytes} frames, "
                    f"the file holds {present // frame_bytes}"
                )
            data = handle.read(dtype="float32", always_2d=True)
            rate, fmt, subtype = handle.samplerate, handle.format, handle.subtype
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise UnsupportedAudio(f"cannot decode audio: {exc}") from None
    if data.shape[0] == 0:
        raise UnsupportedAudio("holds no samples (0 frames)")
    finite = np.isfinite(data)
    if not finite.all():
        raise UnsupportedAudio(f"{int(data.size - finite.sum())} samples are NaN or infinite")
    samples = np.ascontiguousarray(data.T)
    samples.flags.writeable = False
    return Decoded(samples, int(rate), fmt, subtype)


def load_bytes(data: bytes) -> Decoded:
    """Audio encoded in memory (a copy as `run` writes it), decoded as `load` decodes a file."""
    import io as _io

    with sf.SoundFile(_io.BytesIO(data)) as handle:
        samples = handle.read(dtype="float32", always_2d=True)
        return Decoded(np.ascontiguousarray(samples.T), int(handle.samplerate), handle.format, handle.subtype)


def _bytes_per_sample(subtype: str) -> int:
    digits = re.search(r"(\d+)$", subtype)
    if digits:
        return max(1, int(digits.group(1)) // 8)
    return {"FLOAT": 4, "DOUBLE": 8, "ULAW": 1, "ALAW": 1}.get(subtype, 1)


def _target(decoded: Decoded, options: dict[str, Any]) -> tuple[str, str]:
    """The (format, subtype) a copy is written with."""
    fmt = decoded.format if options["format"] == "same" else FORMATS[options["format"]][0]
    subtype = decoded.subtype if options["subtype"] == "same" else options["subtype"]
    if not sf.check_format(fmt, subtype):
        subtype = sf.default_subtype(fmt)
    return fmt, subtype


def output_suffix(source_suffix: str, options: dict[str, Any]) -> str:
    return source_suffix if options["format"] == "same" else FORMATS[options["format"]][1]


def to_full_scale(samples: np.ndarray, subtype: str, options: dict[str, Any]) -> np.ndarray:
    """Keep samples within [-1, 1] where the file cannot hold more.

    `peak_normalize` scales a copy whose peak exceeds full scale down to exactly full scale (its
    shape survives); otherwise integer and lossy subtypes saturate at full scale (they never wrap
    around), and float subtypes do too unless `clip: false`.
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if options["peak_normalize"] and peak > 1.0:
        return samples / np.float32(peak)
    if peak > 1.0 and (options["clip"] or subtype not in ("FLOAT", "DOUBLE")):
        return np.clip(samples, -1.0, 1.0)
    return samples


def encode(samples: np.ndarray, decoded: Decoded, options: dict[str, Any]) -> bytes:
    """Encode (channels, frames) samples at the input's rate; same samples, same bytes."""
    fmt, subtype = _target(decoded, options)
    frames = to_full_scale(samples, subtype, options).T
    buffer = io.BytesIO()
    sf.write(buffer, frames, decoded.rate, format=fmt, subtype=subtype)
    data = buffer.getvalue()
    return ogg.fix_serial(data) if fmt == "OGG" else peak.zero_peak_timestamp(data)
