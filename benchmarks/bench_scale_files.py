"""Cost as the dataset grows: many tiny inputs, first run, no-op rerun and --check (issue: speed three).

Workload: N tiny PNG pictures (16x16, 1,000 to a folder, made here from 64 pre-encoded pictures and
deleted after), one copy each through `hflip`. Each size is timed as whole processes, start-up
included:

- first: a run into an empty OUTPUT;
- no-op: a rerun with nothing changed (target at 1,000,000 files: under 60 s);
- check: `run --check` on the up-to-date OUTPUT;

with the main process's peak resident memory (VmHWM, workers not included; target under 1 GB) and
the size on disk of augcli's state files at OUTPUT's root. Every figure should grow no faster than
the number of files; the last columns give each size's figure per 1,000 files.

    python benchmarks/bench_scale_files.py [--sizes 10000 100000 1000000] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PEAK_RSS_MB, WORK, fresh, timed

RECIPE = """\
seed: 1
copies: 1
image:
  transforms:
    - hflip: {p: 1.0}
"""
PER_FOLDER = 1000


def tiny_pictures(count: int = 64) -> list[bytes]:
    rng = np.random.default_rng(0)
    encoded = []
    for _ in range(count):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(buffer, "PNG", compress_level=1)
        encoded.append(buffer.getvalue())
    return encoded


def make_inputs(folder: Path, count: int) -> None:
    """count tiny PNGs in folders of PER_FOLDER; written as bytes (no encoder per file)."""
    fresh(folder)
    pictures = tiny_pictures()
    for start in range(0, count, PER_FOLDER):
        sub = folder / f"part{start // PER_FOLDER:04d}"
        sub.mkdir()
        for index in range(start, min(count, start + PER_FOLDER)):
            (sub / f"img{index:07d}.png").write_bytes(pictures[index % len(pictures)])


def state_bytes(out: Path) -> int:
    return sum(path.stat().st_size for path in out.glob(".augcli-*") if path.is_file())


def measure(count: int, workers: int, keep: bool) -> dict[str, float]:
    inputs, out = WORK / "scale_files_in", WORK / "scale_files_out"
    recipe = WORK / "scale_files.yaml"
    recipe.write_text(RECIPE)
    make_inputs(inputs, count)
    shutil.rmtree(out, ignore_errors=True)
    run = ["run", str(recipe), str(inputs), str(out), "-q", "--workers", str(workers)]
    try:
        figures = {
            "first": timed(*run, name=f"first {count}"),
            "no-op": timed(*run, name=f"no-op {count}", expect=0),
            "check": timed(*run, "--check", name=f"check {count}", expect=0),
        }
        figures["state MB"] = state_bytes(out) / 1e6
        for kind in ("first", "no-op", "check"):
            figures[f"{kind} MB"] = PEAK_RSS_MB[f"{kind} {count}"]
        return figures
    finally:
        if not keep:
            shutil.rmtree(inputs, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="leave the last size's INPUT and OUTPUT")
    args = parser.parse_args()
    rows = {count: measure(count, args.workers, args.keep) for count in args.sizes}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"tiny 16x16 PNGs x 1 copy (hflip), {args.workers} workers; seconds and main-process peak MB\n")
    print("| files | first s | no-op s | check s | peak MB first / no-op / check | state MB | no-op s per 1k |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count, row in rows.items():
        peaks = f"{row['first MB']:.0f} / {row['no-op MB']:.0f} / {row['check MB']:.0f}"
        print(
            f"| {count:,} | {row['first']:.1f} | {row['no-op']:.2f} | {row['check']:.2f} | {peaks} "
            f"| {row['state MB']:.1f} | {row['no-op'] / count * 1000:.3f} |"
        )


if __name__ == "__main__":
    main()
