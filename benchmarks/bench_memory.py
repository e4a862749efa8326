"""Memory benchmark: peak resident memory of augcli on one large table (issue: hostile inputs, bounded
resources). Target: `gaussian_noise` on a 100 MB CSV peaks under 3x the file's size.

The table is numeric (8 float columns and a class label); one copy plus the originals. A single
input runs in the main process (workers are capped at the number of files), so the main process's
VmHWM is the whole run's peak. The main process of a 10,000-file run is measured by
bench_rebuild.py.

    python benchmarks/bench_memory.py [--megabytes 100] [--copies 1]
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
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK

RECIPE = "copies: {copies}\ntabular:\n  label: label\n  transforms:\n    - gaussian_noise: {{std: 0.05}}\n"


def make_table(path: Path, megabytes: int) -> None:
    if path.exists() and abs(path.stat().st_size / 1e6 - megabytes) < megabytes * 0.05:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = int(megabytes * 1e6 / 77)  # about 77 bytes a row
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"f{i}": rng.normal(size=rows).round(6) for i in range(8)})
    frame["label"] = rng.choice(["a", "b", "c"], size=rows)
    frame.to_csv(path, index=False)


def peak_mb(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB of the process) for one augcli run."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
        time.sleep(0.02)
    _, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(stderr)
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    inputs = WORK / "memory_in"
    table = inputs / "big.csv"
    make_table(table, args.megabytes)
    recipe = WORK / "memory.yaml"
    recipe.write_text(RECIPE.format(copies=args.copies))
    out = WORK / "memory_out"
    shutil.rmtree(out, ignore_errors=True)
    seconds, peak = peak_mb([sys.executable, "-m", "augcli", "run", str(recipe), str(inputs), str(out), "-q"])
    imports = "import augcli.cli, augcli.build.runner, augcli.tabular.table, time"
    _, floor = peak_mb([sys.executable, "-c", imports + "; time.sleep(0.3)"])  # what a tabular run imports
    size = table.stat().st_size / 2**20
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"table: {size:.0f} MiB CSV, gaussian_noise, {args.copies} copy(ies) + originals; {seconds:.1f} s")
    print(f"peak resident memory: {peak:.0f} MiB = {peak / size:.2f}x the file")
    print(f"of which the interpreter and imports alone: {floor:.0f} MiB")


if __name__ == "__main__":
    main()
