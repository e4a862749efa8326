"""Every writer is byte-deterministic. Each format and subtype augcli writes (PNG, JPEG, WebP, TIFF,
BMP; WAV PCM_16/24/32, FLOAT, DOUBLE; FLAC; OGG; CSV, TSV, JSONL, Parquet; YOLO/COCO/VOC labels;
data.yaml) gives equal bytes when written twice at different wall-clock times, time zones and
locales. One test covers the whole matrix with the clock moved between the two writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from PIL import Image

from tests.audio_signals import sine, write_audio
from tests.conftest import gradient_rgb, write_image
from tests.test_annotations import detection_dataset
from tests.test_layouts import ultralytics_dataset

W, H = 32, 24

MAIN = """\
seed: 11
copies: 2
keep_original: false
image:
  include: ["images/*"]
  transforms:
    - rotate: {degrees: 10}
    - color_jitter: {brightness: 0.2, contrast: 0.2}
    - gaussian_noise: {std: [0.01, 0.03]}
  output: {quality: 90}
audio:
  include: ["audio/*"]
  transforms:
    - add_noise: {snr_db: [15, 30]}
    - gain: {gain_db: 3}
text:
  include: ["text/*"]
  transforms: [random_swap]
tabular:
  include: ["tables/*"]
  label: label
  transforms:
    - gaussian_noise: {std: 0.1}
"""

LABELLED = """\
seed: 11
copies: 2
keep_original: false
image:
{layout}
  transforms: [hflip, {{rotate: {{degrees: 10}}}}]
"""

LAYOUTS = {
    "yolo": "  annotations: {format: yolo}",
    "coco": "  images: images\n  annotations: {format: coco, path: annotations.json}\n  masks: {path: masks}",
    "voc": "  images: images\n  annotations: {format: voc, path: labels}\n  masks: {path: masks}",
}

# (format, subtype) of each audio input; a copy keeps both (output subtype `same`)
AUDIO = {
    "pcm16.wav": ("WAV", "PCM_16"),
    "pcm24.wav": ("WAV", "PCM_24"),
    "pcm32.wav": ("WAV", "PCM_32"),
    "float.wav": ("WAV", "FLOAT"),  # float WAVs carry a PEAK chunk with a timestamp
    "double.wav": ("WAV", "DOUBLE"),
    "clip.flac": ("FLAC", "PCM_16"),
    "clip.ogg": ("OGG", "VORBIS"),  # libsndfile picks a random stream serial number
}
IMAGES = {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".bmp": "BMP"}
# every suffix the two outputs must hold, so the matrix cannot silently shrink
SUFFIXES = {*IMAGES, ".wav", ".flac", ".ogg", ".txt", ".csv", ".tsv", ".jsonl", ".parquet", ".xml", ".json", ".yaml"}


def main_dataset(root: Path) -> Path:
    for i, (suffix, fmt) in enumerate(IMAGES.items()):
        write_image(root / "images" / f"im{i}{suffix}", gradient_rgb(W, H, seed=i), format=fmt)
    for i, (name, (fmt, subtype)) in enumerate(AUDIO.items()):
        channels = 1 + i % 2
        write_audio(
            root / "audio" / name,
            sine(300.0 + 50 * i, 16000, 0.2, channels=channels),
            16000,
            format=fmt,
            subtype=subtype,
        )
    words = ["the quick brown fox jumps", "over the lazy dog today", "a b c d e f", "one two three four", "x y z w"]
    text = root / "text"
    text.mkdir(parents=True)
    (text / "lines.txt").write_text("\n".join(words) + "\n")
    frame = pd.DataFrame({"id": range(5), "text": words, "label": ["p", "q", "p", "q", "p"]})
    frame.to_csv(text / "reviews.csv", index=False)
    frame.to_csv(text / "reviews.tsv", index=False, sep="\t")
    frame.to_json(text / "reviews.jsonl", orient="records", lines=True)
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"x": rng.normal(size=5), "y": rng.normal(size=5), "n": range(5), "label": list("abab") + ["a"]}
    )
    (root / "tables").mkdir()
    table.to_csv(root / "tables" / "numbers.csv", index=False)
    table.to_csv(root / "tables" / "numbers.tsv", index=False, sep="\t")
    table.to_parquet(root / "tables" / "numbers.parquet", index=False)
    return root


def datasets(root: Path) -> dict[str, tuple[Path, Path]]:
    """name -> (recipe, INPUT) for every run of the matrix."""
    runs = {"main": (MAIN, main_dataset(root / "main"))}
    runs["yolo"] = (LABELLED.format(layout=LAYOUTS["yolo"]), ultralytics_dataset(root / "yolo"))
    for fmt in ("coco", "voc"):
        runs[fmt] = (LABELLED.format(layout=LAYOUTS[fmt]), detection_dataset(root / fmt, fmt))
    recipes = {}
    for name, (text, data) in runs.items():
        recipe = root / f"{name}.yaml"
        recipe.write_text(text)
        recipes[name] = (recipe, data)
    return recipes


def run_all(runs: dict[str, tuple[Path, Path]], out: Path, env: dict[str, str]) -> dict[str, Path]:
    """Every run of the matrix as a real process, all at once, one worker each."""
    started = {}
    for name, (recipe, data) in runs.items():
        command = [sys.executable, "-m", "augcli", "run", str(recipe), str(data), str(out / name), "--workers", "1"]
        started[name] = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, process in started.items():
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name}: {stderr[-3000:]}"
    return {name: out / name for name in runs}


def data_files(root: Path) -> dict[str, bytes]:
    """Every file under root but augcli's own (.augcli-*), by its POSIX path relative to root."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".augcli-"):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def environment(tz: str, locale: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "TZ"))}
    return dict(env, TZ=tz, LC_ALL=locale, LANG=locale, PYTHONHASHSEED="random")


def first_difference(a: bytes, b: bytes) -> int:
    """The offset of the first byte that differs (the shorter length when one is a prefix of the other)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def test_every_writer_gives_the_same_bytes_at_another_time_zone_locale_and_second(tmp_path):
    runs = datasets(tmp_path / "in")
    first = run_all(runs, tmp_path / "first", environment("UTC", "C.UTF-8"))
    time.sleep(1.1)  # a writer that stamps the time in seconds (libsndfile's PEAK chunk) would differ
    second = run_all(runs, tmp_path / "second", environment("Pacific/Kiritimati", "POSIX"))  # UTC+14

    suffixes: set[str] = set()
    for name in runs:
        a, b = data_files(first[name]), data_files(second[name])
        assert sorted(a) == sorted(b), name
        differ = {path: first_difference(a[path], b[path]) for path in a if a[path] != b[path]}
        assert differ == {}, f"{name}: files differ (path: first differing byte offset): {differ}"
        suffixes |= {Path(path).suffix.lower() for path in a}
    assert suffixes >= SUFFIXES, SUFFIXES - suffixes

    # each kind of writer really wrote copies (keep_original is false: no byte-copied input counts)
    main = first["main"]
    for i, (suffix, fmt) in enumerate(IMAGES.items()):
        with Image.open(main / "images" / f"im{i}_aug1{suffix}") as image:
            assert image.format == fmt
    for name, kind in AUDIO.items():
        info = sf.info(str(main / "audio" / name.replace(".", "_aug1.")))
        assert (info.format, info.subtype) == kind, name
    for name in ("lines_aug1.txt", "reviews.csv", "reviews.tsv", "reviews.jsonl"):
        assert (main / "text" / name).is_file(), name
    for name in ("numbers.csv", "numbers.tsv", "numbers.parquet"):
        assert (main / "tables" / name).is_file(), name
    assert len(pd.read_parquet(main / "tables" / "numbers.parquet")) == 10  # two copies of 5 rows
    assert (first["yolo"] / "data.yaml").is_file() and (first["yolo"] / "labels" / "train" / "im0_aug1.txt").is_file()
    coco = json.loads((first["coco"] / "annotations.json").read_text())
    assert len(coco["images"]) == 6 and coco["annotations"]
    assert (first["voc"] / "labels" / "train" / "im0_aug1.xml").is_file()
    assert (first["voc"] / "masks" / "train" / "im0_aug1.png").is_file()
