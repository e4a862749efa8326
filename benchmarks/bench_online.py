"""Online benchmark: the image benchmark's pipeline inside a torch DataLoader (issue #14).

augcli's `AugmentedDataset` (as a user runs it: its own loading, OpenCV decoding JPEGs) against
the same folder read by a Dataset that decodes with OpenCV and applies albumentations' `Compose`,
in the same loader: 2 workers, batch 32, 640x480 JPEG inputs. Each round iterates one epoch; best
of `--repeat` interleaved rounds. Both datasets run in this interpreter, inside one torch
DataLoader (both pay torch's import alike), so albumentations must be importable here:
`pip install -e '.[bench]'` and torch, then:

    python benchmarks/bench_online.py [--images 256] [--repeat 3]

Prints images per second for both and the ratio. Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_images import make_inputs
from common import WORK, fastest_of, print_table

RECIPE = """\
seed: 1
image:
  transforms:
    - hflip: {p: 0.5}
    - rotate: {degrees: 15}
    - random_resized_crop: {scale: [0.8, 1.0], size: [480, 640]}
    - color_jitter: {brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05}
    - random_erasing: {p: 0.3, fill: random}
"""


def _decode(path: Path) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


class AlbumentationsSet:
    def __init__(self, paths: list[Path]) -> None:
        import albumentations as A

        self.paths = paths
        self.pipeline = A.Compose(
            [
                A.HorizontalFlip(p=0.5),
                A.Rotate(limit=15, p=1.0),
                A.RandomResizedCrop(size=(480, 640), scale=(0.8, 1.0), p=1.0),
                A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05, p=1.0),
                A.Erasing(p=0.3, fill="random_uniform"),
            ]
        )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        import torch

        pixels = self.pipeline(image=_decode(self.paths[index]))["image"]
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)


def epoch_seconds(dataset, workers: int, batch: int) -> float:
    from torch.utils.data import DataLoader

    started = time.perf_counter()
    for _ in DataLoader(dataset, batch_size=batch, num_workers=workers, shuffle=False):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import augcli
    from augcli.torch import AugmentedDataset

    root = WORK / f"online_{args.images}"  # a folder per size: the dataset walks all of it
    paths = make_inputs(root / "photos", args.images)
    ours = AugmentedDataset(root, augcli.parse_recipe(RECIPE))
    sets = {"augcli AugmentedDataset": ours, "albumentations Compose": AlbumentationsSet(paths)}
    tools = {name: (lambda s=dataset: epoch_seconds(s, args.workers, args.batch)) for name, dataset in sets.items()}
    results = fastest_of(tools, args.repeat)
    print(f"DataLoader: {args.workers} workers, batch {args.batch}, {args.images} images 640x480 per epoch")
    print_table(results, args.images, "images", "albumentations", args.repeat)


if __name__ == "__main__":
    main()
