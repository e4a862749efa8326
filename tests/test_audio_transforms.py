"""Every audio transform's invariants, sampling rules and the modality's skip records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augcli.audio import transforms as T
from augcli.audio.modality import AudioModality
from augcli.core.recipe import parse_recipe
from augcli.core.transforms import transforms_for
from tests.audio_signals import dominant_hz, sine, write_audio

REQUIRED = {
    "background_noise": {"path": "noise"},
    "impulse_response": {"path": "noise"},
    "pad_or_crop": {"duration_s": 0.3},
}
NAMES = sorted(name for name in transforms_for("audio") if name not in ("one_of", "some_of"))


@pytest.fixture
def noise_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "noise"
    rng = np.random.default_rng(5)
    write_audio(folder / "hiss.wav", (0.1 * rng.standard_normal((1, 8000))).astype(np.float32), 8000)
    write_audio(folder / "sub" / "stereo.flac", (0.1 * rng.standard_normal((2, 22050))).astype(np.float32), 22050)
    (folder / "notes.txt").write_text("not audio")
    return folder


def build(name: str, base: Path, **params):
    transform = transforms_for("audio")[name](**{**REQUIRED.get(name, {}), **params})
    assert transform.check() == [] and transform.check_files(base) == []
    return transform


def run(transform, samples, rate, seed=0):
    info = T.AudioInfo(rate, samples.shape[0])
    (applied,), _ = transform.plan(np.random.default_rng(seed), info)
    return applied.params, transform.apply(samples, rate, **applied.params)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (44100, 2)])
def test_every_transform_keeps_dtype_channels_and_finite_values(name, rate, channels, noise_folder):
    transform = build(name, noise_folder.parent)
    tone = sine(440.0, rate, 0.5, channels=channels)
    tone.flags.writeable = False
    params, out = run(transform, tone, rate)
    assert out.dtype == np.float32 and out.ndim == 2 and out.shape[0] == channels
    assert out.shape[-1] > 0 and np.isfinite(out).all()
    assert json.loads(json.dumps(params)) == params  # the manifest can hold and replay them
    again_params, again = run(transform, tone, rate)
    assert again_params == params and np.array_equal(again, out)


@pytest.mark.parametrize("name", NAMES)
def test_p_zero_never_fires_and_p_one_always_does(name, noise_folder):
    info = T.AudioInfo(16000, 1)
    never = build(name, noise_folder.parent, p=0.0)
    always = build(name, noise_folder.parent, p=1.0)
    for seed in range(20):
        assert never.plan(np.random.default_rng(seed), info)[0] == []
        assert len(always.plan(np.random.default_rng(seed), info)[0]) == 1


def test_filters_keep_their_cutoff_below_nyquist(noise_folder):
    low = build("low_pass", noise_folder, cutoff_hz=[6000.0, 20000.0])
    band = build("band_pass", noise_folder, center_hz=[3500.0, 3900.0], bandwidth_fraction=1.5)
    for seed in range(30):
        (step,), _ = low.plan(np.random.default_rng(seed), T.AudioInfo(8000, 1))
        assert step.params["cutoff_hz"] <= 0.95 * 4000
        (step,), _ = band.plan(np.random.default_rng(seed), T.AudioInfo(8000, 1))
        assert step.params["low_hz"] < step.params["high_hz"] <= 0.95 * 4000
    tone = sine(3000.0, 8000, 0.5)
    assert np.isfinite(band.apply(tone, 8000, low_hz=1000.0, high_hz=3800.0)).all()


def test_time_mask_silences_the_drawn_span():
    transform = build("time_mask", Path("."), fraction=0.25)
    tone = sine(440.0, 16000, 1.0) + 0.1  # no zero crossings at all: every zero comes from the mask
    params, out = run(transform, tone, 16000)
    assert params["fraction"] == 0.25
    zeros = np.flatnonzero(out[0] == 0)
    assert zeros.size == 4000 and zeros[0] == round(params["start"] * 16000) and np.all(np.diff(zeros) == 1)


def test_shift_moves_by_the_drawn_fraction():
    transform = build("shift", Path("."), fraction=[0.25, 0.25], rollover=False)
    x = np.arange(1, 9, dtype=np.float32)[None, :]
    _, out = run(transform, x, 8)
    assert out.tolist() == [[0, 0, 1, 2, 3, 4, 5, 6]]


def test_pad_or_crop_gives_the_exact_duration(noise_folder):
    for seconds in (0.1, 0.3, 0.9):
        for position in ("random", "start", "center"):
            transform = build("pad_or_crop", noise_folder.parent, duration_s=0.3, position=position)
            _, out = run(transform, sine(440.0, 16000, seconds), 16000)
            assert out.shape == (1, 4800)


def test_background_noise_lists_audio_files_sorted_and_loops_resampled_noise(noise_folder):
    transform = build("background_noise", noise_folder.parent, snr_db=10.0)
    assert transform.files == ("hiss.wav", "sub/stereo.flac")
    tone = sine(440.0, 16000, 2.0, channels=2)  # 2 s of audio, noise clips of 1 s: looped
    for file in transform.files:
        out = transform.apply(tone, 16000, file=file, start=0.5, snr_db=10.0)
        noise = out.astype(np.float64) - tone
        snr = 10 * np.log10(np.mean(tone.astype(np.float64) ** 2) / np.mean(noise**2))
        assert snr == pytest.approx(10.0, abs=0.01)
    # mono noise goes to every channel alike
    out = transform.apply(tone, 16000, file="hiss.wav", start=0.0, snr_db=10.0)
    assert np.allclose(out[0] - tone[0], out[1] - tone[1], atol=1e-6)


def test_background_noise_folder_problems_are_recipe_errors(tmp_path, noise_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    text = "audio:\n  transforms:\n    - background_noise: {path: %s}\n"
    for folder, message in ((tmp_path / "missing", "does not exist"), (empty, "holds no audio files")):
        with pytest.raises(Exception) as caught:
            parse_recipe(text % folder.name, "r.yaml", base_dir=tmp_path)
        assert f"r.yaml, line 3: audio.transforms[0].background_noise.path: noise folder {folder}" in str(caught.value)
        assert message in str(caught.value)
    recipe = parse_recipe(text % "noise", "r.yaml", base_dir=tmp_path)  # relative to the recipe's folder
    assert recipe.sections["audio"].transforms[0].files == ("hiss.wav", "sub/stereo.flac")


def test_an_unreadable_noise_file_names_itself(tmp_path, noise_folder):
    (noise_folder / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    transform = build("background_noise", noise_folder.parent)
    with pytest.raises(Exception, match=r"background noise file .*broken\.wav: cannot decode audio"):
        transform.apply(sine(440.0), 16000, file="broken.wav", start=0.0, snr_db=10.0)


def test_noise_on_silence_is_recorded_as_skipped(tmp_path):
    silent = write_audio(tmp_path / "silent.wav", np.zeros((1, 4000), np.float32), 16000, subtype="PCM_16")
    recipe = parse_recipe("audio:\n  transforms:\n    - add_noise\n    - normalize\n    - gain: {gain_db: 3}\n")
    (copy,) = AudioModality().render(silent, recipe.sections["audio"], [np.random.default_rng(0)])
    names = [(r["name"], r.get("skipped")) for r in copy.records]
    assert names == [("add_noise", "silent input"), ("normalize", "silent input"), ("gain", None)]


def test_a_chain_moves_every_channel_together():
    recipe = parse_recipe(
        "audio:\n  transforms:\n    - time_stretch: {rate: 1.2}\n    - pitch_shift: {semitones: [2, 2]}\n"
        "    - compress: {threshold_db: -30}\n    - low_pass: {cutoff_hz: 3000}\n"
    )
    tone = sine(440.0, 16000, 0.5, channels=2)
    info = T.AudioInfo(16000, 2)
    from augcli.core.transforms import plan_pipeline

    applied, _ = plan_pipeline(recipe.sections["audio"].transforms, np.random.default_rng(1), info)
    out = tone
    for step in applied:
        out = step.transform.apply(out, 16000, **step.params)
    assert out.shape == (2, round(8000 / 1.2))
    assert np.allclose(out[1], 0.5 * out[0], atol=1e-4)
    assert dominant_hz(out, 16000) == pytest.approx(440 * 2 ** (2 / 12), abs=2.0)
