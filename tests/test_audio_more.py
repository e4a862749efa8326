"""The audio transforms of issue #27, each by a measurement: FFT gains, levels, decay, slopes, samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from augcli.audio import functional as F
from augcli.audio import transforms as T
from augcli.core.transforms import transforms_for
from tests.audio_signals import dominant_hz, sine, write_audio
from tests.test_cli import invoke, read_manifest

RATE = 16000


def build(name: str, base: Path = Path("."), **params):
    transform = transforms_for("audio")[name](**params)
    assert transform.check() == [] and transform.check_files(base) == []
    return transform


def draw(transform, rate=RATE, channels=1, seed=0) -> dict:
    (applied,), _ = transform.plan(np.random.default_rng(seed), T.AudioInfo(rate, channels))
    return applied.params


def gain_at_db(before: np.ndarray, after: np.ndarray, freq: float, rate: int = RATE) -> float:
    """The gain at `freq`, from the FFT bins of the last second (past the filter's transient)."""
    tail = slice(-rate, None)
    window = np.hanning(rate)
    bin_ = round(freq * rate / rate)  # one-second windows: 1 Hz bins

    def magnitude(x):
        return np.abs(np.fft.rfft(x[0, tail].astype(np.float64) * window))[bin_]

    return float(20 * np.log10(magnitude(after) / magnitude(before)))


# --- impulse_response -------------------------------------------------------------------------------


def decaying_ir(rate: int, rt60: float, seconds: float, seed: int = 1) -> np.ndarray:
    """Exponentially decaying noise: energy falls 60 dB in rt60 seconds."""
    t = np.arange(round(rate * seconds)) / rate
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (noise * 10 ** (-3 * t / rt60)).astype(np.float32)[None]


@pytest.fixture
def ir_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "irs"
    write_audio(folder / "hall.wav", decaying_ir(8000, 0.4, 0.6), 8000, subtype="FLOAT")
    write_audio(folder / "b_room.flac", decaying_ir(RATE, 0.2, 0.3, seed=2), RATE)
    write_audio(folder / ".hidden.wav", decaying_ir(RATE, 0.2, 0.3), RATE)
    (folder / "readme.txt").write_text("not audio")
    return folder


def test_an_impulse_through_the_kernel_gives_the_response_back():
    ir = np.array([[1.0, 0.5, -0.25, 0.125]], np.float32)
    impulse = np.zeros((2, 10), np.float32)
    impulse[:, 0] = 1.0
    out = F.convolve_ir(impulse, ir, 1.0)
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out[:, :4], np.repeat(ir, 2, axis=0), atol=1e-7)
    assert np.abs(out[:, 4:]).max() < 1e-7  # FFT rounding only
    half = F.convolve_ir(impulse, ir, 0.25)  # wet/dry: 0.75 dry + 0.25 wet
    np.testing.assert_allclose(half[0, :4], [1.0, 0.125, -0.0625, 0.03125], atol=1e-7)
    normal = F.normalize_ir(ir * 7)
    assert np.isclose(np.sum(np.square(normal, dtype=np.float64)), 1.0)
    assert F.normalize_ir(np.zeros((1, 5), np.float32)) is None


def test_impulse_response_lists_the_folder_sorted_and_resamples_and_normalises(ir_folder):
    transform = build("impulse_response", ir_folder.parent, path="irs")
    assert transform.files == ("b_room.flac", "hall.wav")
    impulse = np.zeros((1, RATE), np.float32)
    impulse[0, 0] = 1.0
    out = transform.apply(impulse, RATE, file="hall.wav", mix=1.0)
    assert np.isclose(np.sum(np.square(out, dtype=np.float64)), 1.0, atol=1e-3)  # unit energy
    assert np.abs(out[0, round(0.6 * RATE) + 64 :]).max() < 1e-3  # 0.6 s at 8 kHz is 0.6 s at 16 kHz
    again = transform.apply(impulse, RATE, file="hall.wav", mix=1.0)
    assert np.array_equal(out, again)
    assert T._normalised_ir.cache_info().hits >= 1  # decoded once per process


def test_a_reverb_tail_decays_at_the_responses_rate(ir_folder):
    """Schroeder backward integration of a click through a 0.4 s RT60 hall: -60 dB in 0.4 s."""
    transform = build("impulse_response", ir_folder.parent, path="irs")
    click = np.zeros((1, RATE), np.float32)
    click[0, 100] = 1.0
    tail = transform.apply(click, RATE, file="hall.wav", mix=1.0)[0, 100:].astype(np.float64)
    energy = np.cumsum(np.square(tail)[::-1])[::-1]
    decay_db = 10 * np.log10(energy / energy[0])
    t = np.arange(tail.size) / RATE
    span = (decay_db < -5) & (decay_db > -35)
    slope = np.polyfit(t[span], decay_db[span], 1)[0]
    assert slope == pytest.approx(-60 / 0.4, rel=0.1)
    dry = transform.apply(click, RATE, file="hall.wav", mix=0.0)
    assert np.array_equal(dry, click)


def test_impulse_response_folder_problems_are_recipe_errors(tmp_path):
    missing = transforms_for("audio")["impulse_response"](path="nowhere")
    assert "does not exist" in missing.check_files(tmp_path)[0][1]
    (tmp_path / "empty").mkdir()
    empty = transforms_for("audio")["impulse_response"](path="empty")
    assert "holds no audio files" in empty.check_files(tmp_path)[0][1]


# --- equalisers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_peaking_eq_hits_the_drawn_gain_at_the_centre(seed):
    transform = build("peaking_eq", center_hz=[200.0, 5000.0])
    params = draw(transform, seed=seed)
    freq = round(params["center_hz"])
    params["center_hz"] = float(freq)  # a whole-Hz centre sits on an FFT bin
    tone = sine(freq, RATE, 2.0)
    measured = gain_at_db(tone, transform.apply(tone, RATE, **params), freq)
    assert measured == pytest.approx(params["gain_db"], abs=0.5)


def test_shelves_reach_their_gain_beyond_the_shelf_and_half_of_it_at_the_cutoff():
    low = build("low_shelf", cutoff_hz=400.0, gain_db=9.0)
    high = build("high_shelf", cutoff_hz=2000.0, gain_db=[-9.0, -9.0])
    for transform, far, at in ((low, 40, 400), (high, 7000, 2000)):
        params = draw(transform)
        for freq, expected in ((far, params["gain_db"]), (at, params["gain_db"] / 2)):
            tone = sine(freq, RATE, 2.0)
            assert gain_at_db(tone, transform.apply(tone, RATE, **params), freq) == pytest.approx(expected, abs=0.5)


def test_band_stop_notches_its_centre_and_passes_far_away():
    transform = build("band_stop", center_hz=1000.0, q=2.0)
    params = draw(transform)
    tone = sine(1000, RATE, 2.0)
    assert gain_at_db(tone, transform.apply(tone, RATE, **params), 1000) < -40
    for far in (100, 6000):
        tone = sine(far, RATE, 2.0)
        assert abs(gain_at_db(tone, transform.apply(tone, RATE, **params), far)) < 0.5


def test_seven_band_eq_draws_a_gain_per_band_and_each_band_hits_it():
    transform = build("seven_band_eq")
    gains = draw(transform, seed=3)["gains_db"]
    assert len(gains) == 7 and len(set(gains)) == 7 and all(-6 <= g <= 6 for g in gains)
    for band, freq in enumerate(T.SEVEN_BANDS_HZ):
        alone = [0.0] * 7
        alone[band] = gains[band]
        tone = sine(freq, RATE, 2.0)
        measured = gain_at_db(tone, transform.apply(tone, RATE, gains_db=alone), freq)
        assert measured == pytest.approx(gains[band], abs=0.5)
    # all seven together: the measured gain is the designed cascade's
    sos = np.stack(T.seven_band_sections(RATE, gains, transform.q))
    for freq in (100, 800, 3200):
        tone = sine(freq, RATE, 2.0)
        _, response = signal.sosfreqz(sos, worN=[freq], fs=RATE)
        designed = 20 * np.log10(abs(response[0]))
        assert gain_at_db(tone, transform.apply(tone, RATE, gains_db=gains), freq) == pytest.approx(designed, abs=0.5)
    # a band at or above 0.95 x Nyquist is left out (6.4 kHz at 8 kHz)
    assert len(T.seven_band_sections(8000, [1.0] * 7, 2.0)) == 6


# --- distortions ----------------------------------------------------------------------------------------


def test_tanh_distortion_keeps_full_scale_and_adds_odd_harmonics_growing_with_drive():
    tone = sine(500, RATE, 1.0, amplitude=1.0)
    for drive in (0.0, 12.0, 30.0):
        assert np.abs(F.tanh_distortion(tone, drive)).max() <= 1.0 + 1e-6
        ends = F.tanh_distortion(np.array([[1.0, -1.0, 0.0]], np.float32), drive)
        assert np.allclose(ends, [[1.0, -1.0, 0.0]], atol=1e-6)  # full scale stays full scale

    def harmonic_db(x, k):
        spectrum = np.abs(np.fft.rfft(x[0].astype(np.float64) * np.hanning(RATE)))
        return 20 * np.log10(spectrum[500 * k] / spectrum[500])

    soft, hard = F.tanh_distortion(tone * 0.5, 0.0), F.tanh_distortion(tone * 0.5, 18.0)
    assert harmonic_db(soft, 3) < harmonic_db(hard, 3)
    assert harmonic_db(hard, 3) > -20
    assert harmonic_db(hard, 2) < -80  # odd symmetry: no even harmonics


def test_bit_crush_rounds_to_the_grid():
    tone = sine(440, RATE, 0.5, amplitude=0.7)
    for bits in (3, 8):
        out = F.bit_crush(tone, bits)
        steps = 2 ** (bits - 1)
        assert np.allclose(out * steps, np.round(out * steps), atol=1e-4)
        assert len(np.unique(out)) <= 2**bits
        assert np.abs(out - tone).max() <= 0.5 / steps + 1e-6
    transform = build("bit_crush", bits=[4, 6])
    assert {draw(transform, seed=s)["bits"] for s in range(40)} == {4, 5, 6}


def test_aliasing_folds_a_high_tone_down():
    tone = sine(3000, RATE, 1.0)
    out = F.aliasing(tone, RATE, 4000.0)
    assert dominant_hz(out, RATE) == pytest.approx(1000, abs=2)  # 4000 - 3000
    before, after = (np.abs(np.fft.rfft(x[0] * np.hanning(RATE))) for x in (tone, out))
    assert 20 * np.log10(after[1000] / before[3000]) > -3  # folded at full level: nothing filtered it first
    low = sine(300, RATE, 1.0)
    assert dominant_hz(F.aliasing(low, RATE, 4000.0), RATE) == pytest.approx(300, abs=2)


# --- coloured noise -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("colour", "slope"), [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_coloured_noise_has_its_spectral_slope(colour, slope):
    noise = F.coloured_noise((1, 4 * RATE), 11, F.NOISE_EXPONENTS[colour])
    freqs, power = signal.welch(noise[0], RATE, nperseg=4096)
    band = (freqs >= 50) & (freqs <= 5000)
    fitted = np.polyfit(np.log10(freqs[band]), np.log10(power[band]), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.3)


def test_coloured_noise_hits_the_snr_and_replays_from_its_seed():
    transform = build("coloured_noise", colour="brown", snr_db=20.0)
    params = draw(transform)
    tone = sine(440, RATE, 1.0)
    out = transform.apply(tone, RATE, **params)
    noise_power = F.mean_square(out - tone)
    assert 10 * np.log10(F.mean_square(tone) / noise_power) == pytest.approx(20.0, abs=0.01)
    assert np.array_equal(out, transform.apply(tone, RATE, **params))
    colours = {draw(build("coloured_noise", colour="random"), seed=s)["colour"] for s in range(30)}
    assert colours == {"white", "pink", "brown"}
    with pytest.raises(T.Skipped):
        transform.apply(np.zeros((1, 100), np.float32), RATE, **params)


# --- limiter, gain transition, repeat part --------------------------------------------------------------


@pytest.mark.parametrize("threshold_db", [-1.0, -6.0, -20.0])
def test_the_limiter_never_lets_a_peak_above_the_threshold(threshold_db):
    rng = np.random.default_rng(4)
    loud = (rng.standard_normal((2, RATE)) * np.linspace(0.01, 2.0, RATE)).astype(np.float32)
    loud[1, 5000] = 3.0  # one lone spike in one channel
    out = F.limiter(loud, RATE, threshold_db, 5.0, 50.0)
    limit = 10 ** (threshold_db / 20)
    assert np.abs(out).max() <= limit * (1 + 1e-6)
    quiet = loud[:, :200] * 0.001  # well below: untouched
    assert np.array_equal(F.limiter(quiet, RATE, threshold_db, 5.0, 50.0), quiet)
    # channels share one gain: the spike in channel 1 turns channel 0 down at the same frame
    assert abs(out[0, 5000]) < abs(loud[0, 5000]) or loud[0, 5000] == 0


def test_the_limiter_ramps_its_gain_before_a_peak():
    steady = np.full((1, 2000), 0.1, np.float32)
    steady[0, 1000] = 1.0
    out = F.limiter(steady, 16000, -6.0, 5.0, 5.0)  # 80 frames of look-ahead
    gain = out[0] / steady[0]
    assert gain[1000] <= 10 ** (-6 / 20) / 1.0 * (1 + 1e-6)
    assert gain[:900].min() == 1.0 and gain[1000 - 80 : 1000].max() < 1.0
    assert np.all(np.diff(gain[1000 - 80 : 1001]) <= 1e-7)  # falls smoothly into the peak


def test_gain_transition_envelope_is_linear_in_db_over_the_drawn_span():
    transform = build("gain_transition", gain_db=[-20.0, 0.0], fraction=0.25)
    params = draw(transform, seed=2)
    constant = np.full((2, 8000), 0.5, np.float32)
    out = transform.apply(constant, RATE, **params)
    envelope_db = 20 * np.log10(out[0] / 0.5)
    start, length = round(params["start"] * 8000), round(0.25 * 8000)
    assert np.allclose(envelope_db[:start], params["start_db"], atol=1e-4)
    assert np.allclose(envelope_db[start + length :], params["end_db"], atol=1e-4)
    middle = envelope_db[start : start + length]
    expected = params["start_db"] + (params["end_db"] - params["start_db"]) * np.arange(length) / length
    assert np.allclose(middle, expected, atol=1e-4)
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("mode", ["insert", "replace"])
def test_repeat_part_repeats_exactly_the_drawn_samples(mode):
    transform = build("repeat_part", mode=mode, repeats=[2, 2])
    ramp = np.arange(1000, dtype=np.float32)[None] / 1000
    params = draw(transform, seed=5)
    out = transform.apply(ramp, RATE, **params)
    start, length = round(params["start"] * 1000), round(params["fraction"] * 1000)
    part = ramp[0, start : start + length]
    expected = np.concatenate([ramp[0, : start + length], part, part, ramp[0, start + length :]])
    if mode == "replace":
        expected = expected[:1000]
    assert np.array_equal(out[0], expected)


def test_every_new_transform_keeps_channels_and_draws_json_params(ir_folder):
    names = [
        "impulse_response", "band_stop", "peaking_eq", "low_shelf", "high_shelf", "seven_band_eq",
        "tanh_distortion", "bit_crush", "aliasing", "coloured_noise", "limiter", "gain_transition", "repeat_part",
    ]  # fmt: skip
    for name in names:
        extra = {"path": "irs"} if name == "impulse_response" else {}
        transform = build(name, ir_folder.parent, **extra)
        for rate, channels in ((8000, 1), (44100, 2)):
            tone = sine(440.0, rate, 0.5, channels=channels)
            tone.flags.writeable = False
            params = draw(transform, rate, channels)
            out = transform.apply(tone, rate, **params)
            assert out.dtype == np.float32 and out.shape[0] == channels and np.isfinite(out).all(), name


# --- end to end: run, then replay every copy from its manifest records -------------------------------


def test_a_run_with_the_new_transforms_replays_to_identical_bytes(tmp_path, ir_folder):
    data = tmp_path / "data"
    write_audio(data / "a.wav", sine(440.0, RATE, 0.5), RATE, subtype="PCM_16")
    write_audio(data / "b.flac", sine(300.0, 22050, 0.5, channels=2), 22050, subtype="PCM_24")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 5\ncopies: 2\naudio:\n  transforms:\n"
        "    - impulse_response: {path: irs, mix: [0.3, 0.9]}\n"
        "    - seven_band_eq: {p: 0.5}\n    - band_stop: {p: 0.5}\n    - peaking_eq: {p: 0.5}\n"
        "    - coloured_noise: {p: 0.5, colour: random}\n    - tanh_distortion: {p: 0.5}\n"
        "    - repeat_part: {p: 0.5}\n    - gain_transition: {p: 0.5}\n    - limiter: {threshold_db: -3}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "--workers", "1")
    assert result.exit_code == 0, result.output
    copies = [row for row in read_manifest(out) if row["kind"] == "copy"]
    assert len(copies) == 4 and all("impulse_response" in row["transforms"] for row in copies)
    replayed = invoke("replay", out, "--all")
    assert replayed.exit_code == 0, replayed.output
    rows = len(read_manifest(out))
    assert f"{rows} rows replayed: {rows} identical, 0 differ" in replayed.output
