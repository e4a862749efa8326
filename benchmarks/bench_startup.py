"""Start-up: `augcli run` on one small image, end to end (issue #28: under 0.5 s).

A fresh OUTPUT each time, so every run plans, keys, makes and writes its two outputs and the
manifest; the figure is the wall time of the whole process, median and spread of `--runs`. With
`--imports` it also lists the modules whose import takes longest in one such run
(`python -X importtime`), the fixed cost a run pays before any file is read.

    python benchmarks/bench_startup.py [--runs 15] [--imports]

Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, fresh

RECIPE = "image:\n  transforms: [hflip, {rotate: {degrees: 10}}]\n"


def one_run(recipe: Path, inputs: Path, out: Path, *extra: str) -> tuple[float, str]:
    fresh(out)
    command = [sys.executable, "-m", "augcli", "run", str(recipe), str(inputs), str(out), "-q", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--imports", action="store_true")
    args = parser.parse_args()
    inputs = fresh(WORK / "startup_in")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(inputs / "a.jpg")
    recipe = WORK / "startup.yaml"
    recipe.write_text(RECIPE)
    out = WORK / "startup_out"
    one_run(recipe, inputs, out)  # warm the file cache
    times = [one_run(recipe, inputs, out)[0] for _ in range(args.runs)]
    print(
        f"augcli run, one 64x48 JPEG, {args.runs} runs: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s"
    )
    if args.imports:
        fresh(out)
        command = [sys.executable, "-X", "importtime", "-m", "augcli", "run", str(recipe), str(inputs), str(out), "-q"]
        report = subprocess.run(command, capture_output=True, text=True, check=True).stderr
        rows = []
        for line in report.splitlines():
            if line.startswith("import time:") and "|" in line:
                _, cumulative, name = line.split("|")
                if cumulative.strip().isdigit():
                    rows.append((int(cumulative), name.rstrip()))
        print("\nslowest imports (cumulative microseconds, top-level packages):")
        for micro, name in sorted((r for r in rows if not r[1].startswith("    ")), reverse=True)[:12]:
            print(f"  {micro:>9,}  {name.strip()}")


if __name__ == "__main__":
    main()
