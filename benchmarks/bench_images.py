"""Image benchmark: augcli against albumentations, Augmentor and a decode+encode floor.

Workload (issue #2): 200 JPEG images 640x480, 5 copies each, JPEG q95 out; pipeline hflip p0.5,
rotate +-15, random_resized_crop scale 0.8-1.0 back to 640x480, color_jitter 0.2/0.2/0.2/0.05,
random_erasing p0.3 (uniform random fill). Every tool runs on the same inputs, one after the other, in this process
tree:

    python benchmarks/bench_images.py [--images 200] [--copies 5] [--workers N] [--peer-python PATH]

Each peer runs in a venv of its own, which the benchmark makes on first use (benchmarks/peers.py:
albumentations with the numpy, OpenCV and Pillow of this interpreter; Augmentor), so that it
imports only what it needs. `--peer-python`: an interpreter of your own with albumentations.

Prints outputs per second for each tool and the ratio to albumentations. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    WORK,
    default_workers,
    fastest_of,
    fresh,
    print_table,
    run_augcli,
    run_peer_process,
    run_per_file,
)
from peers import resolve

RECIPE = """\
seed: 1
copies: {copies}
keep_original: false
image:
  transforms:
    - hflip: {{p: 0.5}}
    - rotate: {{degrees: 15}}
    - random_resized_crop: {{scale: [0.8, 1.0], size: [480, 640]}}
    - color_jitter: {{brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05}}
    - random_erasing: {{p: 0.3, fill: random}}
  output: {{quality: 95}}
"""


def make_inputs(folder: Path, count: int) -> list[Path]:
    """Photo-like JPEGs: gradients, shapes and sensor-like noise, so they compress like photos."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:480, 0:640]
    paths = []
    for i in range(count):
        path = folder / f"img{i:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        base = np.stack([x * rng.uniform(0.1, 0.4), y * rng.uniform(0.1, 0.5), (x + y) * rng.uniform(0.05, 0.2)], -1)
        noise = rng.normal(0, 8, base.shape)
        image = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x0, y0 = rng.integers(0, 600), rng.integers(0, 440)
            box = [x0, y0, x0 + rng.integers(20, 200), y0 + rng.integers(20, 200)]
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
        image.save(path, quality=95)
    return paths


def run_augcli_images(inputs: Path, copies: int, workers: int) -> float:
    return run_augcli(RECIPE.format(copies=copies), inputs, workers)


# --- albumentations: OpenCV I/O, one process per core ---------------------------------------

_PIPELINE = None


def _albumentations_init() -> None:
    import albumentations as A
    import cv2

    global _PIPELINE
    cv2.setNumThreads(1)
    _PIPELINE = A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=15, p=1.0),
            A.RandomResizedCrop(size=(480, 640), scale=(0.8, 1.0), p=1.0),
            A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05, p=1.0),
            A.Erasing(p=0.3, fill="random_uniform"),  # same as augcli's fill: random
        ]
    )


def _albumentations_job(args: tuple[str, str, int]) -> int:
    import cv2

    source, out_dir, copies = args
    image = cv2.cvtColor(cv2.imread(source), cv2.COLOR_BGR2RGB)
    stem = Path(source).stem
    for k in range(copies):
        augmented = _PIPELINE(image=image)["image"]
        cv2.imwrite(
            f"{out_dir}/{stem}_aug{k}.jpg", cv2.cvtColor(augmented, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
        )
    return copies


def run_albumentations(paths: list[Path], copies: int, workers: int) -> float:
    return run_per_file("albumentations", _albumentations_job, paths, copies, workers, _albumentations_init)


# --- the floor: decode once, encode N times, no transform ------------------------------------


def _floor_job(args: tuple[str, str, int]) -> int:
    """The fastest codec path here: OpenCV's libjpeg-turbo both ways (augcli decodes and encodes
    plain JPEGs with it too), no colour conversion, no transform."""
    import cv2

    source, out_dir, copies = args
    image = cv2.imread(source)
    for k in range(copies):
        cv2.imwrite(f"{out_dir}/{Path(source).stem}_aug{k}.jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return copies


def run_floor(paths: list[Path], copies: int, workers: int) -> float:
    return run_per_file("floor", _floor_job, paths, copies, workers)


# --- Augmentor: its own Pipeline.sample ------------------------------------------------------


def run_augmentor(inputs: Path, count: int) -> float:
    import Augmentor

    out = fresh(WORK / "out_augmentor")
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its set-up
        pipeline = Augmentor.Pipeline(str(inputs), output_directory=str(out), save_format="JPEG")
    pipeline.flip_left_right(probability=0.5)
    pipeline.rotate_without_crop(probability=1.0, max_left_rotation=15, max_right_rotation=15, expand=False)
    pipeline.crop_random(probability=1.0, percentage_area=0.9)
    pipeline.resize(probability=1.0, width=640, height=480)
    pipeline.random_brightness(probability=1.0, min_factor=0.8, max_factor=1.2)
    pipeline.random_contrast(probability=1.0, min_factor=0.8, max_factor=1.2)
    pipeline.random_color(probability=1.0, min_factor=0.8, max_factor=1.2)
    pipeline.random_erasing(probability=0.3, rectangle_area=0.2)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        pipeline.sample(count, multi_threaded=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per tool; the fastest counts (shared machines are noisy)"
    )
    parser.add_argument("--skip", nargs="*", default=[], help="tools to leave out: albumentations augmentor")
    parser.add_argument("--peer-python", help="an interpreter with albumentations (default: its own venv, made once)")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # run one peer in this process (timed from outside)
    args = parser.parse_args()

    inputs = WORK / f"input_{args.images}"
    paths = make_inputs(inputs, args.images)
    outputs = args.images * args.copies
    if args.peer:
        peers = {
            "albumentations": lambda: run_albumentations(paths, args.copies, args.workers),
            "augmentor": lambda: run_augmentor(inputs, outputs),
            "floor": lambda: run_floor(paths, args.copies, args.workers),
        }
        peers[args.peer]()
        return
    size = ("--images", args.images, "--copies", args.copies, "--workers", args.workers)
    skipped = {name.lower() for name in args.skip}
    alb_python = None if "albumentations" in skipped else resolve(args.peer_python, "albumentations")
    augmentor_python = None if "augmentor" in skipped else resolve(None, "augmentor")
    tools = {
        f"augcli ({args.workers} workers)": lambda: run_augcli_images(inputs, args.copies, args.workers),
        "augcli (1 worker)": lambda: run_augcli_images(inputs, args.copies, 1),
        f"albumentations ({args.workers} processes)": lambda: run_peer_process(
            __file__, "albumentations", *size, python=alb_python
        ),
        "Augmentor (Pipeline.sample)": lambda: run_peer_process(__file__, "augmentor", *size, python=augmentor_python),
        f"floor: decode + {args.copies} encodes ({args.workers} processes)": lambda: run_peer_process(
            __file__, "floor", *size
        ),
    }
    tools = {name: run for name, run in tools.items() if name.split()[0].lower() not in skipped}
    results = fastest_of(tools, args.repeat)
    if alb_python is not None:
        print(f"albumentations: {alb_python}")
    print(f"workload: {args.images} JPEG 640x480 x {args.copies} copies = {outputs} outputs, JPEG q95")
    print_table(results, outputs, "outputs", "albumentations", args.repeat)


if __name__ == "__main__":
    main()
