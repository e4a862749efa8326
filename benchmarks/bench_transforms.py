"""Per-transform speed, albumentations' method: augcli's Python API against albumentations, torchvision
and Kornia (CPU), one transform at a time, one thread, images already decoded in memory (speed, round three).

What is measured: images per second of one transform applied with p=1 to every image of a list, in a loop
on one thread (OpenCV `setNumThreads(0)`, torch `set_num_threads(1)`, OMP/MKL/OpenBLAS threads 1), as
albumentations' benchmark does (github.com/albumentations-team/benchmark, the list and parameters published
with albumentations 2.0.4, plus RandomRotate90, Downscale and SmallestMaxSize from its later list) for every
transform augcli has. augcli is called as a training loop calls it: `pipeline(pixels, rng=rng).sample`
(planning, parameter draws and records included) with one numpy Generator reused for all images
(`--rng-per-image` makes a new one per image); outputs are made contiguous, as the benchmark does.

Images: `--images` (200) ImageNet-like pictures (500x375, 375x500, 500x333, ...) made once from
scikit-image's bundled sample photographs (astronaut, chelsea, coffee, rocket, hubble_deep_field) by
deterministic random crops, scales and flips, saved as .npy under benchmarks/work/transforms_in by
scikit-image's interpreter. Each library runs in its own environment as a subprocess
that loads them once (numpy HxWx3 uint8 for augcli and albumentations, CxHxW uint8 tensors for
torchvision, CxHxW float32 tensors in [0, 1] for Kornia, each library's benchmark format).

Per transform: each library warms up (at least 3 passes over 10 images and 0.3 s), then `--runs` (5)
timed passes over all images, interleaved library by library so that load drift on a shared machine
touches all of them alike (each run starts with the next library, so none always runs right after
the same one); only one library computes at a time. A pass projected over
`--max-run-seconds` uses fewer images (marked * in the table). The table gives the median images/s and
the standard deviation of the runs, and augcli / albumentations. Before timing, and before each
transform, the script waits (up to 10 minutes in all) while `ps` shows pytest or another benchmark.

    .venv/bin/python benchmarks/bench_transforms.py [--images 200] [--runs 5]
        [--libraries augcli albumentations torchvision kornia]
        [--albumentations-python PATH] [--torchvision-python PATH] [--kornia-python PATH] [--ski-python PATH]
        [--only Resize Affine ...] [--rng-per-image] [--no-wait] [--profile Affine ...]

The environments (albumentations; torchvision with Kornia; scikit-image) are venvs the benchmark
makes on first use (benchmarks/peers.py, with this interpreter's numpy, OpenCV and Pillow); each
`--*-python` takes an interpreter of your own instead.

`--profile NAME ...` runs only augcli on those transforms under cProfile and prints where the time goes.
Results also go to benchmarks/work/transforms_results.json. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from peers import resolve  # noqa: E402

WORK = HERE.parent / "work"
INPUTS = WORK / "transforms_in"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
LIBRARIES = ("augcli", "albumentations", "torchvision", "kornia")
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
SIZES = ((375, 500), (333, 500), (500, 375), (375, 500), (400, 500), (500, 333), (366, 500), (375, 500))
BUSY = ("pytest", "benchmarks/bench_", "benchmarks/profile_", "benchmarks/value_", "augcli run", "asv ")
HUE = 20 / 360  # albumentations' Hue spec is 20 degrees of HSV hue


@dataclass(frozen=True)
class Spec:
    name: str  # albumentations' benchmark name
    augcli: str  # the recipe's list item
    note: str = ""  # how the parameters differ


SPECS = (
    Spec("Resize", "resize: {size: [512, 512], interpolation: bilinear}"),
    Spec("RandomCrop128", "crop: {size: 128}"),
    Spec("RandomResizedCrop", "random_resized_crop: {size: [512, 512], scale: [0.08, 1.0], ratio: [0.75, 1.3333]}"),
    Spec("CenterCrop128", "center_crop: {size: 128}"),
    Spec("HorizontalFlip", "hflip: {}"),
    Spec("VerticalFlip", "vflip: {}"),
    Spec("Pad", "pad: {pixels: 10, border: constant, fill: 0}"),
    Spec("Rotate", "rotate: {degrees: 45, interpolation: nearest, border: constant, fill: 0}"),
    Spec(
        "Affine",
        "affine: {degrees: [25, 25], scale: [2, 2], translate_x: [0.04, 0.04], translate_y: [0.053, 0.053],"
        " shear_x: [10, 15], shear_y: [10, 15]}",
        "20 px shift given as fractions (0.04 x 500, 0.053 x 375)",
    ),
    Spec(
        "Perspective",
        "perspective: {distortion: 0.2}",
        "augcli/tv/Kornia: corners move up to 10% of a side (mean 5%); alb: |N(0, 0.05-0.1)| (mean ~6%)",
    ),
    Spec("ColorJitter", "color_jitter: {brightness: 0.5, contrast: [0, 2.5], saturation: [0, 2.5], hue: 0.5}"),
    Spec("Grayscale", "grayscale: {}", "3 channels out in every library"),
    Spec("GaussianBlur", "gaussian_blur: {sigma: [2, 2], size: 5}"),
    Spec("GaussianNoise", "gaussian_noise: {std: [0.44, 0.44], per_channel: true}"),
    Spec("Invert", "invert: {}"),
    Spec("Posterize", "posterize: {bits: 4}"),
    Spec("Solarize", "solarize: {threshold: 0.5}"),
    Spec(
        "Sharpen",
        "sharpness: {factor: [1.2, 1.5]}",
        "alb: Sharpen kernel alpha 0.2-0.5; augcli/tv/Kornia: PIL-style sharpness 1.2-1.5 (tv 1.5)",
    ),
    Spec("Equalize", "equalize: {}"),
    Spec("Erasing", "random_erasing: {area: [0.02, 0.33], ratio: [0.3, 3.3], fill: constant, value: 0}"),
    Spec("JpegCompression", "jpeg_compression: {quality: [50, 50]}"),
    Spec("RandomGamma", "gamma: {gamma: [1.2, 1.2]}"),
    Spec(
        "MotionBlur",
        "motion_blur: {length: [3, 5], angle: [0, 360]}",
        "alb: kernel 3 or 5; Kornia: 5",
    ),
    Spec(
        "Brightness",
        "brightness: {factor: [1.2, 1.2]}",
        "alb adds 0.2 x 255; the others multiply by 1.2",
    ),
    Spec("Contrast", "contrast: {factor: [1.2, 1.2]}"),
    Spec(
        "CoarseDropout",
        "cutout: {holes: 4, size: 0.1, fill: constant, value: 0}",
        "augcli: squares of 0.1 x the shorter side, may hang over the edge; alb: 0.1 H x 0.1 W inside",
    ),
    Spec(
        "Saturation",
        "saturation: {factor: [1.5, 1.5]}",
        "alb: HSV saturation shift of +-127; the others a factor of 1.5",
    ),
    Spec("Hue", f"hue: {{shift: {HUE:.4f}}}", "augcli turns YIQ chroma; the others shift HSV hue"),
    Spec("SaltAndPepper", "salt_pepper: {amount: [0.01, 0.06], salt_ratio: 0.5}", "alb/Kornia salt share 0.4-0.6"),
    Spec("Shear", "shear: {x: [10, 10], y: [10, 10]}", "alb's Affine(shear=10) shears both axes by 10 degrees"),
    Spec("RandomRotate90", "rot90: {turns: [0, 1, 2, 3]}"),
    Spec("Downscale", "downscale: {factor: [0.25, 0.25], interpolation: nearest, shrink: nearest}"),
    Spec("SmallestMaxSize", "resize: {shorter_side: 512}"),
)
BY_NAME = {spec.name: spec for spec in SPECS}


# ---------------------------------------------------------------------------------------------------------
# Each library's transforms (imported only in that library's own interpreter)
# ---------------------------------------------------------------------------------------------------------


def augcli_transforms(rng_per_image: bool) -> dict[str, Callable[[], Callable[[Any], Any]]]:
    import cv2

    import augcli

    cv2.setNumThreads(0)
    shared = np.random.default_rng(0)
    counter = iter(range(10**12))

    def build(item: str) -> Callable[[Any], Any]:
        pipeline = augcli.parse_recipe(f"image:\n  transforms:\n    - {item}\n").pipeline("image")
        if rng_per_image:
            return lambda image: pipeline(image, rng=np.random.default_rng(next(counter))).sample
        return lambda image: pipeline(image, rng=shared).sample

    return {spec.name: (lambda item=spec.augcli: build(item)) for spec in SPECS}


def albumentations_transforms() -> dict[str, Callable[[], Callable[[Any], Any]]]:
    import albumentations as A
    import cv2

    cv2.setNumThreads(0)
    cv2.ocl.setUseOpenCL(False)
    linear, nearest, constant = cv2.INTER_LINEAR, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT
    made = {
        "Resize": lambda: A.Resize(512, 512, interpolation=linear),
        "RandomCrop128": lambda: A.RandomCrop(128, 128, pad_if_needed=True),
        "RandomResizedCrop": lambda: A.RandomResizedCrop(
            size=(512, 512), scale=(0.08, 1.0), ratio=(0.75, 4 / 3), interpolation=linear
        ),
        "CenterCrop128": lambda: A.CenterCrop(128, 128, pad_if_needed=True),
        "HorizontalFlip": lambda: A.HorizontalFlip(),
        "VerticalFlip": lambda: A.VerticalFlip(),
        "Pad": lambda: A.Pad(padding=10, fill=0, border_mode=constant),
        "Rotate": lambda: A.Rotate(limit=45, interpolation=nearest, border_mode=constant, fill=0),
        "Affine": lambda: A.Affine(
            rotate=25.0,
            translate_px=(20, 20),
            scale=2.0,
            shear=(10.0, 15.0),
            interpolation=linear,
            border_mode=constant,
            fill=0,
        ),
        "Perspective": lambda: A.Perspective(scale=(0.05, 0.1), interpolation=linear),
        "ColorJitter": lambda: A.ColorJitter(brightness=0.5, contrast=1.5, saturation=1.5, hue=0.5),
        "Grayscale": lambda: A.ToGray(num_output_channels=3),
        "GaussianBlur": lambda: A.GaussianBlur(blur_limit=(5, 5), sigma_limit=(2.0, 2.0)),
        "GaussianNoise": lambda: A.GaussNoise(std_range=(0.44, 0.44), mean_range=(0, 0), per_channel=True),
        "Invert": lambda: A.InvertImg(),
        "Posterize": lambda: A.Posterize(num_bits=4),
        "Solarize": lambda: A.Solarize(threshold_range=(0.5, 0.5)),
        "Sharpen": lambda: A.Sharpen(alpha=(0.2, 0.5), lightness=(0.5, 1)),
        "Equalize": lambda: A.Equalize(),
        "Erasing": lambda: A.Erasing(scale=(0.02, 0.33), ratio=(0.3, 3.3)),
        "JpegCompression": lambda: A.ImageCompression(quality_range=(50, 50)),
        "RandomGamma": lambda: A.RandomGamma(gamma_limit=(120, 120)),
        "MotionBlur": lambda: A.MotionBlur(blur_limit=5, angle_range=(0, 360), direction_range=(-1, 1)),
        "Brightness": lambda: A.RandomBrightnessContrast(brightness_limit=(0.2, 0.2), contrast_limit=(0.0, 0.0)),
        "Contrast": lambda: A.RandomBrightnessContrast(brightness_limit=(0.0, 0.0), contrast_limit=(0.2, 0.2)),
        "CoarseDropout": lambda: A.CoarseDropout(
            hole_height_range=(0.1, 0.1), hole_width_range=(0.1, 0.1), num_holes_range=(4, 4)
        ),
        "Saturation": lambda: A.HueSaturationValue(hue_shift_limit=0, sat_shift_limit=0.5 * 255, val_shift_limit=0),
        "Hue": lambda: A.HueSaturationValue(hue_shift_limit=20, sat_shift_limit=0, val_shift_limit=0),
        "SaltAndPepper": lambda: A.SaltAndPepper(amount=(0.01, 0.06), salt_vs_pepper=(0.4, 0.6)),
        "Shear": lambda: A.Affine(shear=10, interpolation=linear, border_mode=constant, fill=0),
        "RandomRotate90": lambda: A.RandomRotate90(),
        "Downscale": lambda: A.Downscale(
            scale_range=(0.25, 0.25), interpolation_pair={"downscale": nearest, "upscale": nearest}
        ),
        "SmallestMaxSize": lambda: A.SmallestMaxSize(max_size=512, interpolation=linear),
    }

    def wrap(factory: Callable[[], Any]) -> Callable[[], Callable[[Any], Any]]:
        def build() -> Callable[[Any], Any]:
            transform = factory()
            transform.p = 1.0
            return lambda image: transform(image=image)["image"]

        return build

    return {name: wrap(factory) for name, factory in made.items()}


def torchvision_transforms() -> dict[str, Callable[[], Callable[[Any], Any]]]:
    import torch
    from torchvision.transforms import InterpolationMode, v2

    torch.set_num_threads(1)
    bilinear, nearest = InterpolationMode.BILINEAR, InterpolationMode.NEAREST
    made = {
        "Resize": lambda: v2.Resize((512, 512), interpolation=bilinear, antialias=True),
        "RandomCrop128": lambda: v2.RandomCrop(128, pad_if_needed=True),
        "RandomResizedCrop": lambda: v2.RandomResizedCrop(
            (512, 512), scale=(0.08, 1.0), ratio=(0.75, 4 / 3), interpolation=bilinear
        ),
        "CenterCrop128": lambda: v2.CenterCrop(128),
        "HorizontalFlip": lambda: v2.RandomHorizontalFlip(p=1),
        "VerticalFlip": lambda: v2.RandomVerticalFlip(p=1),
        "Pad": lambda: v2.Pad(10, fill=0, padding_mode="constant"),
        "Rotate": lambda: v2.RandomRotation(45, interpolation=nearest, fill=0),
        "Affine": lambda: v2.RandomAffine(
            degrees=(25, 25), translate=(0.04, 0.053), scale=(2, 2), shear=(10, 15, 10, 15), interpolation=bilinear
        ),
        "Perspective": lambda: v2.RandomPerspective(distortion_scale=0.2, p=1, interpolation=bilinear, fill=0),
        "ColorJitter": lambda: v2.ColorJitter(brightness=0.5, contrast=1.5, saturation=1.5, hue=0.5),
        "Grayscale": lambda: v2.Grayscale(num_output_channels=3),
        "GaussianBlur": lambda: v2.GaussianBlur(kernel_size=5, sigma=(2.0, 2.0)),
        "Invert": lambda: v2.RandomInvert(p=1),
        "Posterize": lambda: v2.RandomPosterize(bits=4, p=1),
        "Solarize": lambda: v2.RandomSolarize(threshold=128, p=1),
        "Sharpen": lambda: v2.RandomAdjustSharpness(sharpness_factor=1.5, p=1),
        "Equalize": lambda: v2.RandomEqualize(p=1),
        "Erasing": lambda: v2.RandomErasing(p=1, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0),
        "JpegCompression": lambda: v2.JPEG(quality=50),
        "Brightness": lambda: v2.ColorJitter(brightness=(1.2, 1.2)),
        "Contrast": lambda: v2.ColorJitter(contrast=(1.2, 1.2)),
        "Saturation": lambda: v2.ColorJitter(saturation=(1.5, 1.5)),
        "Hue": lambda: v2.ColorJitter(hue=HUE),
        "Shear": lambda: v2.RandomAffine(degrees=0, shear=(10, 10, 10, 10), interpolation=bilinear),
        "SmallestMaxSize": lambda: v2.Resize(512, interpolation=bilinear, antialias=True),
    }
    return {name: (lambda factory=factory: factory()) for name, factory in made.items()}


def kornia_transforms() -> dict[str, Callable[[], Callable[[Any], Any]]]:
    import kornia.augmentation as K
    import torch

    torch.set_num_threads(1)
    made = {
        "Resize": lambda: K.Resize((512, 512)),
        "RandomCrop128": lambda: K.RandomCrop((128, 128), pad_if_needed=True, p=1),
        "RandomResizedCrop": lambda: K.RandomResizedCrop((512, 512), scale=(0.08, 1.0), ratio=(0.75, 4 / 3), p=1),
        "CenterCrop128": lambda: K.CenterCrop(128),
        "HorizontalFlip": lambda: K.RandomHorizontalFlip(p=1),
        "VerticalFlip": lambda: K.RandomVerticalFlip(p=1),
        "Rotate": lambda: K.RandomRotation(45.0, resample="nearest", p=1),
        "Affine": lambda: K.RandomAffine(
            degrees=(25.0, 25.0), translate=(0.04, 0.053), scale=(2.0, 2.0), shear=(10.0, 15.0, 10.0, 15.0), p=1
        ),
        "Perspective": lambda: K.RandomPerspective(distortion_scale=0.2, resample="bilinear", p=1),
        "ColorJitter": lambda: K.ColorJitter(brightness=0.5, contrast=1.5, saturation=1.5, hue=0.5, p=1),
        "Grayscale": lambda: K.RandomGrayscale(p=1),
        "GaussianBlur": lambda: K.RandomGaussianBlur((5, 5), sigma=(2.0, 2.0), p=1),
        "GaussianNoise": lambda: K.RandomGaussianNoise(mean=0.0, std=0.44, p=1),
        "Invert": lambda: K.RandomInvert(p=1),
        "Posterize": lambda: K.RandomPosterize(bits=(4.0, 4.0), p=1),
        "Solarize": lambda: K.RandomSolarize(thresholds=0.0, additions=0.0, p=1),
        "Sharpen": lambda: K.RandomSharpness(sharpness=(1.2, 1.5), p=1),
        "Equalize": lambda: K.RandomEqualize(p=1),
        "Erasing": lambda: K.RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, p=1),
        "JpegCompression": lambda: K.RandomJPEG(jpeg_quality=(50.0, 50.0), p=1),
        "RandomGamma": lambda: K.RandomGamma(gamma=(1.2, 1.2), p=1),
        "MotionBlur": lambda: K.RandomMotionBlur(kernel_size=5, angle=(0.0, 360.0), direction=(-1.0, 1.0), p=1),
        "Brightness": lambda: K.RandomBrightness(brightness=(1.2, 1.2), p=1),
        "Contrast": lambda: K.RandomContrast(contrast=(1.2, 1.2), p=1),
        "Saturation": lambda: K.RandomSaturation(saturation=(1.5, 1.5), p=1),
        "Hue": lambda: K.RandomHue(hue=(-HUE, HUE), p=1),
        "SaltAndPepper": lambda: K.RandomSaltAndPepperNoise(amount=(0.01, 0.06), salt_vs_pepper=(0.4, 0.6), p=1),
        "Shear": lambda: K.RandomShear((10.0, 10.0, 10.0, 10.0), p=1),
        "RandomRotate90": lambda: K.RandomRotation90(times=(0, 3), p=1),
        "SmallestMaxSize": lambda: K.SmallestMaxSize(512),
    }
    return {name: (lambda factory=factory: factory()) for name, factory in made.items()}


def versions(library: str) -> dict[str, str]:
    from importlib import metadata

    names = {
        "augcli": ["augcli", "numpy", "opencv-python-headless", "opencv-python", "pillow"],
        "albumentations": ["albumentations", "numpy", "opencv-python-headless", "opencv-python"],
        "torchvision": ["torchvision", "torch", "numpy"],
        "kornia": ["kornia", "torch", "numpy"],
    }[library]
    found = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


# ---------------------------------------------------------------------------------------------------------
# Worker: one library in its own interpreter, driven over stdin/stdout
# ---------------------------------------------------------------------------------------------------------


def load_images(library: str, count: int) -> list[Any]:
    arrays = [np.load(INPUTS / f"img{i:04d}.npy") for i in range(count)]
    if library in ("augcli", "albumentations"):
        return arrays
    import torch

    tensors = [torch.from_numpy(a).permute(2, 0, 1).contiguous() for a in arrays]
    if library == "kornia":
        return [t.float() / 255.0 for t in tensors]
    return tensors


def one_pass(apply: Callable[[Any], Any], images: list[Any]) -> float:
    started = time.perf_counter()
    for image in images:
        out = apply(image)
        out = np.ascontiguousarray(out) if isinstance(out, np.ndarray) else out.contiguous()
    return time.perf_counter() - started


def serve(library: str, count: int, max_run_seconds: float, rng_per_image: bool) -> None:
    """Answer the orchestrator's commands, one JSON line each: `warmup NAME`, `run NAME`, `quit`."""
    factories = {
        "augcli": lambda: augcli_transforms(rng_per_image),
        "albumentations": albumentations_transforms,
        "torchvision": torchvision_transforms,
        "kornia": kornia_transforms,
    }[library]()
    images = load_images(library, count)
    built: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {}
    reply = sys.__stdout__
    sys.stdout = sys.stderr  # anything a library prints stays out of the protocol
    print(json.dumps({"ready": True, "versions": versions(library)}), file=reply, flush=True)
    for line in sys.stdin:
        command, _, name = line.strip().partition(" ")
        if command == "quit":
            break
        try:
            if command == "warmup":
                if name not in factories:
                    answer: dict[str, Any] = {"supported": False}
                else:
                    apply = factories[name]()
                    passes, spent = 0, 0.0
                    while passes < 3 or (spent < 0.3 and passes < 200):
                        spent += one_pass(apply, images[:10])
                        passes += 1
                    per_image = spent / (passes * 10)
                    used = (
                        images
                        if per_image * len(images) <= max_run_seconds
                        else images[: max(20, int(max_run_seconds / per_image))]
                    )
                    built[name] = (apply, used)
                    answer = {"supported": True, "images": len(used)}
            else:
                apply, used = built[name]
                answer = {"seconds": one_pass(apply, used), "images": len(used)}
        except Exception as error:  # a transform a library refuses is reported, not fatal
            answer = {"supported": False, "error": f"{type(error).__name__}: {error}"[:300]}
        print(json.dumps(answer), file=reply, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, library: str, python: str, args: argparse.Namespace) -> None:
        env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1"), "PYTHONHASHSEED": "0"}
        command = [python, str(HERE), "--serve", library, "--images", str(args.images)]
        command += ["--max-run-seconds", str(args.max_run_seconds)] + (
            ["--rng-per-image"] if args.rng_per_image else []
        )
        self.log = open(WORK / f"transforms_{library}.log", "w")  # noqa: SIM115 - lives as long as the worker
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )
        self.library = library
        hello = self.ask(None)
        self.versions = hello["versions"]

    def ask(self, command: str | None) -> dict[str, Any]:
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.library} worker died; see {self.log.name}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self.log.close()


def make_images(count: int) -> None:
    """Run by the scikit-image interpreter: ImageNet-like crops of its bundled sample photographs."""
    from skimage import data, transform

    INPUTS.mkdir(parents=True, exist_ok=True)
    photos = [getattr(data, name)() for name in PHOTOS]
    rng = np.random.default_rng(0)
    for i in range(count):
        photo = photos[i % len(photos)]
        height, width = SIZES[int(rng.integers(len(SIZES)))]
        area = rng.uniform(0.4, 1.0) * photo.shape[0] * photo.shape[1]
        crop_h = min(photo.shape[0], round((area * height / width) ** 0.5))
        crop_w = min(photo.shape[1], round(crop_h * width / height))
        crop_h = min(crop_h, round(crop_w * height / width))
        top = int(rng.integers(photo.shape[0] - crop_h + 1))
        left = int(rng.integers(photo.shape[1] - crop_w + 1))
        crop = photo[top : top + crop_h, left : left + crop_w]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        scaled = transform.resize(crop, (height, width), order=1, anti_aliasing=True, preserve_range=True)
        np.save(INPUTS / f"img{i:04d}.npy", np.ascontiguousarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8)))
    (INPUTS / "made.json").write_text(json.dumps({"count": count, "photos": PHOTOS}))


def ensure_images(count: int, ski_python: str | None) -> None:
    made = INPUTS / "made.json"
    if made.exists() and json.loads(made.read_text())["count"] >= count:
        return
    ski_python = resolve(ski_python, "scikit-image")
    print(f"making {count} images from scikit-image's sample photos with {ski_python}", file=sys.stderr)
    subprocess.run([ski_python, str(HERE), "--make-images", "--images", str(count)], check=True)


def _family() -> set[int]:
    """This process, its ancestors and its descendants: never counted as someone else's benchmark."""
    table = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split()
    parent = dict(zip(map(int, table[::2]), map(int, table[1::2]), strict=True))
    mine, grew = {os.getpid()}, True
    while grew:
        more = {child for child, up in parent.items() if up in mine} - mine
        mine |= more
        grew = bool(more)
    pid = os.getpid()
    while pid in parent and pid > 1:
        pid = parent[pid]
        mine.add(pid)
    return mine


def busy() -> list[str]:
    family = _family()
    rows = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout.splitlines()
    found = []
    for row in rows:
        pid, _, args = row.strip().partition(" ")
        if int(pid) not in family and any(word in args for word in BUSY):
            found.append(args[:100])
    return found


WAIT_LEFT = [600.0]  # seconds of waiting left for the whole run
NO_WAIT = "--no-wait" in sys.argv  # smoke tests on a busy machine: the numbers mean nothing


def wait_until_quiet() -> None:
    while not NO_WAIT and WAIT_LEFT[0] > 0 and (others := busy()):
        print(f"waiting 30 s: {len(others)} other benchmark/test process(es): {others[0]}", file=sys.stderr)
        time.sleep(30)
        WAIT_LEFT[0] -= 30
    if not NO_WAIT and WAIT_LEFT[0] <= 0 and busy():
        print("still busy after 10 minutes of waiting; timing anyway", file=sys.stderr)


def cell(runs: list[float] | None, partial: bool) -> str:
    if not runs:
        return "-"
    spread = statistics.pstdev(runs)
    return f"{statistics.median(runs):,.0f} ± {spread:,.0f}{'*' if partial else ''}"


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, nproc {len(os.sched_getaffinity(0))}, {platform.system()} {platform.machine()}"


def revision() -> str:
    """augcli's commit, `+` when its code differs from it (the numbers belong to that code)."""
    git = ["git", "-C", str(HERE.parent.parent)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "augcli"], capture_output=True, text=True).stdout
    return (commit or "?") + ("+" if dirty.strip() else "")


def orchestrate(args: argparse.Namespace) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_images(args.images, args.ski_python)
    given = {
        "augcli": sys.executable,
        "albumentations": args.albumentations_python,
        "torchvision": args.torchvision_python,
        "kornia": args.kornia_python,
    }
    peer = {"albumentations": "albumentations", "torchvision": "torchvision", "kornia": "torchvision"}
    pythons = {library: given[library] or resolve(None, peer[library]) for library in args.libraries}
    specs = [BY_NAME[name] for name in args.only] if args.only else list(SPECS)
    wait_until_quiet()
    started, code = time.perf_counter(), revision()
    workers: dict[str, Worker] = {}
    for library in args.libraries:
        try:
            workers[library] = Worker(library, pythons[library], args)
        except (OSError, RuntimeError) as error:
            print(f"{library}: not measured ({error})", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    try:
        for spec in specs:
            wait_until_quiet()
            row: dict[str, Any] = {}
            live = []
            for library, worker in workers.items():
                answer = worker.ask(f"warmup {spec.name}")
                if answer.get("error"):
                    print(f"{spec.name} / {library}: {answer['error']}", file=sys.stderr)
                if answer.get("supported"):
                    live.append(library)
                    row[library] = {"images": answer["images"], "throughputs": []}
            for run in range(args.runs):
                turn = run % max(
                    1, len(live)
                )  # each run starts with the next library: none always follows the same one
                for library in live[turn:] + live[:turn]:
                    answer = workers[library].ask(f"run {spec.name}")
                    if "seconds" not in answer:  # failed after its warm-up: left out of this row
                        print(f"{spec.name} / {library}: {answer.get('error')}", file=sys.stderr)
                        live.remove(library)
                        del row[library]
                        continue
                    row[library]["throughputs"].append(answer["images"] / answer["seconds"])
            results[spec.name] = row
            line = ", ".join(f"{lib} {statistics.median(r['throughputs']):,.0f}" for lib, r in row.items())
            print(f"{spec.name}: {line}", file=sys.stderr)
    finally:
        for worker in workers.values():
            worker.close()
    elapsed = time.perf_counter() - started
    if revision() != code:
        print(f"augcli's code changed during the run ({code} -> {revision()}): numbers mix both", file=sys.stderr)
    found = {lib: w.versions for lib, w in workers.items()}
    if "augcli" in found:
        found["augcli"]["augcli"] += f" ({code})"
    report(args, specs, results, found, elapsed)


def report(
    args: argparse.Namespace,
    specs: list[Spec],
    results: dict[str, dict[str, Any]],
    found: dict[str, dict[str, str]],
    elapsed: float,
) -> None:
    def median(name: str, library: str) -> float | None:
        entry = results[name].get(library)
        return statistics.median(entry["throughputs"]) if entry else None

    print(f"machine: {machine()}; Python {platform.python_version()}")
    print("versions: " + "; ".join(", ".join(f"{k} {v}" for k, v in found[lib].items()) for lib in found))
    print(
        f"{args.images} images (scikit-image sample photos, ImageNet-like crops), {args.runs} runs per transform "
        f"and library, one thread; median images/s ± std of the runs; {elapsed:.0f} s in all\n"
    )
    print("| transform | augcli | albumentations | torchvision | kornia | augcli / albumentations |")
    print("|---|---:|---:|---:|---:|---:|")
    ratios = []
    for spec in specs:
        row = results[spec.name]
        cells = []
        for library in LIBRARIES:
            entry = row.get(library)
            cells.append(cell(entry and entry["throughputs"], bool(entry) and entry["images"] < args.images))
        ours, theirs = median(spec.name, "augcli"), median(spec.name, "albumentations")
        ratio = f"{ours / theirs:.2f}x" if ours and theirs else "-"
        if ours and theirs:
            ratios.append((ours / theirs, spec.name))
        print(f"| {spec.name} | " + " | ".join(cells) + f" | {ratio} |")
    if ratios:
        faster = sum(ratio >= 1 for ratio, _ in ratios)
        print(
            f"\naugcli >= albumentations on {faster} of {len(ratios)} transforms ({faster / len(ratios):.0%}; "
            f"target 90%); median augcli / albumentations {statistics.median(r for r, _ in ratios):.2f}x "
            "(target 1.3x)"
        )
        slower = sorted(r for r in ratios if r[0] < 1)
        if slower:
            print("slower than albumentations: " + ", ".join(f"{name} {ratio:.2f}x" for ratio, name in slower))
    if any(entry["images"] < args.images for row in results.values() for entry in row.values()):
        print(f"* fewer images per run: a pass over all {args.images} was projected over {args.max_run_seconds} s")
    print("\nparameter differences:")
    for spec in specs:
        if spec.note:
            print(f"- {spec.name}: {spec.note}")
    out = WORK / "transforms_results.json"
    out.write_text(json.dumps({"machine": machine(), "versions": found, "results": results}, indent=1))


def profile(args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    ensure_images(args.images, args.ski_python)
    for variable in THREAD_VARS:
        os.environ.setdefault(variable, "1")
    factories = augcli_transforms(args.rng_per_image)
    images = load_images("augcli", args.images)
    for name in args.profile:
        apply = factories[name]()
        one_pass(apply, images[:10])
        profiler = cProfile.Profile()
        profiler.enable()
        seconds = one_pass(apply, images)
        profiler.disable()
        print(f"\n=== {name}: {len(images) / seconds:,.0f} images/s under cProfile")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(14)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--only", nargs="+", choices=list(BY_NAME), help="these transforms only")
    parser.add_argument("--albumentations-python", help="default: albumentations's own venv, made once")
    parser.add_argument("--torchvision-python", help="default: torchvision's own venv, made once")
    parser.add_argument("--kornia-python", help="default: torchvision's own venv, made once")
    parser.add_argument("--ski-python", help="default: scikit-image's own venv, made once")
    parser.add_argument("--max-run-seconds", type=float, default=2.0, help="longest pass before images are cut")
    parser.add_argument("--rng-per-image", action="store_true", help="augcli: a new Generator for every image")
    parser.add_argument("--profile", nargs="+", choices=list(BY_NAME), help="cProfile augcli on these transforms")
    parser.add_argument("--no-wait", action="store_true", help="time even while other benchmarks run")
    parser.add_argument("--serve", choices=LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--make-images", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_images:
        make_images(args.images)
    elif args.serve:
        serve(args.serve, args.images, args.max_run_seconds, args.rng_per_image)
    elif args.profile:
        profile(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
