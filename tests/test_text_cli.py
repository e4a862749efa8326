"""The text modality end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import invoke, read_manifest, tree_digest

ROOT = Path(__file__).resolve().parent.parent


def test_text_run_is_byte_identical_across_worker_counts(tmp_path):
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "a" / "one.txt").write_text("The quick brown fox jumps.\nA lazy dog sleeps all day long.\n")
    (data / "a" / "two.txt").write_text("Bright stars shine over the quiet sea.\n")
    (data / "b.jsonl").write_text('{"text": "Happy people dance in the warm rain", "y": 1}\n{"text": oops}\n')
    (data / "c.jsonl").write_text('{"text": "Happy people dance in the warm rain", "y": 1}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 9\ncopies: 3\ntext:\n  transforms:\n    - eda\n    - keyboard_typo: {p: 0.5}\n")
    digests = []
    for workers in (1, 2):
        result = invoke("run", recipe, data, tmp_path / f"out{workers}", "--workers", workers, "--allow-failures")
        assert result.exit_code == 0 and result.output.count("failed: b.jsonl: line 2 is not JSON") == 1
        digests.append(tree_digest(tmp_path / f"out{workers}"))
    assert digests[0] == digests[1]
    assert len(digests[0]) == 1 + 2 * 4 + 1  # manifest, two .txt x (original + 3 copies), one table
    rows = {row["output"]: row for row in read_manifest(tmp_path / "out1")}
    assert json.loads(rows["c.jsonl"]["rows"]) == {"original": 1, "augmented": 3, "synthetic": 0}
    assert json.loads(rows["a/one_aug2.txt"]["transforms"])[0]["name"] == "eda"


def test_shipped_text_recipe_keeps_lines_aligned(tmp_path):
    result = invoke("run", ROOT / "configs" / "text.yaml", ROOT / "sample_data" / "text", tmp_path / "out")
    assert result.exit_code == 0, result.output
    source_lines = (ROOT / "sample_data" / "text" / "reviews.txt").read_text().count("\n")
    for k in range(4):
        assert (tmp_path / "out" / f"reviews_aug{k}.txt").read_text().count("\n") == source_lines
    lines = (tmp_path / "out" / "questions.jsonl").read_text().splitlines()
    assert len(lines) == 8 * 5 and [json.loads(line)["id"] for line in lines[:5]] == [1] * 5
