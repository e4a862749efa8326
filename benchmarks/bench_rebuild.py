"""Rebuild benchmark: what a rerun costs when nothing or little changed (issue: the make-like run model).

Workload: 10,000 small PNG images (64x48) in 10 class folders, 4 copies each (50,000 outputs with the
originals). Timed as whole processes (start-up included), best of `--repeat`:

- full:  a first run into an empty OUTPUT;
- no-op: a rerun with nothing changed (target: under 2 s);
- 1%:    a rerun after rewriting 1% of the inputs (target: under 5% of a full run, plus start-up);
- check: `run --check` on the up-to-date OUTPUT;
- start: `augcli --version`, the interpreter and import floor;
- copied: INPUT, OUTPUT and augcli's committed state files copied as a `git clone` leaves them
  (new mtimes and inodes, no cache), then `run --check` (every byte hashed once) and a plain run:
  both must find the set current; the hashing speed is set beside `sha256sum` over the same files;

and the main process's peak resident memory (VmHWM) in the full and no-op runs (target: < 200 MB).

    python benchmarks/bench_rebuild.py [--files 10000] [--copies 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_RSS_MB, WORK, fresh, timed

RECIPE = """\
seed: 1
copies: {copies}
image:
  transforms:
    - hflip: {{p: 0.5}}
    - rotate: {{degrees: 10}}
    - color_jitter: {{brightness: 0.2, contrast: 0.2}}
"""


def make_inputs(folder: Path, count: int) -> list[Path]:
    if folder.exists() and len(list(folder.rglob("*.png"))) == count:
        return sorted(folder.rglob("*.png"))
    fresh(folder)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"class{i % 10}" / f"img{i:05d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path, compress_level=1)
        paths.append(path)
    return paths


def copied_check(recipe: Path, out: Path) -> tuple[tuple[float, float], float, float]:
    """(--check, plain run) seconds on a copy of INPUT + OUTPUT with new times and no stat cache,
    the seconds sha256sum takes over the same files, and their size in MB."""
    copy_in, copy_out = WORK / "rebuild_copy_in", WORK / "rebuild_copy_out"
    for source, target in ((WORK / "rebuild_in", copy_in), (out, copy_out)):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, copy_function=shutil.copyfile)  # new mtimes and inodes
    for name in (".augcli-cache.json", ".augcli-lock", ".augcli-journal.jsonl"):
        (copy_out / name).unlink(missing_ok=True)  # what a clone does not have
    files = [p for folder in (copy_in, copy_out) for p in folder.rglob("*") if p.is_file()]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    subprocess.run(["sync"], check=False)
    started = time.perf_counter()
    for start in range(0, len(files), 2000):  # one process per batch, as xargs would
        batch = [str(p) for p in files[start : start + 2000]]
        subprocess.run(["sha256sum", *batch], stdout=subprocess.DEVNULL, check=True)
    sha256sum_seconds = time.perf_counter() - started
    (copy_out / ".augcli-cache.json").unlink(missing_ok=True)
    run = ["run", str(recipe), str(copy_in), str(copy_out), "-q"]
    check = timed(*run, "--check", expect=0)
    (copy_out / ".augcli-cache.json").unlink(missing_ok=True)
    plain = timed(*run, expect=0)
    return (check, plain), sha256sum_seconds, megabytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = make_inputs(WORK / "rebuild_in", args.files)
    recipe = WORK / "rebuild.yaml"
    recipe.write_text(RECIPE.format(copies=args.copies))
    out = WORK / "rebuild_out"
    run = ["run", str(recipe), str(WORK / "rebuild_in"), str(out), "-q"]
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    rng = np.random.default_rng(1)
    for _ in range(args.repeat):
        shutil.rmtree(out, ignore_errors=True)
        keep("full", timed(*run, name="full"))
        keep("no-op", timed(*run, name="no-op"))
        keep("check", timed(*run, "--check"))
        changed = rng.choice(len(inputs), size=max(1, len(inputs) // 100), replace=False)
        for index in changed:
            Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(inputs[index])
        keep("1% changed", timed(*run))
        keep("start-up", timed("--version"))
    copied_seconds, sha256sum_seconds, megabytes = copied_check(recipe, out)
    keep("copied: --check", copied_seconds[0])
    keep("copied: plain run", copied_seconds[1])
    full, start = best["full"], best["start-up"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.files:,} images x {args.copies} copies; fastest of {args.repeat}\n")
    print("| run | seconds | vs full run |")
    print("|---|---:|---:|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {seconds / full:.1%} |")
    above = best["1% changed"] - start
    print(f"\n1% changed, start-up excluded: {above:.2f} s = {above / (full - start):.1%} of a full run")
    check = copied_seconds[0] - start
    print(
        f"\ncopied with new times: {megabytes:,.0f} MB hashed; --check {megabytes / check:,.0f} MB/s (start-up "
        f"excluded), sha256sum {megabytes / sha256sum_seconds:,.0f} MB/s over the same files: "
        f"{check / sha256sum_seconds:.2f}x its time"
    )
    for name, megabytes in PEAK_RSS_MB.items():
        print(f"main process peak memory, {name} run: {megabytes:.0f} MB (workers not included)")


if __name__ == "__main__":
    main()
