"""A manifest's records are read back from OUTPUT: replay takes only parameters the recipe could
have drawn (Transform.replay_problem), so an edited record can neither make augcli read a file
the recipe did not name nor turn one copy into hours of work or gigabytes of memory."""

from __future__ import annotations

import copy
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from augcli import jobs, parse_recipe
from augcli.audio.transforms import AudioInfo
from augcli.core import params as P
from augcli.core.transforms import REGISTRY, ReplayError
from augcli.image.transforms import ImageInfo
from augcli.video.transforms import VideoInfo
from tests.conftest import gradient_rgb, write_image
from tests.test_read_back import _set_cell, job, set_manifest

REFUSED = "is not one this recipe could have drawn"


def _audio_set(root: Path, section: str, files: dict[str, np.ndarray] | None = None) -> Path:
    """OUTPUT of one second of a tone through `section`'s steps, run and replayed once."""
    (root / "in").mkdir(parents=True)
    sf.write(root / "in" / "a.wav", (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32), 16000)
    for name, samples in (files or {}).items():
        (root / "noise").mkdir(exist_ok=True)
        sf.write(root / "noise" / name, samples, 16000)
    recipe = root / "r.yaml"
    recipe.write_text(f"seed: 1\ncopies: 1\naudio:\n  transforms:\n{section}")
    out = root / "out"
    assert job(jobs.run, recipe, root / "in", out, workers=1, quiet=True)[0] == 0
    assert job(jobs.replay, out, every=True)[0] == 0  # as made, every row replays
    return out


def _replayed_with(out: Path, records: list[dict]) -> tuple[int, str]:
    set_manifest(out, _set_cell("transforms", json.dumps(records)))
    return job(jobs.replay, out, every=True)


def test_a_tempo_no_recipe_draws_is_refused_before_the_vocoder_allocates(tmp_path):
    """rate 1e-6 asked the vocoder for 122 GiB (a MemoryError traceback, or the OOM killer)."""
    out = _audio_set(tmp_path, "    - time_stretch: {rate: [0.9, 1.1]}\n")
    code, said = _replayed_with(out, [{"name": "time_stretch", "params": {"rate": 1e-6}}])
    assert code == 2 and REFUSED in said and "rate 1e-06 is outside the recipe's [0.9, 1.1]" in said, said
    for rate in (float("nan"), "fast", None, True):
        code, said = _replayed_with(out, [{"name": "time_stretch", "params": {"rate": rate}}])
        assert code == 2 and "not a finite number" in said, said
    code, said = _replayed_with(out, [{"name": "time_stretch", "params": {"rate": 1.1}}])  # its edge: still one
    assert code in (0, 1) and REFUSED not in said, said  # replayed (its bytes differ from the copy's: exit 1)


@pytest.mark.parametrize("file", ["../r.yaml", "/etc/hostname", "other.wav"])
def test_a_noise_file_the_folder_does_not_hold_is_never_read(tmp_path, file):
    """A record named the noise file by a path joined to the folder: ../ or an absolute path read
    any file of the machine into the copy."""
    noise = {"hum.wav": (0.1 * np.sin(np.arange(8000) / 3)).astype(np.float32)}
    section = "    - background_noise: {path: noise, snr_db: [10, 10]}\n"
    out = _audio_set(tmp_path, section, noise)
    record = {"name": "background_noise", "params": {"file": file, "start": 0.0, "snr_db": 10.0}}
    code, said = _replayed_with(out, [record])
    assert code == 2 and REFUSED in said and f"file {file!r} is not one of the 1 files" in said, said


def test_short_noise_bursts_are_bounded_by_the_recipe(tmp_path):
    out = _audio_set(tmp_path, "    - short_noises: {count: [1, 2]}\n")
    burst = {"start": 0.5, "duration_s": 0.2, "snr_db": 10.0, "fade_in_s": 0.01, "fade_out_s": 0.02, "seed": 1}
    code, said = _replayed_with(out, [{"name": "short_noises", "params": {"bursts": [burst, burst]}}])
    assert (
        code in (0, 1) and REFUSED not in said
    )  # two bursts: what the recipe can draw (the bytes differ from the copy's)
    code, said = _replayed_with(out, [{"name": "short_noises", "params": {"bursts": [burst] * 3}}])
    assert code == 2 and "bursts must be a list of at most 2" in said, said
    long = {**burst, "duration_s": 3600.0}
    code, said = _replayed_with(out, [{"name": "short_noises", "params": {"bursts": [long]}}])
    assert code == 2 and "duration_s 3600.0 is outside the recipe's [0.1, 0.5]" in said, said


def test_a_room_is_held_to_its_sides_and_its_points_inside_it(tmp_path):
    out = _audio_set(tmp_path, "    - room: {rt60: [0.2, 0.3]}\n")
    made = json.loads(next(r for r in _rows(out) if r["kind"] == "copy")["transforms"])[0]["params"]
    for change, message in (
        ({"size": [1000.0, 5.0, 3.0]}, "length_m 1000.0 is outside"),
        ({"source": [-50.0, 1.0, 1.0]}, "source -50.0 is outside"),
        ({"absorption": 0.0}, "absorption 0.0 is outside"),
        ({"mic": [1.0, 1.0]}, "mic must be a point"),
    ):
        code, said = _replayed_with(out, [{"name": "room", "params": {**made, **change}}])
        assert code == 2 and message in said, (change, said)
    code, said = _replayed_with(out, [{"name": "room", "params": {**made, "rt60": 99.0}}])  # a note only
    assert code == 0, said


def _rows(out: Path) -> list[dict[str, str]]:
    import csv

    with (out / "manifest.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _image_out(tmp_path: Path, steps: str) -> Path:
    for i in range(2):
        write_image(tmp_path / "in" / f"a{i}.png", gradient_rgb(24, 16, seed=i))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"copies: 1\nimage:\n  transforms:\n{steps}")
    out = tmp_path / "out"
    assert job(jobs.run, recipe, tmp_path / "in", out, workers=1, quiet=True)[0] == 0
    assert job(jobs.replay, out, every=True)[0] == 0
    return out


def test_erased_boxes_are_no_more_than_the_recipe_draws_and_inside_the_picture(tmp_path):
    out = _image_out(tmp_path, "    - cutout: {holes: [1, 3]}\n")
    box = [1, 1, 4, 4]
    code, _ = _replayed_with(
        out, [{"name": "cutout", "params": {"boxes": [box] * 3, "fill": "constant", "value": [0]}}]
    )
    assert code in (0, 1)
    for boxes, message in (
        ([box] * 4, "boxes must be a list of at most 3"),
        ([[0, 0, 16, 25]], "is not [top, left, height, width] inside the 24x16 picture"),
        ([[0, 0, -1, 4]], "is not [top, left, height, width]"),
        ([[0, 0, 2.5, 4]], "is not [top, left, height, width]"),
    ):
        code, said = _replayed_with(out, [{"name": "cutout", "params": {"boxes": boxes, "fill": "constant"}}])
        assert code == 2 and message in said, (boxes, said)


def test_a_policy_replays_no_more_ops_than_it_draws(tmp_path):
    out = _image_out(tmp_path, "    - rand_augment: {num_ops: 2}\n")
    ops = [["rotate", 10.0]] * 2
    code, said = _replayed_with(out, [{"name": "rand_augment", "params": {"ops": ops, "drawn": {}}}])
    assert code in (0, 1) and REFUSED not in said, said
    for ops, message in (
        ([["rotate", 10.0]] * 1000, "ops must be a list of at most 2"),
        ([["format_disk", 1.0]], "is not [name, magnitude] of one of this policy's ops"),
        ([["rotate", float("inf")]], "is not [name, magnitude]"),
    ):
        code, said = _replayed_with(out, [{"name": "rand_augment", "params": {"ops": ops, "drawn": {}}}])
        assert code == 2 and message in said, (ops, said)


def test_the_python_api_refuses_records_of_another_recipe():
    pipeline = parse_recipe("image:\n  transforms:\n    - rotate: {degrees: 10}\n    - brightness: {factor: 0.1}\n")
    pixels = gradient_rgb(24, 16)
    made = pipeline.pipeline("image")(pixels, rng=np.random.default_rng(0))
    again = pipeline.pipeline("image").replay(pixels, made.records)
    assert np.array_equal(again.sample, made.sample)
    edited = [r | {"params": {"factor": 5.0}} if r["name"] == "brightness" else r for r in made.records]
    with pytest.raises(ReplayError, match=r"factor 5.0 is outside the recipe's \[0.9, 1.1\]"):
        pipeline.pipeline("image").replay(pixels, edited)


# -- no false alarms: every step's own draws replay, at its widest settings ------------------------------

_NEEDED = {"crop": {"size": [20, 30]}, "center_crop": {"size": [20, 30]}, "resize": {"size": [24, 32]}}


def _settings(cls) -> list[dict]:
    """The defaults, then every range parameter at the widest span its bounds allow (one at a
    time and all at once), then each near the top of its bounds (where steps cap a draw at the
    input: Nyquist, the input's rate): draws at the edges must still read as the recipe's own."""
    wide, high = {}, {}
    for key, param in cls.params.items():
        if isinstance(param, P.Span):
            lo = max(param.lo if param.lo is not None else -1e3, -1e3)
            hi = min(param.hi if param.hi is not None else 1e3, 1e3)
            if param.lo_open:
                lo += 1 if param.integer else 1e-3
            wide[key] = [math.ceil(lo), math.floor(hi)] if param.integer else [lo, hi]
            top = min(param.hi if param.hi is not None else 1e5, 1e5)
            high[key] = [math.ceil(top * 0.9), math.floor(top)] if param.integer else [top * 0.9, top]
    return [{}, wide, *({key: value} for key, value in wide.items()), *({key: value} for key, value in high.items())]


def _with_and_without_files(transform):
    """A folder step as the recipe check leaves it, with files found; else the step itself."""
    if not hasattr(transform, "files"):
        return [transform]
    found = copy.copy(transform)
    found.files, found.folder = ("a.wav", "b/c.flac"), "/noise"
    return [transform, found]


@pytest.mark.parametrize("modality", ["image", "audio", "video"])
def test_every_steps_own_draws_pass_the_replay_check(modality):
    infos = {
        "image": [ImageInfo.of(np.zeros(shape, np.uint8)) for shape in ((64, 48, 3), (7, 300), (300, 5, 4))],
        "audio": [AudioInfo(16000, 1), AudioInfo(44100, 2)],
        "video": [VideoInfo(64, 48, frames=250, fps=25.0), VideoInfo(32, 32, frames=3, fps=30.0)],
    }[modality]
    checked = set()
    for name, cls in sorted(REGISTRY[modality].items()):
        for setting in _settings(cls):
            try:
                built = cls(**{**_NEEDED.get(name, {}), **setting})
            except (TypeError, ValueError):
                continue
            if built.check():
                continue
            for step, info in itertools.product(_with_and_without_files(built), infos):
                rng = np.random.default_rng(7)
                for _ in range(30):
                    try:
                        drawn = step.sample(rng, info)
                    except (ValueError, ZeroDivisionError):  # a folder step without its files, ...
                        break
                    assert step.replay_problem(json.loads(json.dumps(drawn)), info) is None, (name, setting, drawn)
                    checked.add(name)
    assert len(checked) >= {"image": 30, "audio": 32, "video": 5}[modality], sorted(checked)


# -- found by review: each replayed as it was made before, or refused before any work ----------------------


def test_white_noise_bursts_never_name_a_file(tmp_path):
    """Without a folder the burst's file was joined to nothing: any audio file of the machine."""
    secret = tmp_path / "secret.wav"
    sf.write(secret, np.ones(8000, np.float32) * 0.5, 16000)
    out = _audio_set(tmp_path, "    - short_noises: {count: 1}\n")
    burst = {"start": 0.1, "duration_s": 0.2, "snr_db": 10.0, "fade_in_s": 0.01, "fade_out_s": 0.02}
    code, said = _replayed_with(out, [{"name": "short_noises", "params": {"bursts": [burst | {"file": str(secret)}]}}])
    assert code == 2 and "a burst of white noise has a seed and no file" in said, said


def test_a_huge_or_fractional_pad_is_refused_before_a_pixel_is_allocated(tmp_path):
    out = _image_out(tmp_path, "    - pad: {pixels: [0, 6]}\n    - center_crop: {size: [16, 24]}\n")
    sides = {"top": 20000, "right": 0, "bottom": 0, "left": 0}
    code, said = _replayed_with(out, [{"name": "pad", "params": sides}, {"name": "center_crop", "params": {}}])
    assert code == 2 and "top 20000 is outside the recipe's [0, 6]" in said, said
    code, said = _replayed_with(out, [{"name": "pad", "params": sides | {"top": 0.5}}])
    assert code == 2 and "top is 0.5, not a whole number" in said, said


def test_a_large_picture_between_steps_replays_as_the_run_made_it(tmp_path, monkeypatch):
    """The run holds only a copy's final size to Pillow's limit (a shorter_side of 4096 and a crop
    of a panorama never makes the large picture: the steps warp once); so does replay."""
    monkeypatch.setattr("PIL.Image.MAX_IMAGE_PIXELS", 100 * 100)  # Pillow's limit, scaled to the test
    out = _image_out(tmp_path, "    - pad: {pixels: [100, 100]}\n    - center_crop: {size: [16, 24]}\n")
    made = json.loads(next(r for r in _rows(out) if r["kind"] == "copy")["transforms"])
    assert made[0]["params"]["top"] == 100  # a 224x216 picture in between, replayed above


def test_records_kept_in_numpy_replay_through_the_api():
    """A training loop may keep records in arrays: numpy's numbers are numbers."""
    pipeline = parse_recipe("image:\n  transforms:\n    - pad: {pixels: [0, 8]}\n    - brightness: {factor: 0.5}\n")
    pixels = gradient_rgb(24, 16)
    made = pipeline.pipeline("image")(pixels, rng=np.random.default_rng(3))
    kept = [
        {**r, "params": {k: np.int64(v) if isinstance(v, int) else np.float64(v) for k, v in r["params"].items()}}
        for r in made.records
    ]
    assert np.array_equal(pipeline.pipeline("image").replay(pixels, kept).sample, made.sample)
    kept[0]["params"]["top"] = np.float64(2.5)
    with pytest.raises(ReplayError, match=r"top is np.float64\(2.5\), not a whole number"):
        pipeline.pipeline("image").replay(pixels, kept)


def test_an_object_balance_note_pastes_only_the_datasets_classes_once_each(tmp_path):
    from tests.test_mixing import _scene

    data = tmp_path / "in"
    for index in range(6):
        objects = [(0, 4 + index, 6, 30 + index, 30)] + ([(1, 50, 36, 80, 64)] if index == 2 else [])
        _scene(data / "images" / f"p{index:02d}.png", objects)
    (data / "classes.txt").write_text("c0\nc1\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 1\nimage:\n  annotations: {format: yolo, classes: classes.txt}\n"
        "  output: {format: png}\n  balance: {by: object}\n  transforms: [hflip]\n"
    )
    out = tmp_path / "out"
    assert job(jobs.run, recipe, data, out, workers=1, quiet=True)[0] == 0
    assert job(jobs.replay, out, every=True)[0] == 0
    row = next(r for r in _rows(out) if r["kind"] == "copy" and "object_balance" in r["transforms"])
    records = json.loads(row["transforms"])
    note = next(r for r in records if r["name"] == "object_balance")
    for classes, message in (
        (["1", "1"], "distinct class names"),
        ([5], "class 5 is not one of the dataset's"),
    ):
        edited = [r if r is not note else {**note, "params": {**note["params"], "classes": classes}} for r in records]
        set_manifest(out, _set_cell_of(row["output"], "transforms", json.dumps(edited)))
        code, said = job(jobs.replay, out, every=True)
        assert code == 2 and message in said, (classes, said)


def _set_cell_of(output: str, column: str, value: str):
    """A manifest edit: one cell of the row of `output`."""
    import csv
    import io

    def change(lines: list[str]) -> list[str]:
        rows = list(csv.reader(lines))
        header = rows[0]
        for row in rows[1:]:
            if row[header.index("output")] == output:
                row[header.index(column)] = value
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().splitlines()

    return change


def test_a_mosaic_is_the_size_the_recipe_makes(tmp_path):
    out = _image_out(tmp_path, "    - mosaic: {grid: 2}\n    - resize: {size: [16, 24]}\n")
    made = json.loads(next(r for r in _rows(out) if r["kind"] == "copy")["transforms"])
    mosaic = next(r for r in made if r["name"] == "mosaic")
    for change, message in (
        ({"size": [30000, 30000]}, "size [30000, 30000] is not the 24x16 this recipe makes here"),
        ({"cuts_x": [0.99]}, "cuts_x 0.99 is outside"),
        ({"own": 4}, "own 4 is not one of the 4 tiles"),
        ({"offsets": [[0.5, 0.5]] * 3}, "offsets must hold one [x, y] per tile (4)"),
    ):
        edited = [mosaic | {"params": mosaic["params"] | change}, *(r for r in made if r is not mosaic)]
        code, said = _replayed_with(out, edited)
        assert code == 2 and message in said, (change, said)


def test_a_partner_the_section_leaves_alone_is_never_read(tmp_path):
    for name in ("a0.png", "a1.png", "private/face.png"):
        write_image(tmp_path / "in" / name, gradient_rgb(24, 16, seed=len(name)))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  exclude: ['private/**']\n  transforms:\n    - mixup: {}\n")
    out = tmp_path / "out"
    assert job(jobs.run, recipe, tmp_path / "in", out, workers=1, quiet=True)[0] == 0
    assert job(jobs.replay, out, every=True)[0] == 0
    record = {"name": "mixup", "params": {"weight": 0.6, "partners": [{"path": "private/face.png"}]}}
    code, said = _replayed_with(out, [record])
    assert code == 2 and "partner 'private/face.png' is not an input this section augments" in said, said


@pytest.mark.parametrize(
    "step",
    [
        "low_pass: {cutoff_hz: [8000, 10000]}",  # drawn, then capped below Nyquist (7,600 Hz at 16 kHz)
        "high_shelf: {cutoff_hz: [9000, 12000]}",
        "aliasing: {rate_hz: [20000, 30000]}",  # capped at the input's rate
        "mp3_compression: {bitrate: 16}",  # the nearest bit rate MP3 has at 16 kHz
    ],
)
def test_values_a_step_caps_at_the_input_still_replay(tmp_path, step):
    out = _audio_set(tmp_path, f"    - {step}\n")  # replays identically inside (asserted there)
    assert "transforms" in _rows(out)[0]


def test_an_old_manifest_without_steps_finds_the_later_step_of_the_same_name(tmp_path):
    """Before records carried `step`, a name listed twice matched its first step; a record that
    step refuses is tried on the next one of its name."""
    first, second = "          - brightness: {factor: 0.1}\n", "          - brightness: {factor: [2, 3]}\n"
    out = _image_out(tmp_path, f"    - one_of:\n        transforms:\n{first}{second}")
    code, said = _replayed_with(out, [{"name": "brightness", "params": {"factor": 2.5}}])  # the second's
    assert code in (0, 1) and REFUSED not in said, said
    code, said = _replayed_with(out, [{"name": "brightness", "params": {"factor": 2.5}, "step": 0}])
    assert code == 2 and "factor 2.5 is outside the recipe's [0.9, 1.1]" in said, said  # a step is kept to
    code, said = _replayed_with(out, [{"name": "brightness", "params": {"factor": 9.0}}])
    assert code == 2 and "factor 9.0 is outside the recipe's [0.9, 1.1]" in said, said  # the first refusal
