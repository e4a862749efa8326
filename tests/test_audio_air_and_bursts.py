"""air_absorption against ISO 9613's table and by FFT; short_noises by where its bursts land and
the SNR each one has."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augcli.audio import functional as F
from augcli.audio import transforms as T
from augcli.core.transforms import transforms_for
from tests.audio_signals import sine, write_audio
from tests.test_cli import invoke, read_manifest

RATE = 16000
OCTAVES_HZ = 1000 * 10 ** (0.3 * np.arange(-4, 4))  # ISO's exact mid-band frequencies, 63 Hz to 8 kHz

# ISO 9613-2 Table 2: atmospheric attenuation in dB/km at 101.325 kPa, 63 Hz to 8 kHz
ISO_TABLE = {
    (10.0, 70.0): [0.1, 0.4, 1.0, 1.9, 3.7, 9.7, 32.8, 117],
    (20.0, 70.0): [0.1, 0.3, 1.1, 2.8, 5.0, 9.0, 22.9, 76.6],
    (30.0, 70.0): [0.1, 0.3, 1.0, 3.1, 7.4, 12.7, 23.1, 59.3],
    (15.0, 20.0): [0.3, 0.6, 1.2, 2.7, 8.2, 28.2, 88.8, 202],
    (15.0, 50.0): [0.1, 0.5, 1.2, 2.2, 4.2, 10.8, 36.2, 129],
    (15.0, 80.0): [0.1, 0.3, 1.1, 2.4, 4.1, 8.3, 23.7, 82.8],
}


def build(name: str, base: Path = Path("."), **params):
    transform = transforms_for("audio")[name](**params)
    assert transform.check() == [] and transform.check_files(base) == []
    return transform


def draw(transform, rate: int = RATE, channels: int = 1, seed: int = 0) -> dict:
    (applied,), _ = transform.plan(np.random.default_rng(seed), T.AudioInfo(rate, channels))
    return applied.params


# --- air_absorption -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("weather", "table"), list(ISO_TABLE.items()))
def test_the_attenuation_per_metre_is_iso_9613s(weather, table):
    computed = F.air_attenuation_db(OCTAVES_HZ, *weather) * 1000  # dB/km
    for value, listed in zip(computed, table, strict=True):
        assert value == pytest.approx(listed, abs=0.06 if listed < 100 else 0.5)  # half the last digit, plus 0.01


def test_high_bands_lose_more_than_low_ones_by_the_isos_amount():
    """100 m of air at 20 C and 70 % humidity, measured on white noise by FFT: -0.50 dB at 1 kHz,
    -0.90 at 2 kHz, -2.29 at 4 kHz, -7.66 at 8 kHz (each within 0.02 dB of 100 x the ISO rate)."""
    rate = 44100
    noise = (0.1 * np.random.default_rng(1).standard_normal((2, 2 * rate))).astype(np.float32)
    out = build("air_absorption").apply(noise, rate, distance_m=100.0, temperature_c=20.0, humidity=70.0)
    assert out.shape == noise.shape and out.dtype == np.float32
    freqs = np.fft.rfftfreq(noise.shape[-1], 1 / rate)
    before, after = (np.abs(np.fft.rfft(x.astype(np.float64), axis=-1)) ** 2 for x in (noise, out))
    measured = []
    for freq, per_km in zip(OCTAVES_HZ[4:], ISO_TABLE[(20.0, 70.0)][4:], strict=True):
        near = np.abs(freqs - freq) <= 10
        gain_db = 10 * np.log10(after[:, near].sum() / before[:, near].sum())
        assert gain_db == pytest.approx(-per_km / 10, abs=0.02 + 0.005 * per_km)  # table rounding, 100 m
        assert gain_db == pytest.approx(-100 * F.air_attenuation_db(np.array([freq]), 20.0, 70.0)[0], abs=0.02)
        measured.append(gain_db)
    assert measured == sorted(measured, reverse=True) and measured[-1] < -7.5


def test_no_distance_changes_nothing_and_nothing_moves_in_time():
    transform = build("air_absorption")
    tone = sine(300.0, RATE, 0.5, channels=2)
    assert np.array_equal(transform.apply(tone, RATE, distance_m=0.0, temperature_c=20.0, humidity=50.0), tone)
    click = np.zeros((1, 4000), np.float32)
    click[0, 1234] = 1.0
    far = transform.apply(click, RATE, distance_m=500.0, temperature_c=20.0, humidity=50.0)
    assert int(np.argmax(far[0])) == 1234  # zero phase: the click is duller, not later
    assert float(np.sum(far)) == pytest.approx(1.0, abs=1e-6)  # 0 Hz passes untouched


def test_air_absorption_draws_its_weather():
    params = draw(build("air_absorption", distance_m=[5.0, 50.0], humidity=[40.0, 40.0]))
    assert 5 <= params["distance_m"] <= 50 and params["humidity"] == 40.0 and 10 <= params["temperature_c"] <= 20


# --- short_noises -------------------------------------------------------------------------------------


def spans(params: dict, frames: int, rate: int = RATE) -> list[tuple[int, int]]:
    """Where each recorded burst sits: from round(start x frames), round(duration_s x rate) long, cut at the end."""
    out = []
    for burst in params["bursts"]:
        start = round(burst["start"] * frames)
        out.append((start, min(start + round(burst["duration_s"] * rate), frames)))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_bursts_land_where_the_record_says_at_their_snr(seed):
    transform = build("short_noises", count=[2, 5], snr_db=[-5.0, 25.0])
    tone = sine(440.0, RATE, 6.0, channels=2)
    params = draw(transform, channels=2, seed=seed)
    out = transform.apply(tone, RATE, **params)
    added = out.astype(np.float64) - tone
    touched = np.zeros(tone.shape[-1], bool)
    for (start, end), burst in zip(spans(params, tone.shape[-1]), params["bursts"], strict=True):
        assert np.all(added[:, start:end] != 0)  # the whole burst, its first and last sample too
        touched[start:end] = True
        measured = 10 * np.log10(F.mean_square(tone) / F.mean_square(added[:, start:end]))
        assert measured == pytest.approx(burst["snr_db"], abs=0.1)
    assert np.array_equal(out[:, ~touched], tone[:, ~touched])  # every other sample untouched, bit for bit
    assert 2 <= len(params["bursts"]) <= 5
    starts = [burst["start"] for burst in params["bursts"]]
    count = len(starts)
    assert all(k / count <= s < (k + 1) / count for k, s in enumerate(starts))  # one per part, in order


def test_a_bursts_fades_are_linear_ramps():
    """White noise from the recorded seed times the envelope, scaled: the ratio is the envelope."""
    transform = build("short_noises", count=1, duration_s=0.25, fade_in_s=0.05, fade_out_s=0.1, snr_db=-20.0)
    tone = sine(200.0, RATE, 1.0)
    params = draw(transform)
    (burst,) = params["bursts"]
    (start, end), length = spans(params, RATE)[0], 4000
    added = (transform.apply(tone, RATE, **params).astype(np.float64) - tone)[0, start:end]
    shape = added / F.gaussian_noise((1, length), burst["seed"])[0]
    envelope = shape / shape[1000:2000].mean()  # flat between the fades
    assert np.allclose(envelope[800:2400], 1.0, atol=1e-4)
    np.testing.assert_allclose(envelope[:800], (np.arange(800) + 0.5) / 800, atol=1e-4)  # 50 ms in
    np.testing.assert_allclose(envelope[2400:], (np.arange(1600, 0, -1) - 0.5) / 1600, atol=1e-4)  # 100 ms out
    assert np.array_equal(F.fade_envelope(10, 8, 8), F.fade_envelope(10, 5, 5))  # too long: shared in proportion


@pytest.fixture
def noise_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "noises"
    ramp = np.linspace(-0.5, 0.5, 3000, dtype=np.float32)[None]
    write_audio(folder / "ramp.wav", ramp, 8000, subtype="FLOAT")  # resampled to 16 kHz when used
    write_audio(
        folder / "b_hiss.flac", (0.05 * np.random.default_rng(2).standard_normal((2, 9000))).astype(np.float32), RATE
    )
    write_audio(folder / ".hidden.wav", ramp, RATE)
    return folder


def test_bursts_from_a_folder_are_the_files_own_samples(noise_folder):
    transform = build("short_noises", noise_folder.parent, path="noises", count=3, fade_in_s=0.0, fade_out_s=0.0)
    assert transform.files == ("b_hiss.flac", "ramp.wav") and transform.dependencies() == [str(noise_folder)]
    tone = sine(440.0, RATE, 3.0)
    for seed in range(6):
        params = draw(transform, seed=seed)
        out = transform.apply(tone, RATE, **params)
        added = out.astype(np.float64) - tone
        for (start, end), burst in zip(spans(params, tone.shape[-1]), params["bursts"], strict=True):
            clip = T._clip(str(noise_folder / burst["file"]), RATE, "short noise").mean(axis=0, keepdims=True)
            expected = F.loop_to_length(clip, end - start, int(burst["offset"] * clip.shape[-1]))[0]
            scale = np.dot(added[0, start:end], expected) / np.dot(expected, expected)
            np.testing.assert_allclose(added[0, start:end], scale * expected, atol=1e-5)
            measured = 10 * np.log10(F.mean_square(tone) / F.mean_square(added[:, start:end]))
            assert measured == pytest.approx(burst["snr_db"], abs=0.1)


def test_short_noises_problems_and_silence(tmp_path):
    missing = transforms_for("audio")["short_noises"](path="nowhere")
    assert "does not exist" in missing.check_files(tmp_path)[0][1]
    white = build("short_noises")
    assert white.dependencies() == []
    params = draw(white)
    assert json.loads(json.dumps(params)) == params
    with pytest.raises(T.Skipped):
        white.apply(np.zeros((1, RATE), np.float32), RATE, **params)
    late = {"bursts": [{**params["bursts"][0], "start": 0.999, "duration_s": 1.0}]}
    out = white.apply(sine(300.0, RATE, 0.5), RATE, **late)  # cut at the end, no error
    assert out.shape == (1, RATE // 2)


# --- all four, end to end: run, then replay every copy from the manifest --------------------------------


def test_a_run_with_room_mp3_air_and_bursts_replays_to_identical_bytes(tmp_path, noise_folder):
    data = tmp_path / "data"
    write_audio(data / "a.wav", sine(440.0, RATE, 0.6), RATE, subtype="PCM_16")
    write_audio(data / "b.flac", sine(300.0, 22050, 0.5, channels=2), 22050, subtype="PCM_24")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 3\ncopies: 2\naudio:\n  transforms:\n"
        "    - short_noises: {path: noises, count: [1, 2], duration_s: [0.05, 0.1]}\n"
        "    - room: {rt60: [0.2, 0.4]}\n    - air_absorption: {p: 0.5}\n    - mp3_compression: {bitrate: [16, 64]}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "--workers", "1")
    assert result.exit_code == 0, result.output
    copies = [row for row in read_manifest(out) if row["kind"] == "copy"]
    assert len(copies) == 4 and all("room" in row["transforms"] for row in copies)
    replayed = invoke("replay", out, "--all")
    assert replayed.exit_code == 0, replayed.output
    rows = len(read_manifest(out))
    assert f"{rows} rows replayed: {rows} identical, 0 differ" in replayed.output
