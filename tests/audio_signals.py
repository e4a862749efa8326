"""Synthetic signals and measurements shared by the audio tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def sine(freq: float, rate: int = 16000, seconds: float = 1.0, amplitude: float = 0.5, channels: int = 1) -> np.ndarray:
    """A (channels, frames) float32 sine; extra channels get the same tone at half amplitude."""
    t = np.arange(round(rate * seconds)) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    rows = [wave] + [0.5 * wave for _ in range(channels - 1)]
    return np.stack(rows).astype(np.float32)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of the first channel, from a zero-padded FFT (0.25 Hz bins at 16 kHz)."""
    mono = samples[0] * np.hanning(samples.shape[-1])
    size = 1 << 16
    spectrum = np.abs(np.fft.rfft(mono, size))
    return float(np.argmax(spectrum) * rate / size)


def level_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(samples))))


def write_audio(path: Path, samples: np.ndarray, rate: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples.T, rate, **kwargs)
    return path
