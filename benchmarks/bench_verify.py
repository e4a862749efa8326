"""Read-back benchmark: `verify`, `replay --all` and `report` must be linear in the number of outputs.

Workload: OUTPUTs of 10k, 50k and 100k files made by augcli from small text files (one line each,
4 copies plus the original per input). Each command is timed as a whole process, best of
`--repeat`; the table gives seconds and the time per 10k outputs relative to the 10k set (1.00 is
exactly linear; the target is at most 1.2).

    python benchmarks/bench_verify.py [--sizes 10000 50000 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, fresh

RECIPE = "seed: 1\ncopies: 4\ntext:\n  transforms: [random_swap]\n"
COMMANDS = {
    "verify": lambda out: ["verify", str(out)],
    "replay --all": lambda out: ["replay", str(out), "--all"],
    "report": lambda out: ["report", str(out)],
}


def make_output(outputs: int) -> Path:
    """An OUTPUT of `outputs` files (inputs x 5), made once and kept for later runs."""
    inputs = outputs // 5
    data, out = WORK / f"verify_in_{outputs}", WORK / f"verify_out_{outputs}"
    if (out / "manifest.csv").is_file():
        return out
    fresh(data)
    for i in range(inputs):
        folder = data / f"part{i % 100:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"t{i:06d}.txt").write_text(f"sample number {i} with a few plain words in it\n")
    recipe = WORK / "verify.yaml"
    recipe.write_text(RECIPE)
    subprocess.run([sys.executable, "-m", "augcli", "run", str(recipe), str(data), str(out), "-q"], check=True)
    return out


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "augcli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    seconds: dict[str, dict[int, float]] = {name: {} for name in COMMANDS}
    for size in args.sizes:
        out = make_output(size)
        for name, command in COMMANDS.items():
            seconds[name][size] = min(timed(command(out)) for _ in range(args.repeat))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| command | " + " | ".join(f"{s:,} outputs" for s in args.sizes) + " | per 10k vs the smallest |")
    print("|---|" + "---:|" * len(args.sizes) + "---|")
    smallest = args.sizes[0]
    for name, by_size in seconds.items():
        base = by_size[smallest] / smallest
        ratios = ", ".join(f"{by_size[s] / s / base:.2f}" for s in args.sizes[1:])
        print(f"| {name} | " + " | ".join(f"{by_size[s]:.1f} s" for s in args.sizes) + f" | {ratios} |")


if __name__ == "__main__":
    main()
