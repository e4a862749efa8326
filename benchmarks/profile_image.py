"""Where an image copy's time goes: milliseconds per output for each stage of the image benchmark's
pipeline (issue #16), measured in one process on one core (OpenCV single-threaded, as in a worker).

Stages: decode (once per input, shared by its copies), plan (drawing the parameters), each merged
op as run_ops runs it (warp, colour, erase, ...), encode (JPEG q95) and write. Not a test.

    python benchmarks/profile_image.py [--images 50] [--copies 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_images import RECIPE, make_inputs
from common import WORK


def _name(op) -> str:
    kind = type(op).__name__
    if kind == "Kernel":
        return f"kernel {op.function.__name__}"
    return {"Warp": "warp (merged geometry)", "Recolor": "colour (merged colour map)"}.get(kind, kind)


def main() -> None:
    import cv2

    from augcli.build import pool
    from augcli.core.recipe import parse_recipe
    from augcli.core.seeding import rng_for
    from augcli.core.transforms import plan_pipeline
    from augcli.image import io
    from augcli.image.ops import run_ops
    from augcli.image.transforms import ImageInfo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    pool.tune_allocator()  # as in a worker: large buffers stay in the heap, no fresh page faults per copy
    paths = make_inputs(WORK / f"input_{max(args.images, 200)}", max(args.images, 200))[: args.images]
    section = parse_recipe(RECIPE.format(copies=args.copies)).sections["image"]
    spent: dict[str, float] = defaultdict(float)
    outputs = 0
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            started = time.perf_counter()
            decoded = io.load(path)
            spent["decode (once per input)"] += time.perf_counter() - started
            for copy in range(args.copies):
                started = time.perf_counter()
                applied, _ = plan_pipeline(
                    section.transforms, rng_for(1, path.name, copy), ImageInfo.of(decoded.pixels)
                )
                ops = [a.transform.op(a.info, **a.params) for a in applied]
                spent["plan (draw parameters)"] += time.perf_counter() - started
                pixels = decoded.pixels
                for op in _merged(ops):
                    started = time.perf_counter()
                    pixels = run_ops(pixels, [op])
                    spent[_name(op)] += time.perf_counter() - started
                started = time.perf_counter()
                data = io.encode(pixels, decoded, section.options["output"])
                spent["encode (JPEG q95)"] += time.perf_counter() - started
                started = time.perf_counter()
                Path(folder, f"{copy}.jpg").write_bytes(data)
                spent["write"] += time.perf_counter() - started
                outputs += 1
    total = sum(spent.values())
    print(f"{args.images} inputs x {args.copies} copies = {outputs} outputs, one core\n")
    print("| stage | ms per output | share |")
    print("|---|---:|---:|")
    for stage, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {stage} | {seconds / outputs * 1000:.2f} | {seconds / total:.0%} |")
    print(f"| **all** | **{total / outputs * 1000:.2f}** | |")
    print(f"\nthat is {outputs / total:.0f} outputs/s on one core, before start-up and process overheads")


def _merged(ops: list) -> list:
    """The ops as run_ops runs them: neighbours merged (one warp, one colour map)."""
    merged: list = []
    for op in ops:
        joined = merged[-1].merge(op) if merged else None
        if joined is not None:
            merged[-1] = joined
        else:
            merged.append(op)
    return merged


if __name__ == "__main__":
    main()
