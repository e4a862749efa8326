"""Text and table outputs that training code reads as they are: provenance columns, copies that
differ from their source, line-aligned label files, integer ids on synthetic rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.test_cli import invoke, read_manifest


def run(tmp_path: Path, recipe: str, files: dict[str, str], *extra: str):
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (data / name).write_text(text)
    (tmp_path / "recipe.yaml").write_text(recipe)
    out = tmp_path / "out"
    return invoke("run", tmp_path / "recipe.yaml", data, out, *extra), out


SWAP = "text:\n  include: ['*.txt', '*.csv', '*.jsonl']\n{extra}  transforms: [random_swap]\n"


def test_text_tables_get_a_provenance_column(tmp_path):
    recipe = "copies: 2\n" + SWAP.replace("{extra}", "  provenance_column: origin\n")
    files = {"t.csv": "id,text\n1,one two three four\n2,five six seven eight\n", "t.jsonl": '{"text": "a b c d"}\n'}
    result, out = run(tmp_path, recipe, files)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "t.csv")
    assert list(table["origin"]) == ["original", "copy 0", "copy 1"] * 2
    assert list(table["id"]) == [1, 1, 1, 2, 2, 2] and table["id"].dtype == "int64"
    lines = [json.loads(line) for line in (out / "t.jsonl").read_text().splitlines()]
    assert [line["origin"] for line in lines] == ["original", "copy 0", "copy 1"]
    assert lines[0]["text"] == "a b c d"


def test_a_provenance_column_that_exists_fails_that_table(tmp_path):
    recipe = SWAP.replace("{extra}", "  provenance_column: id\n")
    result, _ = run(tmp_path, recipe, {"t.csv": "id,text\n1,one two three\n"})
    assert result.exit_code == 1 and "provenance_column 'id' already is a column" in result.output


def _unchanged(table: pd.DataFrame) -> list[int]:
    """Ids of the copies (rows after each original) equal to their original."""
    originals = table.iloc[::4].set_index("id")["text"]
    copies = table[[i % 4 != 0 for i in range(len(table))]]
    return [row.id for row in copies.itertuples() if row.text == originals[row.id]]


def test_unique_redraws_copies_that_came_out_unchanged(tmp_path):
    table = "id,text\n" + "".join(f"{i},word{i} other{i} more{i}\n" for i in range(60))
    table += "".join(f"{i},single{i}\n" for i in range(60, 65))  # one word: no swap can change it
    plain = "seed: 3\ncopies: 3\ntext:\n  include: ['*.csv']\n  transforms: [{random_swap: {p: 0.5}}]\n"
    result, out = run(tmp_path / "plain", plain, {"t.csv": table})
    assert result.exit_code == 0, result.output
    unchanged = _unchanged(pd.read_csv(out / "t.csv"))
    assert len(unchanged) > 60  # p 0.5: about half of the 195 copies are untouched
    unique = plain.replace("  transforms:", "  unique: true\n  transforms:")
    result, out = run(tmp_path / "unique", unique, {"t.csv": table})
    assert result.exit_code == 0, result.output
    unchanged = _unchanged(pd.read_csv(out / "t.csv"))
    assert unchanged.count(60) == 3 and set(range(60, 65)) <= set(unchanged)  # one word: every copy is the same
    assert len(unchanged) - 15 <= 6  # the rest only when 6 draws in a row left it alone (0.5^6 of 180)
    (record,) = [r for r in json.loads(table_row(out)["transforms"]) if r["name"] == "unique"]
    assert record["params"] == {"tries": 5, "identical": len(unchanged)} and record["samples"] > 60


def test_a_txt_files_label_file_is_copied_beside_every_copy(tmp_path):
    files = {"reviews.txt": "good film\nbad plot here\n", "reviews.labels": "pos\nneg\n"}
    result, out = run(tmp_path, "copies: 2\n" + SWAP.replace("{extra}", ""), files)
    assert result.exit_code == 0, result.output
    for name in ("reviews.labels", "reviews_aug0.labels", "reviews_aug1.labels"):
        assert (out / name).read_text() == "pos\nneg\n"
    assert len((out / "reviews_aug1.txt").read_text().splitlines()) == 2
    rows = {row["output"]: row for row in read_manifest(out)}
    assert (rows["reviews_aug1.labels"]["source"], rows["reviews_aug1.labels"]["copy"]) == ("reviews.txt", "1")
    assert "skipped" not in result.output
    (tmp_path / "data" / "reviews.labels").write_text("neg\npos\n")  # the labels are part of every copy's key
    again = invoke("run", tmp_path / "recipe.yaml", tmp_path / "data", out)
    assert "0 up to date, 1 made" in again.output and (out / "reviews_aug0.labels").read_text() == "neg\npos\n"


def test_synthetic_rows_keep_an_integer_id_column(tmp_path):
    rows = "".join(f"{i},{i * 0.5:.1f},{i % 7},{'a' if i < 116 else 'b'}\n" for i in range(100, 120))
    recipe = "seed: 1\ncopies: 0\ntabular:\n  label: y\n  id_column: id\n  resample: {method: smote, k_neighbors: 2}\n"
    result, out = run(tmp_path, recipe, {"t.csv": "id,x,n,y\n" + rows})
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "t.csv")
    assert table["id"].dtype == "int64" and table["n"].dtype == "int64"
    assert list(table["id"][20:]) == list(range(120, 132))  # 12 synthetic 'b' rows: 16 vs 4
    bad = recipe.replace("id_column: id", "id_column: x")
    (tmp_path / "recipe.yaml").write_text(bad)
    result = invoke("run", tmp_path / "recipe.yaml", tmp_path / "data", tmp_path / "out2")
    assert result.exit_code == 1 and "id_column 'x' holds values that are not whole numbers" in result.output


def test_balance_gives_rows_of_smaller_classes_more_copies_in_text_tables(tmp_path):
    rows = "".join(f"{i},good film number {i} here,pos\n" for i in range(4)) + "9,bad film right there,neg\n"
    recipe = "copies: 1\ntext:\n  include: ['*.csv']\n  label: label\n  balance: max\n  provenance_column: p\n"
    result, out = run(tmp_path, recipe + "  transforms: [random_swap]\n", {"t.csv": "id,text,label\n" + rows})
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "t.csv")
    assert table["label"].value_counts().to_dict() == {"pos": 8, "neg": 8}
    assert list(table[table["id"] == 9]["p"]) == ["original"] + [f"copy {k}" for k in range(7)]
    (record,) = [r for r in json.loads(table_row(out)["transforms"]) if r["name"] == "balance"]
    assert record["params"]["classes"] == {"neg": {"rows": 1, "copies": [7, 7]}, "pos": {"rows": 4, "copies": [1, 1]}}
    assert json.loads(table_row(out)["rows"]) == {"original": 5, "augmented": 11, "synthetic": 0}
    (tmp_path / "recipe.yaml").write_text(recipe.replace("  label: label\n", "") + "  transforms: [random_swap]\n")
    result = invoke("run", tmp_path / "recipe.yaml", tmp_path / "data", tmp_path / "out2")
    assert result.exit_code == 1 and "balance needs the table's class column: add label: <column>" in result.output


def table_row(out) -> dict[str, str]:
    """The manifest row of the one output table (the data card beside it has a row of its own)."""
    (row,) = [r for r in read_manifest(out) if r["kind"] == "table"]
    return row
