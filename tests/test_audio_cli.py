"""The audio modality end to end through the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio_signals import sine, write_audio
from tests.test_cli import invoke, read_manifest, tree_digest

RECIPE = """\
seed: 3
copies: 2
audio:
  transforms:
    - add_noise: {snr_db: [10, 30]}
    - background_noise: {p: 0.5, path: noise}
    - time_stretch: {p: 0.5, rate: [0.8, 1.25]}
    - pitch_shift: {p: 0.5, semitones: 2}
    - gain: {gain_db: 6}
    - compress: {p: 0.5}
"""


@pytest.fixture
def audio_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_audio(root / "speech" / "a.wav", sine(440.0, 16000, 0.5), 16000, subtype="PCM_16")
    write_audio(root / "speech" / "b.flac", sine(300.0, 44100, 0.5, channels=2), 44100, subtype="PCM_24")
    write_audio(root / "music" / "c.ogg", sine(660.0, 22050, 0.5), 22050, format="OGG")
    write_audio(root / "music" / "silent.wav", np.zeros((1, 8000), np.float32), 16000, subtype="PCM_16")
    (root / "music" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt nonsense")
    noise = tmp_path / "noise"
    write_audio(noise / "hum.wav", sine(50.0, 8000, 0.3), 8000, subtype="PCM_16")
    return root


@pytest.fixture
def audio_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "audio.yaml"
    path.write_text(RECIPE)
    return path


def test_audio_run_is_byte_identical_across_worker_counts(audio_dataset, audio_recipe, tmp_path):
    digests = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        result = invoke("run", audio_recipe, audio_dataset, out, "--workers", workers, "--allow-failures")
        assert result.exit_code == 0, result.output  # broken.wav fails, the rest are written
        assert "failed: music/broken.wav: cannot decode audio" in result.output
        digests.append(tree_digest(out))
    assert digests[0] == digests[1]
    assert len(digests[0]) == 1 + 4 * 3  # manifest + 4 good inputs x (original + 2 copies)


def test_audio_copies_keep_format_rate_channels_and_record_skips(audio_dataset, audio_recipe, tmp_path):
    out = tmp_path / "out"
    invoke("run", audio_recipe, audio_dataset, out, "--allow-failures")
    for name, (rate, channels, fmt, subtype) in {
        "speech/b_aug0.flac": (44100, 2, "FLAC", "PCM_24"),
        "speech/a_aug1.wav": (16000, 1, "WAV", "PCM_16"),
        "music/c_aug0.ogg": (22050, 1, "OGG", "VORBIS"),
    }.items():
        info = sf.info(out / name)
        assert (info.samplerate, info.channels, info.format, info.subtype) == (rate, channels, fmt, subtype)
    rows = {row["output"]: row for row in read_manifest(out)}
    silent = json.loads(rows["music/silent_aug0.wav"]["transforms"])
    assert silent[0] == {"name": "add_noise", "params": silent[0]["params"], "skipped": "silent input"}
    written = {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".augcli")
    }
    assert set(rows) == written - {"manifest.csv"}


def test_a_missing_noise_folder_is_a_recipe_error_and_nothing_is_written(audio_dataset, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.replace("path: noise", "path: no_such_folder"))
    result = invoke("run", recipe, audio_dataset, tmp_path / "out")
    assert result.exit_code == 2
    assert "line 6: audio.transforms[1].background_noise.path: noise folder" in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreadable_noise_file_fails_the_inputs_that_drew_it(audio_dataset, tmp_path):
    (tmp_path / "noise" / "hum.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.replace("p: 0.5, path", "p: 1.0, path"))
    result = invoke("run", recipe, audio_dataset, tmp_path / "out")
    assert result.exit_code == 1
    assert "failed: speech/a.wav: background noise file " in result.output and "hum.wav: cannot decode" in result.output


def test_shipped_audio_recipe_runs_on_the_shipped_data(tmp_path):
    root = Path(__file__).resolve().parent.parent
    result = invoke("run", root / "configs" / "audio.yaml", root / "sample_data" / "audio", tmp_path / "out")
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 * 5


def test_the_vocoder_outputs_are_pinned_to_their_output_version(tmp_path):
    """A kernel change that moves these bytes must come with an output_version bump (so reruns
    remake the copies the old kernel made): update the pin and the version together."""
    import hashlib

    from augcli.core.transforms import transforms_for

    write_audio(tmp_path / "in" / "a.wav", sine(440, 16000, 0.5, channels=2), 16000)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 3\ncopies: 1\naudio:\n  transforms:\n    - time_stretch: {rate: [1.25, 1.25]}\n"
        "    - pitch_shift: {semitones: [3, 3]}\n"
    )
    assert invoke("run", recipe, tmp_path / "in", tmp_path / "out").exit_code == 0
    sha = hashlib.sha256((tmp_path / "out" / "a_aug0.wav").read_bytes()).hexdigest()
    versions = {name: transforms_for("audio")[name].output_version for name in ("time_stretch", "pitch_shift")}
    assert (versions, sha) == (
        {"time_stretch": 2, "pitch_shift": 2},
        "8c9c60bbdd38e8e275828a329b3b2d3853dcc8a5f3856427583949041fde5f70",
    )
