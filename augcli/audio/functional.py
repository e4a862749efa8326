"""Pure audio kernels: float32 samples (channels, frames) and explicit parameters in, samples out.

No randomness lives here; where a kernel needs noise it takes the seed the transform drew, so the
manifest's parameters replay the output exactly. Every channel moves together: one stretch, one
gain curve, one mask for all of them. Kernels return new arrays and never write into their input.
"""

from __future__ import annotations

import math

import numpy as np

SILENCE = 1e-10  # mean square below this is treated as silence (about -100 dBFS)


def mean_square(samples: np.ndarray) -> float:
    return float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0


def db_to_amplitude(db: float) -> float:
    return 10.0 ** (db / 20.0)


def gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    return samples * np.float32(db_to_amplitude(gain_db))


def mix_at_snr(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray | None:
    """Add `noise` scaled so that signal power / noise power = snr_db; None if either is silent.

    Powers are means over all channels, so a stereo file keeps its balance.
    """
    signal_power, noise_power = mean_square(samples), mean_square(noise)
    if signal_power < SILENCE or noise_power < SILENCE:
        return None
    scale = math.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (samples + np.float32(scale) * noise).astype(np.float32)


def gaussian_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def loop_to_length(noise: np.ndarray, frames: int, start: int) -> np.ndarray:
    """`frames` frames of `noise` from `start` on, wrapping around as often as needed."""
    index = (start + np.arange(frames)) % noise.shape[-1]
    return noise[..., index]


def time_stretch(samples: np.ndarray, rate: float) -> np.ndarray:
    """Tempo times `rate` (2 = twice as fast), pitch unchanged: a phase vocoder (see vocoder.py)."""
    from augcli.audio import vocoder

    return vocoder.time_stretch(np.asarray(samples, dtype=np.float32), rate)


def pitch_shift(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Pitch up by `semitones`, duration unchanged: phase-vocoder stretch, then soxr_hq resampling."""
    from augcli.audio import vocoder

    rate = 2.0 ** (-float(semitones) / 12)
    stretched = vocoder.time_stretch(np.asarray(samples, dtype=np.float32), rate)
    shifted = resample(stretched, sample_rate / rate, sample_rate)
    frames = samples.shape[-1]
    if shifted.shape[-1] < frames:
        shifted = np.pad(shifted, [(0, 0)] * (shifted.ndim - 1) + [(0, frames - shifted.shape[-1])])
    return np.ascontiguousarray(shifted[..., :frames])


def resample(samples: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """The same sound at another sample rate (soxr, high quality)."""
    import soxr

    changed = soxr.resample(np.ascontiguousarray(samples.T), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(changed.T, dtype=np.float32)


def speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play `factor` times faster: duration / factor, every frequency * factor (a resampling)."""
    return resample(samples, factor, 1.0)


def shift(samples: np.ndarray, frames: int, rollover: bool) -> np.ndarray:
    """Move the audio `frames` later (earlier if negative); what leaves one end wraps or is silence."""
    if rollover:
        return np.roll(samples, frames, axis=-1)
    out = np.zeros_like(samples)
    count = samples.shape[-1]
    if frames >= 0:
        out[:, frames:] = samples[:, : max(count - frames, 0)]
    else:
        out[:, : count + frames] = samples[:, -frames:]
    return out


def silence_span(samples: np.ndarray, start: int, length: int) -> np.ndarray:
    out = samples.copy()
    out[:, start : start + length] = 0.0
    return out


def butterworth(
    samples: np.ndarray,
    sample_rate: int,
    kind: str,
    cutoff_hz: float | tuple[float, float],
    order: int,
    zero_phase: bool,
) -> np.ndarray:
    """A Butterworth low/high/band-pass filter in second-order sections (stable at high orders).

    With `zero_phase` the filter runs forwards and backwards: no delay, the magnitude response squared.
    """
    from scipy import signal

    sections = signal.butter(order, cutoff_hz, btype=kind, fs=sample_rate, output="sos")
    if not zero_phase:
        return signal.sosfilt(sections, samples, axis=-1).astype(np.float32)
    trailing_zeros = min(int((sections[:, 2] == 0).sum()), int((sections[:, 5] == 0).sum()))
    padding = 3 * (2 * len(sections) + 1 - trailing_zeros)  # scipy's own default pad length for sosfiltfilt
    if samples.shape[-1] <= padding:
        raise ValueError(f"{samples.shape[-1]} samples are too few for a zero-phase filter (it needs {padding + 1})")
    return signal.sosfiltfilt(sections, samples, axis=-1, padlen=padding).astype(np.float32)


def clip_top(samples: np.ndarray, percent: float) -> np.ndarray:
    """Clip the loudest `percent` % of samples (by magnitude) to the magnitude below them."""
    if percent <= 0:
        return samples.copy()
    threshold = np.float32(np.percentile(np.abs(samples), 100.0 - percent))
    return np.clip(samples, -threshold, threshold)


def peak_normalize(samples: np.ndarray, peak_db: float) -> np.ndarray | None:
    """Scale so the largest magnitude is `peak_db` dBFS; None for silence."""
    peak = float(np.max(np.abs(samples)))
    if peak * peak < SILENCE:
        return None
    return samples * np.float32(db_to_amplitude(peak_db) / peak)


def trim_silence(samples: np.ndarray, top_db: float) -> np.ndarray:
    """Cut leading and trailing frames quieter than `top_db` below the peak (librosa's RMS frames)."""
    import librosa

    trimmed, _ = librosa.effects.trim(samples, top_db=top_db)
    return trimmed if trimmed.shape[-1] else samples.copy()


def pad_or_crop(samples: np.ndarray, frames: int, offset: int) -> np.ndarray:
    """Exactly `frames` long: a longer input is cut from `offset`; a shorter one is placed at `offset` in silence."""
    count = samples.shape[-1]
    if count >= frames:
        return samples[:, offset : offset + frames].copy()
    out = np.zeros((samples.shape[0], frames), dtype=samples.dtype)
    out[:, offset : offset + count] = samples
    return out


def compress(
    samples: np.ndarray,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    attack_ms: float,
    release_ms: float,
    knee_db: float,
    makeup_db: float,
) -> np.ndarray:
    """Dynamic range compression; channels are linked (one gain curve from the loudest channel)."""
    from augcli.audio.envelope import gain_reduction_db

    def coefficient(ms: float) -> float:
        return math.exp(-1.0 / (ms / 1000.0 * sample_rate)) if ms > 0 else 0.0

    level = np.max(np.abs(samples), axis=0)
    level_db = (20.0 * np.log10(np.maximum(level, 1e-9))).astype(np.float32)
    reduction = gain_reduction_db(
        level_db, threshold_db, ratio, knee_db, coefficient(attack_ms), coefficient(release_ms)
    )
    curve = np.power(np.float32(10.0), (np.float32(makeup_db) - reduction) / np.float32(20.0))
    return samples * curve
