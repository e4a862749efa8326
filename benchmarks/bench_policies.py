"""Speed of `trivial_augment` (issue #26): 1,000 JPEGs (320x240), 5 copies each, whole process.

augcli (`augcli run`, start-up included) against a plain single-process loop that does what
torchvision's TrivialAugmentWide does to a PIL image: decode, one op drawn uniformly at a uniform
strength (the same Pillow calls torchvision makes, on the PIL image: no numpy round trip), encode
JPEG q95. With `--torchvision` and
torchvision installed, the loop calls `torchvision.transforms.TrivialAugmentWide` itself; without
it the Pillow loop stands in, and the table says which ran.

    python benchmarks/bench_policies.py [--images 1000] [--copies 5] [--repeat 2] [--torchvision]
        [--peer-python PATH]

With `--torchvision`, torchvision runs in a venv of its own that the benchmark makes on first use
(benchmarks/peers.py), or in `--peer-python`.

Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, default_workers, fastest_of, fresh, print_table, run_augcli, run_peer_process
from peers import resolve


def make_inputs(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    if len(list(folder.glob("*.jpg"))) != count:
        fresh(folder)
        y, x = np.mgrid[0:240, 0:320]
        for k in range(count):
            base = np.dstack([(x + 7 * k) % 256, (y * 2 + k) % 256, (x + y) % 256])
            noise = rng.integers(0, 30, base.shape)
            Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(
                folder / f"img_{k:04d}.jpg", quality=90
            )
    return sorted(folder.glob("*.jpg"))


def peer(kind: str, inputs: Path, copies: int) -> None:
    out = fresh(WORK / f"out_{kind}")
    if kind == "torchvision":
        from torchvision.transforms import TrivialAugmentWide

        augment = TrivialAugmentWide()
    else:
        from augcli.image import policies

        rng = np.random.default_rng(0)
        names = list(policies.WIDE)

        def augment(image: Image.Image) -> Image.Image:
            # PIL image in, PIL image out, as torchvision's _apply_op: no numpy round trip
            op = names[int(rng.integers(len(names)))]
            width, height = image.size
            value = 0.0
            if policies.WIDE[op]:
                value = policies.magnitude(policies.WIDE, op, int(rng.integers(31)), 31, width, height)
            value = policies.draw_sign(rng, op, value)
            if op == "identity":
                return image
            if op in policies.GEOMETRIC:
                return policies.warp_image(image, op, value)
            return policies.pil_colour(image, op, value)

    for path in sorted(inputs.glob("*.jpg")):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        for k in range(copies):
            augment(image).save(out / f"{path.stem}_aug{k}.jpg", quality=95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--torchvision", action="store_true")
    parser.add_argument("--peer-python", help="an interpreter with torchvision (default: its own venv, made once)")
    parser.add_argument("--peer")
    parser.add_argument("inputs", nargs="?")
    args = parser.parse_args()
    if args.peer:
        peer(args.peer, Path(args.inputs), args.copies)
        return
    inputs = WORK / "policies_in"
    make_inputs(inputs, args.images)
    reference = "torchvision" if args.torchvision else "pillow_loop"
    peer_python = resolve(args.peer_python, "torchvision") if args.torchvision else args.peer_python
    recipe = (
        f"copies: {args.copies}\nkeep_original: false\nimage:\n  output: {{quality: 95}}\n"
        "  transforms:\n    - trivial_augment: {}\n"
    )
    tools = {
        f"augcli ({args.workers} workers)": lambda: run_augcli(recipe, inputs, args.workers, "policies.yaml"),
        "augcli (1 worker)": lambda: run_augcli(recipe, inputs, 1, "policies.yaml"),
        reference: lambda: run_peer_process(__file__, reference, "--copies", args.copies, inputs, python=peer_python),
    }
    started = time.perf_counter()
    results = fastest_of(tools, args.repeat)
    print(f"trivial_augment, {args.images} JPEGs x {args.copies} copies; reference: {reference}")
    print_table(results, args.images * args.copies, "images", reference, args.repeat)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
