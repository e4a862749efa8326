"""mp3_compression by measurement: length, channels and alignment kept, the codec's low-pass by FFT,
and a lower bit rate always costs more signal-to-error ratio."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import signal

from augcli.audio import functional as F
from augcli.audio import transforms as T
from augcli.core.transforms import transforms_for

RATE = 16000


def white(rate: int = RATE, seconds: float = 2.0, channels: int = 1, seed: int = 1) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((channels, round(rate * seconds)))).astype(np.float32)


def band_db(before: np.ndarray, after: np.ndarray, rate: int, lo: float, hi: float) -> float:
    """The output's energy in [lo, hi) Hz over the input's, from one FFT of the whole signal."""
    freqs = np.fft.rfftfreq(before.shape[-1], 1 / rate)
    band = (freqs >= lo) & (freqs < hi)
    energy = [np.sum(np.abs(np.fft.rfft(x[0].astype(np.float64)))[band] ** 2) for x in (before, after)]
    return float(10 * np.log10(energy[1] / energy[0]))


def snr_db(clean: np.ndarray, coded: np.ndarray) -> float:
    return float(10 * np.log10(F.mean_square(clean) / F.mean_square(coded.astype(np.float64) - clean)))


def lag(before: np.ndarray, after: np.ndarray) -> int:
    """Where the output lines up best with the input (0: no codec delay left)."""
    return int(np.argmax(signal.correlate(after[0], before[0], "full"))) - (before.shape[-1] - 1)


@pytest.mark.parametrize(("rate", "bitrate"), [(16000, 16), (16000, 64), (44100, 32), (44100, 128), (8000, 8)])
def test_the_round_trip_keeps_length_channels_and_alignment(rate, bitrate):
    """The stream carries no info frame, so the decoder cannot strip the codec delay itself: the
    round trip cuts it, at every rate and bit rate."""
    noise = white(rate, 1.0, channels=2)
    noise[1] *= 0.5
    out = F.mp3_roundtrip(noise, rate, bitrate)
    assert out.shape == noise.shape and out.dtype == np.float32
    assert not np.allclose(out, noise, atol=1e-3)
    assert lag(noise, out) == 0 and lag(noise[1:], out[1:]) == 0
    assert np.array_equal(out, F.mp3_roundtrip(noise, rate, bitrate))  # replayable


def test_a_low_bit_rate_low_passes_white_noise():
    """At 8 kbit/s (16 kHz) LAME keeps below about 3 kHz: the 4-8 kHz band falls by more than 40 dB
    (60 here), the band below 2 kHz stays within 1 dB; at 24 kbit/s the cut moves up to about 5.8 kHz."""
    noise = white()
    low = F.mp3_roundtrip(noise, RATE, 8)
    assert band_db(noise, low, RATE, 4000, 8000) < -40
    assert abs(band_db(noise, low, RATE, 50, 2000)) < 1
    medium = F.mp3_roundtrip(noise, RATE, 24)
    assert band_db(noise, medium, RATE, 6000, 8000) < -40
    assert band_db(noise, medium, RATE, 4000, 5000) > -6


def test_a_lower_bit_rate_gives_a_larger_error():
    noise = white()
    ratios = [snr_db(noise, F.mp3_roundtrip(noise, RATE, bitrate)) for bitrate in (8, 16, 24, 32, 64)]
    assert ratios == sorted(ratios) and ratios[0] < 1.5 and ratios[-1] > 8  # about 0.6, 2.4, 4.1, 7.1, 9.8 dB
    assert all(later - earlier > 0.5 for earlier, later in itertools.pairwise(ratios))


def test_the_drawn_bit_rate_is_one_mp3_has_at_the_rate():
    def draws(rate: int, **params) -> set[int]:
        transform = transforms_for("audio")["mp3_compression"](**params)
        assert transform.check() == []
        return {
            transform.plan(np.random.default_rng(s), T.AudioInfo(rate, 1))[0][0].params["bitrate"] for s in range(60)
        }

    assert draws(44100, bitrate=[8, 20]) == {32}  # MPEG-1 starts at 32 kbit/s
    assert draws(16000, bitrate=100) == {96}  # between 96 and 112: the nearer
    assert draws(8000, bitrate=[100, 320]) == {64}  # MPEG-2.5 stops at 64
    assert draws(12000, bitrate=[100, 320]) == {64} and draws(16000, bitrate=[170, 320]) == {160}
    assert draws(16000, bitrate=[8, 24]) == {8, 16, 24}
    assert draws(96000) <= set(F.MP3_BITRATES[32000])  # 96 kHz is coded at 48 kHz
    assert F.mp3_rate(20000) == 22050 and F.mp3_rate(96000) == 48000 and F.mp3_rate(6000) == 8000


@pytest.mark.parametrize(("rate", "channels"), [(20000, 1), (96000, 2), (16000, 3)])
def test_rates_mp3_lacks_and_more_channels_keep_their_shape(rate, channels):
    t = np.arange(rate // 2) / rate
    chord = 0.3 * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 1230 * t) * np.linspace(0, 1, t.size))
    tones = np.stack([chord * (k + 1) / channels for k in range(channels)]).astype(np.float32)
    out = F.mp3_roundtrip(tones, rate, 64)
    assert out.shape == tones.shape and np.isfinite(out).all()
    assert lag(tones, out) == 0
    assert snr_db(tones, out) > 20  # tones well inside the codec's band come back close (26 dB here)


def test_very_short_clips_survive():
    for frames in (1, 10, 700):
        clip = white(RATE, frames / RATE)
        assert F.mp3_roundtrip(clip, RATE, 32).shape == clip.shape
