"""The tabular modality end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.test_cli import invoke, read_manifest, tree_digest
from tests.test_tabular import imbalanced, write_table

RECIPE = """\
seed: 5
copies: 2
tabular:
  label: label
  ignore: [id]
  transforms:
    - gaussian_noise: {std: 0.1}
    - one_of: [scale, categorical_resample]
  resample: {method: smote, k_neighbors: 3}
"""


def dataset(root: Path) -> Path:
    write_table(root / "a" / "train.csv", imbalanced(80, 5, seed=1))
    write_table(root / "b" / "more.tsv", imbalanced(50, 10, seed=2), sep="\t")
    write_table(root / "b" / "tiny.csv", pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["p", "p", "p", "q"]}))
    (root / "b" / "ragged.csv").write_text("x,label\n1,p\n2,p,extra\n")
    write_table(root / "c" / "nolabel.csv", pd.DataFrame({"x": [1.0, 2.0], "klass": ["p", "q"]}))
    return root


def test_tables_are_byte_identical_across_worker_counts_and_problems_are_reported(tmp_path):
    data = dataset(tmp_path / "data")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    digests = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        result = invoke("run", recipe, data, out, "--workers", workers, "--allow-failures")
        assert result.exit_code == 0, result.output
        assert "failed: b/ragged.csv: ragged table: line 3 has 3 fields, the header has 2" in result.output
        assert "failed: c/nolabel.csv: label column 'label' not in this table (its columns: x, klass)" in result.output
        assert "warning: b/tiny.csv: class 'q' has one row, too few to interpolate: its 6 new rows repeat it" in (
            result.output
        )
        digests.append(tree_digest(out))
    assert digests[0] == digests[1]
    assert sorted(digests[0]) == ["README.md", "a/train.csv", "b/more.tsv", "b/tiny.csv", "manifest.csv"]  # + data card
    rows = {row["output"]: row for row in read_manifest(tmp_path / "out1")}
    assert json.loads(rows["a/train.csv"]["rows"]) == {"original": 80, "augmented": 160, "synthetic": 144}
    assert (rows["a/train.csv"]["kind"], rows["a/train.csv"]["copy"]) == ("table", "-1")
    train = pd.read_csv(tmp_path / "out1" / "a" / "train.csv")
    assert train["label"].value_counts().to_dict() == {"common": 192, "rare": 192}


def test_verbose_shows_notes(tmp_path):
    data = tmp_path / "data"
    write_table(data / "t.csv", pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "label": ["p"] * 4 + ["q"] * 2}))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    quiet = invoke("run", recipe, data, tmp_path / "out")
    assert "note:" not in quiet.output
    loud = invoke("run", recipe, data, tmp_path / "out2", "-v")
    assert "note: t.csv: k_neighbors reduced from 3 to 1 to fit the smallest class" in loud.output


def test_shipped_tabular_recipe_balances_the_shipped_table(tmp_path):
    root = Path(__file__).resolve().parent.parent
    result = invoke("run", root / "configs" / "tabular.yaml", root / "sample_data" / "tabular", tmp_path / "out")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "loans.csv")
    source = pd.read_csv(root / "sample_data" / "tabular" / "loans.csv")
    assert list(table.columns) == [*source.columns, "origin"]
    counts = table["defaulted"].value_counts()
    assert counts["yes"] == counts["no"] == 3 * (source["defaulted"] == "no").sum()
