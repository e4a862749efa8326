"""Synthesise the small shipped audio dataset: tones and chirps in two classes, plus noise clips.

Run from the repository root: python scripts/make_sample_audio.py
sample_data/audio/{tone,chirp}/ hold the inputs (16 kHz mono WAV, 22.05 kHz stereo FLAC, one OGG);
sample_data/noise/ holds the background recordings configs/audio.yaml mixes in. Deterministic.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from augcli.audio.ogg import fix_serial

ROOT = Path(__file__).resolve().parent.parent / "sample_data"


def envelope(frames: int, rate: int) -> np.ndarray:
    """20 ms fades and a short silence at both ends, so trim and compress have work to do."""
    env = np.ones(frames)
    fade = int(0.02 * rate)
    env[:fade] = np.linspace(0, 1, fade)
    env[-fade:] = np.linspace(1, 0, fade)
    pad = int(0.1 * rate)
    env[:pad] *= 0
    env[-pad:] *= 0
    env[pad : pad + fade] = np.linspace(0, 1, fade)
    return env


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t) * envelope(t.size, rate)


def chirp(f0: float, f1: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds))
    return 0.4 * np.sin(phase) * envelope(t.size, rate)


def main() -> None:
    rng = np.random.default_rng(11)
    tones, chirps, noise = ROOT / "audio" / "tone", ROOT / "audio" / "chirp", ROOT / "noise"
    for folder in (tones, chirps, noise):
        folder.mkdir(parents=True, exist_ok=True)
    for freq in (220.0, 330.0, 440.0):
        sf.write(tones / f"tone_{int(freq)}.wav", tone(freq, 16000, 1.0), 16000, subtype="PCM_16")
    vorbis = io.BytesIO()  # libsndfile picks a random Ogg serial; fix it so reruns change nothing
    sf.write(vorbis, tone(880.0, 16000, 1.0), 16000, format="OGG", subtype="VORBIS")
    (tones / "tone_880.ogg").write_bytes(fix_serial(vorbis.getvalue()))
    stereo = np.stack([tone(523.25, 22050, 1.0), 0.5 * tone(659.25, 22050, 1.0)], axis=1)
    sf.write(tones / "tone_chord.flac", stereo, 22050, subtype="PCM_16")
    for f0, f1 in ((200.0, 2000.0), (3000.0, 300.0)):
        sf.write(chirps / f"chirp_{int(f0)}_{int(f1)}.wav", chirp(f0, f1, 16000, 1.0), 16000, subtype="PCM_16")
    both = np.stack([chirp(400.0, 4000.0, 22050, 1.0), chirp(4000.0, 400.0, 22050, 1.0)], axis=1)
    sf.write(chirps / "chirp_stereo.flac", both, 22050, subtype="PCM_16")
    white = rng.standard_normal(16000)
    sf.write(noise / "hiss.wav", 0.1 * white, 16000, subtype="PCM_16")
    brown = np.cumsum(rng.standard_normal(16000))
    brown = np.convolve(brown - brown.mean(), np.ones(50) / 50, mode="same")
    sf.write(noise / "rumble.wav", 0.3 * brown / np.abs(brown).max(), 16000, subtype="PCM_16")


if __name__ == "__main__":
    main()
