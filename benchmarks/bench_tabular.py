"""Tabular benchmark: augcli against the same steps written directly with pandas + imbalanced-learn.

Workload (issue #5): one CSV of 100,000 rows, 30 numeric features, a 1:9 class imbalance;
gaussian_noise with 2 copies, then SMOTE so the written table is balanced. The direct script reads
with pandas, adds the noise with numpy, runs imblearn's SMOTE with the same targets and writes
the CSV: what a user would write by hand, timed as a whole process as augcli is. Then:

    python benchmarks/bench_tabular.py [--rows 100000] [--features 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, fastest_of, fresh, print_table, run_augcli

RECIPE = """\
seed: 1
copies: 2
keep_original: true
tabular:
  label: label
  transforms:
    - gaussian_noise: {std: 0.05}
  resample: {method: smote, k_neighbors: 5}
"""


def make_input(folder: Path, rows: int, features: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "table.csv"
    if not path.exists():
        rng = np.random.default_rng(0)
        label = (rng.random(rows) < 0.1).astype(int)
        values = rng.normal(0, 1, (rows, features)) + label[:, None] * rng.normal(0.5, 0.2, features)
        frame = pd.DataFrame(np.round(values, 6), columns=[f"f{i:02d}" for i in range(features)])
        frame["label"] = label
        frame.to_csv(path, index=False)
    return path


def direct_script(path: Path, out: Path, copies: int = 2, std: float = 0.05) -> None:
    """What a user would write by hand: the same steps, no tool."""
    from imblearn.over_sampling import SMOTE

    frame = pd.read_csv(path)
    features = [c for c in frame.columns if c != "label"]
    values = frame[features].to_numpy(dtype=float)
    rng = np.random.default_rng(1)
    scale = values.std(axis=0, ddof=1)
    lo, hi = values.min(axis=0), values.max(axis=0)
    parts = [frame]
    for _ in range(copies):
        noisy = np.clip(values + rng.standard_normal(values.shape) * std * scale, lo, hi)
        parts.append(pd.DataFrame(noisy, columns=features).assign(label=frame["label"].to_numpy()))
    counts = frame["label"].value_counts() * (copies + 1)
    targets = {c: int(frame["label"].eq(c).sum() + counts.max() - n) for c, n in counts.items()}
    x, y = SMOTE(sampling_strategy=targets, random_state=1).fit_resample(frame[features], frame["label"])
    parts.append(x.iloc[len(frame) :].assign(label=np.asarray(y)[len(frame) :]))
    pd.concat(parts, ignore_index=True).to_csv(out / "table.csv", index=False)


def run_direct(path: Path) -> float:
    """The direct script as its own process, as a user would run it (imports included, like augcli's)."""
    out = fresh(WORK / "out_direct")
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--direct", str(path), str(out)], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--direct", nargs=2, type=Path, metavar=("TABLE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct:
        direct_script(*args.direct)
        return

    folder = WORK / f"tabular_{args.rows}x{args.features}"
    path = make_input(folder, args.rows, args.features)
    tools = {
        "augcli (end to end, subprocess)": lambda: run_augcli(RECIPE, folder, 1, "tabular.yaml"),
        "pandas + imbalanced-learn (direct script, subprocess)": lambda: run_direct(path),
    }
    results = fastest_of(tools, args.repeat)
    print(f"workload: {args.rows} rows x {args.features} features, 1:9 imbalance, 2 noisy copies + SMOTE to balance")
    print_table(results, args.rows, "input rows", "pandas", args.repeat)


if __name__ == "__main__":
    main()
