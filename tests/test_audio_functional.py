"""Audio kernels by exact numbers on short synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from augcli.audio import functional as F
from tests.audio_signals import dominant_hz, level_db, sine

RATE = 16000


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    noise = noisy.astype(np.float64) - clean
    return float(10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise**2)))


@pytest.mark.parametrize("semitones", [-2.0, 1.0, 3.5])
def test_pitch_shift_moves_the_frequency_and_keeps_the_duration(semitones):
    tone = sine(440.0)
    shifted = F.pitch_shift(tone, RATE, semitones)
    assert shifted.shape == tone.shape and shifted.dtype == np.float32
    assert dominant_hz(shifted, RATE) == pytest.approx(440.0 * 2 ** (semitones / 12), abs=1.5)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_changes_the_duration_and_keeps_the_pitch(rate):
    tone = sine(440.0, channels=2)
    stretched = F.time_stretch(tone, rate)
    assert stretched.shape == (2, round(RATE / rate))
    assert dominant_hz(stretched, RATE) == pytest.approx(440.0, abs=1.5)
    # both channels went through the same stretch: their ratio survives
    assert np.allclose(stretched[1], 0.5 * stretched[0], atol=1e-4)


@pytest.mark.parametrize("factor", [0.9, 1.25])
def test_speed_changes_duration_and_pitch_together(factor):
    tone = sine(440.0)
    faster = F.speed(tone, factor)
    assert abs(faster.shape[-1] - RATE / factor) <= 1
    assert dominant_hz(faster, RATE) == pytest.approx(440.0 * factor, abs=1.5)


@pytest.mark.parametrize("snr", [0.0, 10.0, 27.5])
def test_mix_at_snr_hits_the_drawn_ratio(snr):
    tone = sine(300.0, channels=2)
    noise = F.gaussian_noise(tone.shape, seed=3)
    noisy = F.mix_at_snr(tone, noise, snr)
    assert snr_db(tone, noisy) == pytest.approx(snr, abs=0.01)


def test_mix_at_snr_on_silence_or_with_silent_noise_declines():
    silent = np.zeros((1, 1000), np.float32)
    assert F.mix_at_snr(silent, F.gaussian_noise(silent.shape, 1), 10.0) is None
    assert F.mix_at_snr(sine(300.0), np.zeros((1, RATE), np.float32), 10.0) is None


def test_gaussian_noise_is_replayable_from_its_seed():
    assert np.array_equal(F.gaussian_noise((2, 50), 9), F.gaussian_noise((2, 50), 9))
    assert not np.array_equal(F.gaussian_noise((2, 50), 9), F.gaussian_noise((2, 50), 10))


def test_loop_to_length_wraps_from_the_start_offset():
    noise = np.arange(5, dtype=np.float32)[None, :]
    assert F.loop_to_length(noise, 8, 3).tolist() == [[3, 4, 0, 1, 2, 3, 4, 0]]


def test_gain_is_exact_in_db():
    tone = sine(100.0, amplitude=0.25)
    assert level_db(F.gain(tone, 6.0)) - level_db(tone) == pytest.approx(6.0, abs=1e-4)


def test_shift_rolls_or_fills_with_silence():
    x = np.arange(1, 6, dtype=np.float32)[None, :]
    assert F.shift(x, 2, rollover=True).tolist() == [[4, 5, 1, 2, 3]]
    assert F.shift(x, 2, rollover=False).tolist() == [[0, 0, 1, 2, 3]]
    assert F.shift(x, -2, rollover=False).tolist() == [[3, 4, 5, 0, 0]]
    assert F.shift(x, 9, rollover=False).tolist() == [[0, 0, 0, 0, 0]]


def test_silence_span_zeroes_exactly_that_span():
    x = np.ones((2, 10), np.float32)
    out = F.silence_span(x, 3, 4)
    assert out.sum(axis=1).tolist() == [6, 6] and not out[:, 3:7].any()
    assert x.all()  # the input is untouched


def tone_level_after_filter(freq: float, kind: str, cutoff, zero_phase: bool = True) -> float:
    tone = sine(freq, amplitude=0.5)
    filtered = F.butterworth(tone, RATE, kind, cutoff, 4, zero_phase)
    middle = slice(RATE // 4, 3 * RATE // 4)  # away from the edges' transients
    return level_db(filtered[:, middle]) - level_db(tone[:, middle])


def test_low_pass_keeps_the_passband_and_removes_the_stopband():
    assert tone_level_after_filter(200.0, "lowpass", 2000.0) == pytest.approx(0.0, abs=0.05)
    assert tone_level_after_filter(6000.0, "lowpass", 1000.0) < -80.0  # 4th order twice: 48 dB/octave


def test_high_pass_and_band_pass():
    assert tone_level_after_filter(100.0, "highpass", 1000.0) < -60.0
    assert tone_level_after_filter(4000.0, "highpass", 500.0) == pytest.approx(0.0, abs=0.05)
    assert tone_level_after_filter(1000.0, "bandpass", (700.0, 1400.0)) == pytest.approx(0.0, abs=0.2)
    assert tone_level_after_filter(5000.0, "bandpass", (700.0, 1400.0)) < -60.0


def test_butterworth_at_the_cutoff_is_3_db_down_once_or_6_db_zero_phase():
    assert tone_level_after_filter(1000.0, "lowpass", 1000.0, zero_phase=False) == pytest.approx(-3.01, abs=0.1)
    assert tone_level_after_filter(1000.0, "lowpass", 1000.0, zero_phase=True) == pytest.approx(-6.02, abs=0.1)


def test_clip_top_clips_the_given_share_of_samples():
    x = np.random.default_rng(0).standard_normal((1, 100_000)).astype(np.float32)
    clipped = F.clip_top(x, 10.0)
    threshold = np.max(np.abs(clipped))
    assert np.mean(np.abs(x) >= threshold) == pytest.approx(0.10, abs=0.001)
    assert np.array_equal(F.clip_top(x, 0.0), x)


def test_peak_normalize_hits_the_target_and_declines_silence():
    assert level_db(F.peak_normalize(sine(50.0, amplitude=0.1), -3.0)) == pytest.approx(-3.0, abs=1e-5)
    assert F.peak_normalize(np.zeros((1, 10), np.float32), 0.0) is None


def test_trim_silence_cuts_the_quiet_ends_only():
    tone = sine(440.0, seconds=0.5)
    padded = np.concatenate([np.zeros((1, 8000), np.float32), tone, np.zeros((1, 8000), np.float32)], axis=1)
    trimmed = F.trim_silence(padded, 60.0)
    assert np.count_nonzero(trimmed) == np.count_nonzero(padded)  # all of the tone is kept
    # librosa measures 2048-sample frames every 512: each end may keep up to 1536 samples of silence
    assert tone.shape[-1] <= trimmed.shape[-1] <= tone.shape[-1] + 2 * 1536
    silent = np.zeros((1, 4000), np.float32)
    assert F.trim_silence(silent, 60.0).shape == silent.shape  # nothing to keep: keep it all


def test_pad_or_crop():
    x = np.arange(1, 6, dtype=np.float32)[None, :]
    assert F.pad_or_crop(x, 3, 1).tolist() == [[2, 3, 4]]
    assert F.pad_or_crop(x, 8, 2).tolist() == [[0, 0, 1, 2, 3, 4, 5, 0]]
    assert F.pad_or_crop(x, 5, 0).tolist() == x.tolist()


def steady_peak_db(samples: np.ndarray) -> float:
    return level_db(samples[:, -RATE // 4 :])  # the last quarter second: past attack and release


@pytest.mark.parametrize(("level", "threshold", "ratio"), [(-6.0, -20.0, 4.0), (-3.0, -30.0, 2.0), (-10.0, -12.0, 8.0)])
def test_compressor_steady_state_matches_the_static_curve(level, threshold, ratio):
    tone = sine(1000.0, amplitude=10 ** (level / 20))
    out = F.compress(tone, RATE, threshold, ratio, attack_ms=2.0, release_ms=50.0, knee_db=0.0, makeup_db=0.0)
    assert steady_peak_db(out) == pytest.approx(threshold + (level - threshold) / ratio, abs=0.5)


def test_compressor_leaves_quiet_signals_alone_and_adds_makeup():
    tone = sine(1000.0, amplitude=10 ** (-30 / 20))
    out = F.compress(tone, RATE, -20.0, 4.0, attack_ms=5.0, release_ms=100.0, knee_db=0.0, makeup_db=3.0)
    assert steady_peak_db(out) == pytest.approx(-27.0, abs=0.05)


def test_compressor_soft_knee_reduces_at_the_threshold_by_a_quarter_of_the_half_knee():
    # at the threshold, a quadratic knee of width W reduces by (1 - 1/R) * W / 8
    tone = sine(1000.0, amplitude=10 ** (-20 / 20))
    out = F.compress(tone, RATE, -20.0, 4.0, attack_ms=1.0, release_ms=200.0, knee_db=8.0, makeup_db=0.0)
    assert steady_peak_db(out) == pytest.approx(-20.0 - 0.75 * 1.0, abs=0.1)


def test_compressor_attack_takes_time_and_channels_share_one_gain():
    quiet, loud = sine(1000.0, amplitude=0.01, seconds=0.5), sine(1000.0, amplitude=0.9, seconds=0.5)
    step = np.concatenate([quiet, loud], axis=1)
    stereo = np.concatenate([step, 0.5 * step])
    out = F.compress(stereo, RATE, -20.0, 10.0, attack_ms=50.0, release_ms=200.0, knee_db=0.0, makeup_db=0.0)
    onset = RATE // 2
    early = level_db(out[:, onset : onset + 80])  # first 5 ms of the loud part: barely reduced yet
    late = level_db(out[:, -800:])
    assert early > late + 6.0
    assert np.allclose(out[1], 0.5 * out[0], atol=1e-6)


def test_kernels_never_write_into_their_input():
    tone = sine(440.0, seconds=0.25, channels=2)
    tone.flags.writeable = False
    F.gain(tone, 3.0)
    F.shift(tone, 100, True)
    F.shift(tone, 100, False)
    F.silence_span(tone, 10, 10)
    F.clip_top(tone, 5.0)
    F.butterworth(tone, RATE, "lowpass", 1000.0, 2, True)
    F.compress(tone, RATE, -20.0, 4.0, 5.0, 50.0, 6.0, 0.0)
    F.time_stretch(tone, 1.1)
    F.pitch_shift(tone, RATE, 1.0)
    F.speed(tone, 1.1)
    F.trim_silence(tone, 60.0)
    F.pad_or_crop(tone, 1000, 0)


def _vocoder_in_float64(stft: np.ndarray, rate: float) -> np.ndarray:
    """librosa's phase-vocoder algorithm computed in float64/complex128: the reference."""
    padded = np.concatenate([stft.astype(np.complex128), np.zeros_like(stft[..., :2], dtype=np.complex128)], axis=-1)
    steps = np.arange(0, stft.shape[-1], rate)
    before, alpha = steps.astype(int), steps % 1
    mag = (1 - alpha) * np.abs(padded[..., before]) + alpha * np.abs(padded[..., before + 1])
    angle = np.angle(padded)
    advance = 512 * 2 * np.pi * np.arange(stft.shape[-2])[:, None] / 2048
    deviation = angle[..., before + 1] - angle[..., before] - advance
    deviation -= 2 * np.pi * np.round(deviation / (2 * np.pi))
    phase = angle[..., :1] + np.concatenate(
        [np.zeros_like(angle[..., :1]), np.cumsum((advance + deviation)[..., :-1], axis=-1)], axis=-1
    )
    return mag * np.exp(1j * phase)


@pytest.mark.parametrize("rate", [0.8, 1.0, 1.13, 1.25])
def test_the_vectorised_vocoder_is_librosas_algorithm_without_its_phase_drift(rate):
    """Frame for frame the algorithm librosa runs (checked against it in float64): its float32 phase
    sum drifts over a long input, this one stays within 1e-4 of the exact values; on a short input,
    where the drift has not built up (the low bins: the high ones advance by up to 512 pi a frame,
    too much for float32 even after a few frames), it agrees with librosa's own output."""
    import librosa

    from augcli.audio import vocoder

    rng = np.random.default_rng(int(rate * 100))
    long = rng.standard_normal((2, 16000 * 8)).astype(np.float32)
    spectrum = librosa.stft(long)
    ours = vocoder.phase_vocoder(spectrum.swapaxes(-1, -2), rate).swapaxes(-1, -2)  # frames first there
    exact = _vocoder_in_float64(spectrum, rate)
    scale = np.abs(exact).max()
    assert ours.shape == exact.shape == (2, 1025, len(np.arange(0, spectrum.shape[-1], rate)))
    assert ours.dtype == np.complex64
    assert np.abs(ours - exact).max() < 1e-4 * scale
    short = librosa.stft(rng.standard_normal(4000).astype(np.float32))
    theirs = librosa.phase_vocoder(short, rate=rate)
    low = slice(0, 64)
    ours = vocoder.phase_vocoder(short.T, rate).T
    assert np.abs(ours[low] - theirs[low]).max() < 1e-4 * np.abs(theirs[low]).max()


def _vocoder_as_first_written(spectrum: np.ndarray, rate: float) -> np.ndarray:
    """The vocoder's float32 steps spelt plainly (a padded copy, np.angle, indexing, a float64 sum
    cast at the end): the bytes its output version 2 promises."""
    steps = np.arange(0, spectrum.shape[-2], rate, dtype=np.float64)
    before = steps.astype(np.intp)
    alpha = (steps - before).astype(np.float32)[:, None]
    padded = np.concatenate([spectrum, np.zeros_like(spectrum[..., :2, :])], axis=-2)
    magnitude = np.abs(padded)
    mag = magnitude[..., before, :] * (1 - alpha)
    mag += alpha * magnitude[..., before + 1, :]
    angle = np.angle(padded)
    turn = (angle[..., before[:-1] + 1, :] - angle[..., before[:-1], :]).astype(np.float64)
    phase = np.concatenate([angle[..., :1, :].astype(np.float64), turn], axis=-2)
    for t in range(1, phase.shape[-2]):  # summed in order, as the vocoder sums
        phase[..., t, :] += phase[..., t - 1, :]
    wrapped = np.rint(phase * (1 / (2 * np.pi)))
    wrapped *= -2 * np.pi
    wrapped = (wrapped + phase).astype(np.float32)
    return (mag * np.cos(wrapped) + 1j * (mag * np.sin(wrapped))).astype(np.complex64)


@pytest.mark.parametrize("channels", [(), (1,), (2,)])
@pytest.mark.parametrize("rate", [0.5, 0.8, 1.0, 1.0594630943592953, 1.25, 2.0])
def test_the_vocoders_bytes_are_those_of_its_plain_spelling(channels, rate):
    """Faster spellings of the same steps may not move a bit: every frame count (1 to 40, so the
    silent frames past the end are read) and rate, mono and stereo."""
    from augcli.audio import vocoder

    rng = np.random.default_rng(len(channels) + int(rate * 10))
    for frames in (1, 2, 3, 40):
        shape = (*channels, frames, 1025)
        spectrum = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
        spectrum[..., :, :4] = 0  # silent bins: angle 0
        ours = vocoder.phase_vocoder(spectrum, rate)
        expected = _vocoder_as_first_written(spectrum, rate)
        assert ours.dtype == expected.dtype and ours.shape == expected.shape
        assert ours.tobytes() == expected.tobytes()


@pytest.mark.parametrize("shape", [(2, 44100), (16000,), (3, 5000), (700,)])
def test_the_stft_is_librosas_and_its_inverse_gives_the_samples_back(shape):
    """Centred periodic-Hann frames of 2048 every 512 samples, zero padded, as librosa.stft makes
    them; and istft(stft(x)) is x again (to float32 rounding), at any length."""
    import warnings

    import librosa

    from augcli.audio import vocoder

    samples = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns that 700 samples are fewer than n_fft
        theirs = librosa.stft(samples)
    ours = vocoder.stft(samples)
    assert ours.dtype == np.complex64 and ours.shape == theirs.swapaxes(-1, -2).shape
    assert np.abs(ours - theirs.swapaxes(-1, -2)).max() < 1e-6 * np.abs(theirs).max()
    back = vocoder.istft(ours, shape[-1])
    assert back.dtype == np.float32 and back.shape == shape
    assert np.abs(back - samples).max() < 1e-5
    longer = vocoder.istft(ours, shape[-1] + 3000)  # past the last frame: padded with silence
    assert longer.shape[-1] == shape[-1] + 3000 and not longer[..., -500:].any()
