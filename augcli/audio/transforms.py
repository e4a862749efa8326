"""Registered audio transforms: `sample` draws parameters from the rng, `apply` runs the kernel.

Positions and lengths are drawn as fractions of the audio's duration, so sampling needs only the
sample rate and channel count, never the samples, and the manifest's values replay exactly.
Transforms that can push samples past full scale (gain, noise, makeup gain) say so; the section's
`output: {clip, peak_normalize}` decides what happens on write.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from augcli.audio import functional as F
from augcli.core.errors import InputError
from augcli.core.files import file_kind, is_url
from augcli.core.params import Choice, Flag, Number, Span, Text
from augcli.core.transforms import (
    Transform,
    draw_seed,
    first_problem,
    is_whole,
    list_problem,
    range_problem,
    register,
    uniform,
)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au", ".w64", ".caf")


@dataclass(frozen=True)
class AudioInfo:
    """What sampling needs to know of the audio, without its samples."""

    rate: int
    channels: int


class Skipped(Exception):
    """A transform that cannot act on this audio (e.g. noise at an SNR on silence) and left it as is."""


class AudioTransform(Transform):
    def apply(self, samples: np.ndarray, sample_rate: int, **params: Any) -> np.ndarray:
        """Apply already-sampled parameters; raise Skipped to leave the audio untouched."""
        raise NotImplementedError


def _not_silent(result: np.ndarray | None, reason: str) -> np.ndarray:
    if result is None:
        raise Skipped(reason)
    return result


@register("audio")
class AddNoise(AudioTransform):
    """Add white Gaussian noise at a random signal-to-noise ratio (can exceed full scale; skipped on silence)."""

    snr_db = Span([5.0, 40.0], "signal-to-noise ratio in dB")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"snr_db": uniform(rng, self.snr_db), "seed": draw_seed(rng)}

    def apply(self, samples: np.ndarray, sample_rate: int, snr_db: float, seed: int) -> np.ndarray:
        noise = F.gaussian_noise(samples.shape, seed)
        return _not_silent(F.mix_at_snr(samples, noise, snr_db), "silent input")


def _clip(path: str, rate: int, what: str, limit: int | None = None) -> np.ndarray:
    """A recording (noise, an impulse response) decoded and resampled to `rate`, kept per process
    while the file is unchanged, so a run decodes each once per worker; `limit` bounds its size."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{what} file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the worker (or read as 0 bytes): say what it is
        raise InputError(f"{what} file {path} is {file_kind(info.st_mode)}, not a regular file: never opened")
    return _decoded_clip(path, rate, info.st_size, info.st_mtime_ns, what, limit)


@functools.lru_cache(maxsize=32)
def _decoded_clip(path: str, rate: int, size: int, mtime_ns: int, what: str, limit: int | None) -> np.ndarray:
    from augcli.audio import io

    try:
        decoded = io.load(Path(path)) if limit is None else io.load_bounded(Path(path), limit)
    except (InputError, OSError) as exc:
        raise InputError(f"{what} file {path}: {exc}") from None
    return decoded.samples if decoded.rate == rate else F.resample(decoded.samples, decoded.rate, rate)


class _AudioFolder(AudioTransform):
    """A transform that draws files from a folder of recordings (sorted, hidden ones skipped)."""

    files: tuple[str, ...] = ()
    folder: str = ""
    what: ClassVar[str] = "noise"

    def check_files(self, base_dir: Path) -> list[tuple[str, str]]:
        from augcli.storage import remote

        if is_url(self.path):  # a local mirror of the remote folder, pulled up to date
            try:
                folder = remote.Mirror(self.path).pull()
            except remote.RemoteError as exc:
                return [("path", str(exc))]
        else:
            folder = (base_dir / self.path).resolve()
        if not folder.is_dir():
            return [("path", f"{self.what} folder {folder} does not exist: give a folder of {self.what} recordings")]
        self.folder = str(folder)
        self.files = tuple(
            sorted(
                p.relative_to(folder).as_posix()
                for p in folder.rglob("*")
                if p.suffix.lower() in AUDIO_SUFFIXES and not p.relative_to(folder).as_posix().startswith(".")
            )
        )
        if not self.files:
            return [("path", f"{self.what} folder {folder} holds no audio files ({', '.join(AUDIO_SUFFIXES)})")]
        return []

    def dependencies(self) -> list[str]:
        return [self.folder]

    def replay_problem(self, params: dict[str, Any], info: AudioInfo) -> str | None:
        """A recorded file must be one of the folder's: a record never chooses what augcli reads."""
        if "file" in params and params["file"] not in self.files:
            return f"file {params['file']!r} is not one of the {len(self.files)} files of {self.folder}"
        return super().replay_problem(params, info)


@register("audio")
class BackgroundNoise(_AudioFolder):
    """Mix a random clip from a folder of noise recordings at a random SNR (looped or cropped to length)."""

    path = Text(doc="folder of noise files (wav, flac, ogg, ...), relative to the recipe's folder, or a URL (s3://...)")
    snr_db = Span([3.0, 30.0], "signal-to-noise ratio in dB")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {
            "file": self.files[int(rng.integers(len(self.files)))],
            "start": float(rng.random()),
            "snr_db": uniform(rng, self.snr_db),
        }

    def apply(self, samples: np.ndarray, sample_rate: int, file: str, start: float, snr_db: float) -> np.ndarray:
        noise = _clip(str(Path(self.folder) / file), sample_rate, "background noise")
        if noise.shape[0] != samples.shape[0]:  # mono noise goes to every channel; others are mixed down first
            noise = np.repeat(noise.mean(axis=0, keepdims=True), samples.shape[0], axis=0)
        clip = F.loop_to_length(noise, samples.shape[-1], int(start * noise.shape[-1]))
        return _not_silent(F.mix_at_snr(samples, clip, snr_db), "silent input or silent noise clip")


@register("audio")
class TimeStretch(AudioTransform):
    """Change the tempo without changing the pitch (phase vocoder); duration / rate."""

    output_version = 2  # 2: augcli's vectorised vocoder and STFT (vocoder.py), no longer librosa's
    rate = Span([0.8, 1.25], "tempo factor (> 1 faster, shorter)", lo=0.05, hi=20.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"rate": uniform(rng, self.rate)}

    def apply(self, samples: np.ndarray, sample_rate: int, rate: float) -> np.ndarray:
        return F.time_stretch(samples, rate)


@register("audio")
class PitchShift(AudioTransform):
    """Change the pitch without changing the tempo (phase vocoder + soxr_hq resampling)."""

    output_version = 2  # 2: augcli's vectorised vocoder and STFT (vocoder.py), no longer librosa's
    semitones = Span(2.0, "shift in semitones", scalar="symmetric", lo=-24.0, hi=24.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"semitones": uniform(rng, self.semitones)}

    def apply(self, samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
        return F.pitch_shift(samples, sample_rate, semitones)


@register("audio")
class Speed(AudioTransform):
    """Play faster or slower by resampling: duration / factor, pitch moves with it."""

    factor = Span([0.9, 1.1], "speed factor (> 1 faster, higher)", lo=0.05, hi=20.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"factor": uniform(rng, self.factor)}

    def apply(self, samples: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
        return F.speed(samples, factor)


@register("audio")
class Compress(AudioTransform):
    """Dynamic range compression with attack/release smoothing and a soft knee (makeup gain can exceed full scale)."""

    threshold_db = Span([-30.0, -10.0], "level above which the gain is reduced, dBFS", hi=0.0)
    ratio = Span([2.0, 6.0], "input dB over threshold per output dB", lo=1.0)
    attack_ms = Span(5.0, "time to react to a louder signal", lo=0.0, hi=1000.0)
    release_ms = Span(100.0, "time to recover after it", lo=0.0, hi=5000.0)
    knee_db = Span(6.0, "width of the soft knee around the threshold (0 = hard knee)", lo=0.0, hi=48.0)
    makeup_db = Span(0.0, "gain added after compression", lo=-24.0, hi=24.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        keys = ("threshold_db", "ratio", "attack_ms", "release_ms", "knee_db", "makeup_db")
        return {key: uniform(rng, getattr(self, key)) for key in keys}

    def apply(self, samples: np.ndarray, sample_rate: int, **params: Any) -> np.ndarray:
        return F.compress(samples, sample_rate, **params)


@register("audio")
class Gain(AudioTransform):
    """Multiply the volume by a random gain in dB (can exceed full scale)."""

    gain_db = Span(6.0, "gain in dB", scalar="symmetric", lo=-96.0, hi=96.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"gain_db": uniform(rng, self.gain_db)}

    def apply(self, samples: np.ndarray, sample_rate: int, gain_db: float) -> np.ndarray:
        return F.gain(samples, gain_db)


@register("audio")
class Shift(AudioTransform):
    """Shift in time by a random fraction of the duration; what falls off wraps around or becomes silence."""

    fraction = Span(0.5, "shift as a fraction of the duration (> 0 later)", scalar="symmetric", lo=-1.0, hi=1.0)
    rollover = Flag(True, "wrap the audio that falls off one end around to the other (else silence)")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"fraction": uniform(rng, self.fraction)}

    def apply(self, samples: np.ndarray, sample_rate: int, fraction: float) -> np.ndarray:
        return F.shift(samples, round(fraction * samples.shape[-1]), self.rollover)


@register("audio")
class Reverse(AudioTransform):
    """Play backwards."""

    def apply(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return samples[:, ::-1].copy()


@register("audio")
class PolarityInversion(AudioTransform):
    """Multiply every sample by -1 (inaudible alone; changes the waveform a model sees)."""

    def apply(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return -samples


@register("audio")
class TimeMask(AudioTransform):
    """Silence a random span of the audio (SpecAugment-style time masking on the waveform)."""

    fraction = Span([0.01, 0.2], "length of the silenced span as a fraction of the duration", lo=0.0, hi=1.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        fraction = uniform(rng, self.fraction)
        return {"fraction": fraction, "start": float(rng.uniform(0.0, 1.0 - fraction))}

    def apply(self, samples: np.ndarray, sample_rate: int, fraction: float, start: float) -> np.ndarray:
        count = samples.shape[-1]
        return F.silence_span(samples, round(start * count), round(fraction * count))


class Filter(AudioTransform):
    order = Number(4, "Butterworth order (steepness: 6 dB per octave per order)", integer=True, lo=1, hi=10)
    zero_phase = Flag(True, "filter forwards and backwards: no delay (doubles the steepness)")


def _highest_cutoff(rate: int) -> float:
    """0.95 x Nyquist: the highest cutoff a Butterworth filter is designed with at this rate."""
    return 0.95 * rate / 2.0


class _Capped(AudioTransform):
    """A step whose `capped` value is drawn from its setting, then capped at the input (`cap`)."""

    capped: ClassVar[str] = ""

    def cap(self, info: AudioInfo) -> float:
        raise NotImplementedError

    def replay_problem(self, params: dict[str, Any], info: AudioInfo) -> str | None:
        lo, hi = getattr(self, self.capped)
        cap = self.cap(info)
        rest = {k: v for k, v in params.items() if k != self.capped}
        why = range_problem(self.capped, params.get(self.capped), (min(lo, cap), min(hi, cap)))
        return why or super().replay_problem(rest, info)


class _CutoffFilter(_Capped, Filter):
    """A low- or high-pass at a cutoff drawn from `cutoff_hz`, capped just below Nyquist."""

    kind: ClassVar[str] = ""
    cutoff_hz: tuple[float, float]

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"cutoff_hz": min(uniform(rng, self.cutoff_hz), _highest_cutoff(info.rate))}

    capped = "cutoff_hz"

    def cap(self, info: AudioInfo) -> float:
        return _highest_cutoff(info.rate)

    def apply(self, samples: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
        return F.butterworth(samples, sample_rate, self.kind, cutoff_hz, self.order, self.zero_phase)


@register("audio")
class LowPass(_CutoffFilter):
    """Butterworth low-pass at a random cutoff (capped just below Nyquist)."""

    kind = "lowpass"
    cutoff_hz = Span([150.0, 7500.0], "cutoff frequency in Hz", lo=1.0, lo_open=True)


@register("audio")
class HighPass(_CutoffFilter):
    """Butterworth high-pass at a random cutoff (capped just below Nyquist)."""

    kind = "highpass"
    cutoff_hz = Span([20.0, 2400.0], "cutoff frequency in Hz", lo=1.0, lo_open=True)


@register("audio")
class BandPass(Filter):
    """Butterworth band-pass around a random centre with a random relative bandwidth."""

    center_hz = Span([200.0, 4000.0], "centre frequency in Hz", lo=1.0, lo_open=True)
    bandwidth_fraction = Span([0.5, 1.5], "bandwidth as a fraction of the centre", lo=0.01, hi=1.99)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        highest = _highest_cutoff(info.rate)
        center = min(uniform(rng, self.center_hz), highest)
        width = uniform(rng, self.bandwidth_fraction) * center
        low = center - width / 2.0
        return {"low_hz": low, "high_hz": max(min(center + width / 2.0, highest), low * 1.01)}

    def apply(self, samples: np.ndarray, sample_rate: int, low_hz: float, high_hz: float) -> np.ndarray:
        return F.butterworth(samples, sample_rate, "bandpass", (low_hz, high_hz), self.order, self.zero_phase)


@register("audio")
class ClippingDistortion(AudioTransform):
    """Hard-clip the loudest part of the signal: a random percentage of samples is clipped."""

    percent = Span([0.0, 40.0], "percentage of samples (by magnitude) that get clipped", lo=0.0, hi=100.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"percent": uniform(rng, self.percent)}

    def apply(self, samples: np.ndarray, sample_rate: int, percent: float) -> np.ndarray:
        return F.clip_top(samples, percent)


@register("audio")
class Normalize(AudioTransform):
    """Scale so the peak sits at `peak_db` dBFS (skipped on silence)."""

    peak_db = Span(0.0, "target peak level in dBFS", lo=-96.0, hi=0.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"peak_db": uniform(rng, self.peak_db)}

    def apply(self, samples: np.ndarray, sample_rate: int, peak_db: float) -> np.ndarray:
        return _not_silent(F.peak_normalize(samples, peak_db), "silent input")


@register("audio")
class Trim(AudioTransform):
    """Strip leading and trailing silence (frames `top_db` below the peak); all-silent audio is kept."""

    top_db = Number(60.0, "how far below the peak counts as silence, dB", lo=0.0, lo_open=True)

    def apply(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return F.trim_silence(samples, self.top_db)


@register("audio")
class PadOrCrop(AudioTransform):
    """Make every copy exactly `duration_s` long: crop longer audio, pad shorter audio with silence."""

    duration_s = Number(doc="target duration in seconds (at most an hour)", lo=0.0, lo_open=True, hi=3600.0)
    position = Choice("random", ["random", "start", "center"], "where the crop is taken / the audio is placed")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        where = {"start": 0.0, "center": 0.5}.get(self.position)
        return {"position": float(rng.random()) if where is None else where}

    def apply(self, samples: np.ndarray, sample_rate: int, position: float) -> np.ndarray:
        frames = max(1, round(self.duration_s * sample_rate))
        slack = abs(samples.shape[-1] - frames)
        return F.pad_or_crop(samples, frames, round(position * slack))


# --- issue #27: reverb, equalisers, distortions, coloured noise, limiter, envelopes ---

IR_LIMIT = 64 << 20  # an impulse-response file larger than this is refused (a response is seconds long)


def _ir_clip(path: str, rate: int) -> np.ndarray:
    """An impulse response at `rate`, scaled to unit energy (decoded once per worker: _clip)."""
    normalised = _normalised_ir(path, rate, *_stamp(path))
    if normalised is None:
        raise InputError(f"impulse response file {path}: the response is silent")
    return normalised


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"impulse response file {path}: {exc.strerror}") from None
    return info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=32)
def _normalised_ir(path: str, rate: int, size: int, mtime_ns: int) -> np.ndarray | None:
    normalised = F.normalize_ir(_clip(path, rate, "impulse response", IR_LIMIT))
    if normalised is not None:
        normalised.flags.writeable = False
    return normalised


@register("audio")
class ImpulseResponse(_AudioFolder):
    """Reverb: convolve with a random impulse response from a folder (resampled, unit energy), wet/dry mixed."""

    path = Text(doc="folder of impulse-response files (wav, flac, ...), relative to the recipe's folder, or a URL")
    mix = Span(1.0, "wet share: 0 = the dry input only, 1 = the reverberated signal only", lo=0.0, hi=1.0)
    what = "impulse response"

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"file": self.files[int(rng.integers(len(self.files)))], "mix": uniform(rng, self.mix)}

    def apply(self, samples: np.ndarray, sample_rate: int, file: str, mix: float) -> np.ndarray:
        return F.convolve_ir(samples, _ir_clip(str(Path(self.folder) / file), sample_rate), mix)


class _Biquad(_Capped):
    """One RBJ cookbook biquad at a frequency capped just below Nyquist."""

    kind: ClassVar[str] = ""

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        key = "center_hz" if "center_hz" in self.params else "cutoff_hz"
        params = {key: min(uniform(rng, getattr(self, key)), _highest_cutoff(info.rate))}
        for extra in ("gain_db", "q"):
            if extra in self.params:
                params[extra] = uniform(rng, getattr(self, extra))
        return params

    @property
    def capped(self) -> str:  # type: ignore[override]
        return "center_hz" if "center_hz" in self.params else "cutoff_hz"

    def cap(self, info: AudioInfo) -> float:
        return _highest_cutoff(info.rate)

    def apply(self, samples: np.ndarray, sample_rate: int, **params: Any) -> np.ndarray:
        freq = params.pop("center_hz", None) or params.pop("cutoff_hz")
        return F.biquads(samples, [F.rbj_biquad(self.kind, freq, sample_rate, **params)])


@register("audio")
class BandStop(_Biquad):
    """Notch out a random frequency (RBJ cookbook notch biquad; q = centre / bandwidth)."""

    kind = "notch"
    center_hz = Span([200.0, 4000.0], "notch frequency in Hz", lo=1.0, lo_open=True)
    q = Span([0.7, 4.0], "quality: centre / -3 dB bandwidth (higher is narrower)", lo=0.05, hi=100.0)


@register("audio")
class PeakingEq(_Biquad):
    """Boost or cut a band around a random centre by a random gain (RBJ cookbook peaking biquad)."""

    kind = "peaking"
    center_hz = Span([100.0, 6000.0], "centre frequency in Hz", lo=1.0, lo_open=True)
    gain_db = Span(12.0, "gain at the centre in dB", scalar="symmetric", lo=-48.0, hi=48.0)
    q = Span([0.5, 4.0], "quality: centre / bandwidth (higher is narrower)", lo=0.05, hi=100.0)


@register("audio")
class LowShelf(_Biquad):
    """Boost or cut below a random frequency (RBJ cookbook low shelf, slope 1; half the gain at the cutoff)."""

    kind = "low_shelf"
    cutoff_hz = Span([50.0, 400.0], "shelf frequency in Hz (the gain is half way there)", lo=1.0, lo_open=True)
    gain_db = Span(12.0, "gain of the shelf in dB", scalar="symmetric", lo=-48.0, hi=48.0)


@register("audio")
class HighShelf(_Biquad):
    """Boost or cut above a random frequency (RBJ cookbook high shelf, slope 1; half the gain at the cutoff)."""

    kind = "high_shelf"
    cutoff_hz = Span([2000.0, 8000.0], "shelf frequency in Hz (the gain is half way there)", lo=1.0, lo_open=True)
    gain_db = Span(12.0, "gain of the shelf in dB", scalar="symmetric", lo=-48.0, hi=48.0)


SEVEN_BANDS_HZ = (100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0)


@register("audio")
class SevenBandEq(AudioTransform):
    """Seven peaking bands an octave apart (100 Hz to 6.4 kHz), each with its own random gain."""

    gain_db = Span(6.0, "each band's gain at its centre in dB", scalar="symmetric", lo=-24.0, hi=24.0)
    q = Number(2.0, "each band's quality: centre / bandwidth", lo=0.05, hi=100.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"gains_db": [uniform(rng, self.gain_db) for _ in SEVEN_BANDS_HZ]}

    def apply(self, samples: np.ndarray, sample_rate: int, gains_db: list[float]) -> np.ndarray:
        return F.biquads(samples, seven_band_sections(sample_rate, gains_db, self.q))


def seven_band_sections(sample_rate: int, gains_db: list[float], q: float) -> list[np.ndarray]:
    """The seven_band_eq cascade; a band at or above 0.95 x Nyquist is left out at this rate."""
    top = _highest_cutoff(sample_rate)
    return [
        F.rbj_biquad("peaking", hz, sample_rate, gain, q)
        for hz, gain in zip(SEVEN_BANDS_HZ, gains_db, strict=True)
        if hz < top and gain != 0.0
    ]


@register("audio")
class TanhDistortion(AudioTransform):
    """Soft-clip with tanh(g x) / tanh(g): odd harmonics, full scale stays full scale."""

    drive_db = Span([0.0, 24.0], "input gain g before the tanh, in dB", lo=-24.0, hi=60.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"drive_db": uniform(rng, self.drive_db)}

    def apply(self, samples: np.ndarray, sample_rate: int, drive_db: float) -> np.ndarray:
        return F.tanh_distortion(samples, drive_db)


@register("audio")
class BitCrush(AudioTransform):
    """Reduce the bit depth: round every sample to a grid of 2^bits levels."""

    bits = Span([4, 12], "bit depth drawn from this range (whole bits)", integer=True, lo=1, hi=24)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        lo, hi = self.bits
        return {"bits": int(lo) if lo == hi else int(rng.integers(lo, hi + 1))}

    def apply(self, samples: np.ndarray, sample_rate: int, bits: int) -> np.ndarray:
        return F.bit_crush(samples, bits)


@register("audio")
class Aliasing(_Capped):
    """Resample to a random lower rate without an anti-aliasing filter, then back: high tones fold down."""

    rate_hz = Span([2000.0, 8000.0], "the low sample rate in Hz (capped at the input's rate)", lo=100.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {"rate_hz": min(uniform(rng, self.rate_hz), float(info.rate))}

    capped = "rate_hz"

    def cap(self, info: AudioInfo) -> float:
        return float(info.rate)

    def apply(self, samples: np.ndarray, sample_rate: int, rate_hz: float) -> np.ndarray:
        return F.aliasing(samples, sample_rate, rate_hz)


@register("audio")
class ColouredNoise(AudioTransform):
    """Add white, pink (1/f) or brown (1/f^2) Gaussian noise at a random SNR (skipped on silence)."""

    colour = Choice("pink", ["white", "pink", "brown", "random"], "noise colour; random draws one per copy")
    snr_db = Span([5.0, 40.0], "signal-to-noise ratio in dB")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        colour = self.colour if self.colour != "random" else sorted(F.NOISE_EXPONENTS)[int(rng.integers(3))]
        return {"colour": colour, "snr_db": uniform(rng, self.snr_db), "seed": draw_seed(rng)}

    def apply(self, samples: np.ndarray, sample_rate: int, colour: str, snr_db: float, seed: int) -> np.ndarray:
        noise = F.coloured_noise(samples.shape, seed, F.NOISE_EXPONENTS[colour])
        return _not_silent(F.mix_at_snr(samples, noise, snr_db), "silent input")


@register("audio")
class Limiter(AudioTransform):
    """Look-ahead peak limiter: no sample leaves louder than the threshold (channels share one gain)."""

    threshold_db = Span([-12.0, -2.0], "ceiling in dBFS", lo=-60.0, hi=0.0)
    attack_ms = Span(5.0, "look-ahead: the gain ramps down over this long before a peak", lo=0.0, hi=100.0)
    release_ms = Span(50.0, "the gain is held this long after a peak before it ramps back", lo=0.0, hi=2000.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {key: uniform(rng, getattr(self, key)) for key in ("threshold_db", "attack_ms", "release_ms")}

    def apply(self, samples: np.ndarray, sample_rate: int, **params: Any) -> np.ndarray:
        return F.limiter(samples, sample_rate, **params)


@register("audio")
class GainTransition(AudioTransform):
    """Fade from one random gain to another over a random span (linear in dB)."""

    gain_db = Span([-24.0, 6.0], "both gains are drawn from this range, dB (can exceed full scale)", lo=-96.0, hi=48.0)
    fraction = Span([0.2, 0.5], "length of the fade as a fraction of the duration", lo=0.0, hi=1.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        fraction = uniform(rng, self.fraction)
        return {
            "start_db": uniform(rng, self.gain_db),
            "end_db": uniform(rng, self.gain_db),
            "fraction": fraction,
            "start": float(rng.uniform(0.0, 1.0 - fraction)),
        }

    def apply(
        self, samples: np.ndarray, sample_rate: int, start_db: float, end_db: float, fraction: float, start: float
    ) -> np.ndarray:
        count = samples.shape[-1]
        return F.gain_transition(samples, start_db, end_db, round(start * count), round(fraction * count))


@register("audio")
class RepeatPart(AudioTransform):
    """Repeat a random part right after itself 1-3 times (inserted, or overwriting what follows)."""

    fraction = Span([0.05, 0.2], "length of the part as a fraction of the duration", lo=0.0, lo_open=True, hi=1.0)
    repeats = Span([1, 3], "how many extra times the part is played", integer=True, lo=1, hi=16)
    mode = Choice("insert", ["insert", "replace"], "insert the repeats (longer copy) or overwrite what follows")

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        fraction = uniform(rng, self.fraction)
        lo, hi = self.repeats
        return {
            "fraction": fraction,
            "start": float(rng.uniform(0.0, 1.0 - fraction)),
            "repeats": int(lo) if lo == hi else int(rng.integers(lo, hi + 1)),
        }

    def apply(self, samples: np.ndarray, sample_rate: int, fraction: float, start: float, repeats: int) -> np.ndarray:
        count = samples.shape[-1]
        length = max(1, round(fraction * count))
        return F.repeat_part(samples, min(round(start * count), count - 1), length, repeats, self.mode == "replace")


# --- issue #27, part 2: a simulated room, MP3 compression, air absorption, short noise bursts ---

ROOM_TRIES = 16  # directions tried for the source before the distance is shortened to fit
ROOM_MARGIN_M = 0.5  # source and microphone stay this far from every wall (a quarter of a smaller side)


@register("audio")
class Room(AudioTransform):
    """Reverb of a simulated shoebox room: random size, absorption (or a target RT60), source and mic positions."""

    rt60 = Span(
        [0.2, 0.8], "reverberation time to reach, seconds (Eyring's formula sets the absorption)", lo=0.05, hi=5.0
    )
    absorption = Span(None, "draw the walls' absorption from this range instead; the RT60 follows", lo=0.01, hi=1.0)
    length_m = Span([3.0, 10.0], "room length, metres", lo=1.0, hi=100.0)
    width_m = Span([3.0, 8.0], "room width, metres", lo=1.0, hi=100.0)
    height_m = Span([2.4, 4.0], "room height, metres", lo=1.0, hi=100.0)
    distance_m = Span([0.5, 3.0], "source to microphone, metres (shorter where the room is too small)", lo=0.05)
    mix = Span(1.0, "wet share: 0 = the dry input only, 1 = the room's sound only", lo=0.0, hi=1.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        from augcli.audio import room

        size = [uniform(rng, self.length_m), uniform(rng, self.width_m), uniform(rng, self.height_m)]
        if self.absorption is None:
            absorption = room.eyring_absorption(tuple(size), uniform(rng, self.rt60))
        else:
            absorption = uniform(rng, self.absorption)
        mic, source = _room_positions(rng, size, uniform(rng, self.distance_m))
        return {
            "size": size,
            "absorption": absorption,
            "rt60": room.eyring_rt60(tuple(size), absorption),
            "source": source,
            "mic": mic,
            "seed": draw_seed(rng),
            "mix": uniform(rng, self.mix),
        }

    recorded_notes = ("rt60",)  # Eyring's prediction for the drawn room, kept for the reader

    def replay_problem(self, params: dict[str, Any], info: AudioInfo) -> str | None:
        """The room's sides within their settings, the walls' absorption in (0, 1], source and
        microphone inside the room."""
        size, absorption = params.get("size"), params.get("absorption")
        if not isinstance(size, list) or len(size) != 3:
            return "size must be [length, width, height] in metres"
        sides = zip(("length_m", "width_m", "height_m"), size, strict=True)
        why = first_problem(range_problem(key, side, getattr(self, key)) for key, side in sides)
        why = why or range_problem("absorption", absorption, self.absorption or (0.0, 1.0))
        if why is None and absorption <= 0:  # walls that absorb nothing ring for ever
            why = f"absorption {absorption!r} is outside the recipe's (0, 1]"
        for key in ("source", "mic") if why is None else ():
            point = params.get(key)
            if not isinstance(point, list) or len(point) != 3:
                return f"{key} must be a point [x, y, z] in metres"
            why = why or first_problem(range_problem(key, v, (0.0, float(s))) for v, s in zip(point, size, strict=True))
        return why or super().replay_problem(params, info)

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        size: list[float],
        absorption: float,
        rt60: float,
        source: list[float],
        mic: list[float],
        seed: int,
        mix: float,
    ) -> np.ndarray:
        """`rt60` is the record's note of Eyring's prediction; the response follows from the room."""
        from augcli.audio import room

        response = room.impulse_response(tuple(size), absorption, tuple(source), tuple(mic), sample_rate, seed)
        return room.reverberate(samples, response, mix)


def _room_positions(rng: np.random.Generator, size: list[float], distance: float) -> tuple[list[float], list[float]]:
    """A microphone anywhere in the room and a source `distance` from it in a random direction, both
    ROOM_MARGIN_M from the walls; where no direction tried leaves room, the farthest one found is used."""
    margins = [min(ROOM_MARGIN_M, side / 4.0) for side in size]
    mic = np.array([uniform(rng, (margin, side - margin)) for margin, side in zip(margins, size, strict=True)])
    low, high = np.array(margins), np.array(size) - margins

    def reach(way: np.ndarray) -> float:  # how far from the mic this way stays within the margins
        with np.errstate(divide="ignore", invalid="ignore"):
            limits = np.where(way > 0, (high - mic) / way, np.where(way < 0, (low - mic) / way, np.inf))
        return float(limits.min())

    best, farthest = np.zeros(3), -1.0
    for _ in range(ROOM_TRIES):
        direction = rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        for way in (direction, -direction):
            if reach(way) > farthest:
                best, farthest = way, reach(way)
        if farthest >= distance:
            break
    source = mic + min(distance, farthest) * best
    return [float(v) for v in mic], [float(v) for v in source]


@register("audio")
class Mp3Compression(AudioTransform):
    """Encode to MP3 at a random bit rate and decode back: codec artefacts, same length and alignment."""

    bitrate = Span(
        [8, 64],
        "constant bit rate in kbit/s (set to the nearest MP3 has at the audio's rate)",
        integer=True,
        lo=8,
        hi=320,
    )

    def check(self) -> list[tuple[str, str]]:
        import soundfile as sf

        if "MP3" not in sf.available_formats():
            return [("bitrate", "this libsndfile cannot read MP3: it needs libsndfile 1.1 or newer, with mpg123")]
        return []

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        lo, hi = self.bitrate
        drawn = int(lo) if lo == hi else int(rng.integers(lo, hi + 1))
        return {"bitrate": F.nearest_mp3_bitrate(drawn, info.rate)}

    def replay_problem(self, params: dict[str, Any], info: AudioInfo) -> str | None:
        """The bit rate MP3 has at this sample rate nearest to some draw of the setting."""
        lo, hi = self.bitrate
        rates = {F.nearest_mp3_bitrate(lo, info.rate), F.nearest_mp3_bitrate(hi, info.rate)}
        why = range_problem("bitrate", params.get("bitrate"), (min(rates), max(rates)), integer=True)
        if why is None and params["bitrate"] not in F.mp3_bitrates(F.mp3_rate(info.rate)):
            why = f"bitrate {params['bitrate']} is not one MP3 has at {info.rate} Hz"
        return why

    def apply(self, samples: np.ndarray, sample_rate: int, bitrate: int) -> np.ndarray:
        return F.mp3_roundtrip(samples, sample_rate, bitrate)


@register("audio")
class AirAbsorption(AudioTransform):
    """Attenuate high frequencies as a random distance of air does (ISO 9613-1, by temperature and humidity)."""

    distance_m = Span([10.0, 100.0], "distance the sound travels through air, metres", lo=0.0, hi=10000.0)
    temperature_c = Span([10.0, 20.0], "air temperature, degrees Celsius", lo=-20.0, hi=50.0)
    humidity = Span([30.0, 90.0], "relative humidity, %", lo=1.0, hi=100.0)

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        return {key: uniform(rng, getattr(self, key)) for key in ("distance_m", "temperature_c", "humidity")}

    def apply(self, samples: np.ndarray, sample_rate: int, **params: Any) -> np.ndarray:
        return F.air_absorption(samples, sample_rate, **params)


_BURST_DRAWS = ("duration_s", "snr_db", "fade_in_s", "fade_out_s")  # a burst's values drawn from settings


@register("audio")
class ShortNoises(_AudioFolder):
    """Add short noise bursts at random times, each at its own SNR with fades (from a folder, or white noise)."""

    path = Text(None, "folder of noise files, relative to the recipe's folder, or a URL; without it: white noise")
    count = Span(
        [1, 4],
        "how many bursts; burst i starts at a random point of the i-th of `count` equal parts",
        integer=True,
        lo=1,
        hi=100,
    )
    duration_s = Span(
        [0.1, 0.5], "length of each burst, seconds (cut at the end of the audio)", lo=0.0, lo_open=True, hi=60.0
    )
    snr_db = Span([0.0, 20.0], "each burst's SNR: the whole input's power over the burst's (fades included)")
    fade_in_s = Span([0.005, 0.08], "linear fade-in of each burst, seconds", lo=0.0, hi=10.0)
    fade_out_s = Span([0.01, 0.1], "linear fade-out of each burst, seconds", lo=0.0, hi=10.0)

    def check_files(self, base_dir: Path) -> list[tuple[str, str]]:
        return [] if self.path is None else super().check_files(base_dir)

    def dependencies(self) -> list[str]:
        return [self.folder] if self.folder else []

    def sample(self, rng: np.random.Generator, info: AudioInfo) -> dict[str, Any]:
        lo, hi = self.count
        count = int(lo) if lo == hi else int(rng.integers(lo, hi + 1))
        bursts = []
        for index in range(count):
            burst = {
                "start": (index + float(rng.random())) / count,
                "duration_s": uniform(rng, self.duration_s),
                "snr_db": uniform(rng, self.snr_db),
                "fade_in_s": uniform(rng, self.fade_in_s),
                "fade_out_s": uniform(rng, self.fade_out_s),
            }
            if self.files:
                burst.update(file=self.files[int(rng.integers(len(self.files)))], offset=float(rng.random()))
            else:
                burst["seed"] = draw_seed(rng)
            bursts.append(burst)
        return {"bursts": bursts}

    def replay_problem(self, params: dict[str, Any], info: AudioInfo) -> str | None:
        """At most `count` bursts, each drawn from the settings: from one of the folder's files
        when the recipe names a folder, else white noise from a seed (never a file)."""
        bursts = params.get("bursts")
        why = list_problem("bursts", bursts, int(self.count[1]))
        if why is not None:
            return why
        drawn = [*((key, getattr(self, key)) for key in _BURST_DRAWS), ("start", (0.0, 1.0))]
        if self.files:
            drawn.append(("offset", (0.0, 1.0)))
        for burst in bursts:
            if not isinstance(burst, dict):
                return f"burst {burst!r} is not a record of one burst"
            if self.files and burst.get("file") not in self.files:
                return f"burst file {burst.get('file')!r} is not one of the files of {self.folder}"
            if not self.files and ("file" in burst or not is_whole(burst.get("seed"))):
                return "a burst of white noise has a seed and no file (the recipe names no folder)"
            why = first_problem(range_problem(key, burst.get(key), setting) for key, setting in drawn)
            if why is not None:
                return why
        return super().replay_problem({k: v for k, v in params.items() if k != "bursts"}, info)

    def apply(self, samples: np.ndarray, sample_rate: int, bursts: list[dict[str, Any]]) -> np.ndarray:
        frames = samples.shape[-1]
        placed = []
        for burst in bursts:
            start = min(round(burst["start"] * frames), frames)
            length = min(round(burst["duration_s"] * sample_rate), frames - start)
            if length <= 0:
                continue
            if "file" in burst:
                noise = _clip(str(Path(self.folder) / burst["file"]), sample_rate, "short noise")
                if noise.shape[0] != samples.shape[0]:  # mono noise goes to every channel; others are mixed down first
                    noise = noise.mean(axis=0, keepdims=True)
                noise = F.loop_to_length(noise, length, int(burst["offset"] * noise.shape[-1]))
            else:
                noise = F.gaussian_noise((1, length), burst["seed"])
            fades = (round(burst["fade_in_s"] * sample_rate), round(burst["fade_out_s"] * sample_rate))
            placed.append((start, noise * F.fade_envelope(length, *fades), burst["snr_db"]))
        return _not_silent(F.add_bursts(samples, placed), "silent input")
