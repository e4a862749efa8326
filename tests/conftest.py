"""Shared helpers: tiny synthetic images and datasets written to temporary folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image


def gradient_rgb(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """A smooth RGB image with some texture: distinct pixels, so moves can be traced."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1), (x + y) % 256], axis=-1)
    return np.clip(base + rng.integers(-10, 10, base.shape), 0, 255).astype(np.uint8)


def write_image(path: Path, pixels: np.ndarray, **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **save)
    return path


def write_images(folder: Path, count: int, width: int, height: int) -> Path:
    """Uncompressed PNGs big enough that a run of them can be interrupted mid-way."""
    for i in range(count):
        write_image(folder / f"img{i:02d}.png", gradient_rgb(width, height, seed=i), compress_level=0)
    return folder


def augcli_command(*args: object) -> list[str]:
    """augcli as a real process, with this interpreter."""
    return [sys.executable, "-m", "augcli", *map(str, args)]


def start_long_run(tmp_path: Path, recipe: Path, images: int, size: tuple[int, int], copies: int, **popen: Any):
    """A real 2-worker run over fresh uncompressed PNGs, long enough to be killed or interrupted
    mid-way: (the process, INPUT, OUTPUT)."""
    data = write_images(tmp_path / "big", images, *size)
    out = tmp_path / "out"
    command = augcli_command("run", recipe, data, out, "--copies", copies, "--workers", "2")
    return subprocess.Popen(command, **popen), data, out


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A small class-folder dataset: 3 JPEGs and 2 PNGs in two classes, plus an unclaimed file."""
    root = tmp_path / "data"
    for i in range(3):
        write_image(root / "cats" / f"cat{i}.jpg", gradient_rgb(seed=i), quality=90)
    for i in range(2):
        write_image(root / "dogs" / f"dog{i}.png", gradient_rgb(40, 30, seed=10 + i))
    (root / "README.txt").write_text("not an image\n")
    return root


RECIPE = """\
seed: 7
copies: 3
image:
  transforms:
    - hflip: {p: 0.5}
    - rotate: {degrees: 20}
    - random_resized_crop: {scale: [0.6, 1.0]}
    - color_jitter: {brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.05}
    - one_of:
        - gaussian_noise: {std: [0.01, 0.05]}
        - gaussian_blur: {sigma: [0.5, 1.5]}
    - random_erasing: {p: 0.5, area: [0.02, 0.2]}
"""


@pytest.fixture
def recipe_file(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE)
    return path
