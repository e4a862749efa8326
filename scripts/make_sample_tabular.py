"""Generate the small shipped tabular dataset: an imbalanced (about 1:9) labelled CSV.

Run from the repository root: python scripts/make_sample_tabular.py
sample_data/tabular/loans.csv: an id, integer, float, categorical and boolean features, a label.
Deterministic, so rerunning it changes nothing under git.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent / "sample_data" / "tabular"


def main() -> None:
    rng = np.random.default_rng(3)
    rows = 200
    default = rng.random(rows) < 0.1
    frame = pd.DataFrame(
        {
            "loan_id": np.arange(1000, 1000 + rows),
            "age": np.clip(rng.normal(42, 12, rows) - default * 8, 18, 90).round().astype(int),
            "income": np.round(rng.lognormal(10.6, 0.4, rows) * np.where(default, 0.7, 1.0), 2),
            "debt_ratio": np.round(np.clip(rng.beta(2, 5, rows) + default * 0.25, 0, 1), 3),
            "region": rng.choice(["north", "south", "east", "west"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "homeowner": rng.random(rows) < np.where(default, 0.3, 0.6),
            "defaulted": np.where(default, "yes", "no"),
        }
    )
    ROOT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(ROOT / "loans.csv", index=False)


if __name__ == "__main__":
    main()
