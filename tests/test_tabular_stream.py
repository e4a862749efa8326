"""Large tables in chunks: the same bytes as the whole-table path while a table fits one chunk,
and the same promises (originals verbatim, same-class donors, integer columns, determinism) when
it spans many."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from augcli.core.modalities import MODALITIES
from augcli.core.recipe import parse_recipe
from augcli.core.seeding import FileRngs
from augcli.tabular import stream
from tests.test_tabular import imbalanced, write_table

NOISE = "tabular:\n  label: label\n  transforms:\n    - gaussian_noise: {std: [0.05, 0.2]}\n"
MIXED = (
    "tabular:\n  label: label\n  categorical: [colour]\n  transforms:\n"
    "    - scale: {factor: 0.1, p: 0.5}\n    - categorical_resample: {columns: [colour], p: 0.7}\n"
)


def table(rows: int = 60) -> pd.DataFrame:
    frame = imbalanced(rows)
    frame["colour"] = np.where(np.arange(rows) % 3 == 0, "red", np.where(np.arange(rows) % 3 == 1, "blue", "green"))
    frame.loc[frame.index % 11 == 4, "y"] = np.nan
    return frame


def render(path, section_yaml: str, streamed: bool, monkeypatch, copies: int = 2, keep: bool = True):
    monkeypatch.setattr(stream, "STREAM_BYTES", 0 if streamed else 1 << 62)
    recipe = parse_recipe(f"seed: 3\ncopies: {copies}\nkeep_original: {str(keep).lower()}\n{section_yaml}")
    rendered = MODALITIES["tabular"].render_table(path, recipe.sections["tabular"], copies, FileRngs(3, path.name))
    data = rendered.data if isinstance(rendered.data, bytes) else b"".join(rendered.data)
    return data, rendered


@pytest.mark.parametrize(
    ("section", "keep", "write"),
    [
        (NOISE, True, {}),
        (MIXED, True, {"lineterminator": "\r\n"}),
        (MIXED, False, {}),
        (NOISE + "  provenance_column: origin\n", True, {"sep": "\t"}),
        (MIXED + "  provenance_column: origin\n", False, {"encoding": "utf-8-sig"}),
        (NOISE, True, {"no_final_newline": True}),
    ],
)
def test_one_chunk_gives_the_whole_table_paths_bytes(tmp_path, monkeypatch, section, keep, write):
    suffix = ".tsv" if write.get("sep") == "\t" else ".csv"
    clipped = write.pop("no_final_newline", False)
    path = write_table(tmp_path / f"t{suffix}", table(), **write)
    if clipped:
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    whole, whole_rendered = render(path, section, False, monkeypatch, keep=keep)
    streamed, streamed_rendered = render(path, section, True, monkeypatch, keep=keep)
    assert isinstance(whole_rendered.data, bytes) and not isinstance(streamed_rendered.data, bytes)
    assert streamed == whole
    assert streamed_rendered.records == whole_rendered.records and streamed_rendered.rows == whole_rendered.rows


def test_many_chunks_keep_every_promise(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK_ROWS", 7)
    frame = table(60)
    path = write_table(tmp_path / "t.csv", frame)
    first, rendered = render(path, MIXED, True, monkeypatch, copies=3)
    again, _ = render(path, MIXED, True, monkeypatch, copies=3)
    assert first == again  # deterministic
    raw = path.read_bytes()
    assert first.startswith(raw)  # the originals, byte for byte
    out = pd.read_csv(io.BytesIO(first))
    assert len(out) == 60 * 4 and rendered.rows == {"original": 60, "augmented": 180, "synthetic": 0}
    copies = out.iloc[60:].reset_index(drop=True)
    originals = pd.concat([frame] * 3, ignore_index=True)
    assert (copies["count"] == copies["count"].round()).all() and copies["count"].dtype == np.int64
    assert (copies["label"] == originals["label"]).all()  # rows stay in order, copy after copy
    colours = {label: set(frame.loc[frame["label"] == label, "colour"]) for label in ("rare", "common")}
    for label, colour in zip(copies["label"], copies["colour"], strict=True):
        assert colour in colours[label]  # donors come from the row's class, across chunk borders
    changed = (copies["colour"] != originals["colour"]).mean()
    assert 0.1 < changed < 0.7
    scaled = copies["x"] != originals["x"]
    assert 0.3 < scaled.mean() < 0.7  # p 0.5 per row
    ratio = (copies["x"] / originals["x"])[scaled]
    assert ratio.between(0.9 - 1e-9, 1.1 + 1e-9).all()
    fired = next(r["rows"] for r in rendered.records if r["name"] == "scale")
    assert scaled.sum() <= fired <= scaled.sum() + 3  # a row at the column's max may be clipped back


def test_donors_without_a_label_come_from_the_whole_table(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK_ROWS", 5)
    frame = pd.DataFrame({"v": np.arange(40, dtype=float), "tag": [f"t{i}" for i in range(40)]})
    path = write_table(tmp_path / "t.csv", frame)
    section = "tabular:\n  categorical: [tag]\n  transforms:\n    - categorical_resample: {columns: [tag]}\n"
    data, _ = render(path, section, True, monkeypatch, copies=1, keep=False)
    out = pd.read_csv(io.BytesIO(data))
    first_chunk = set(out["tag"].iloc[:5])
    assert first_chunk - {f"t{i}" for i in range(5)}  # drawn beyond the chunk's own rows


def test_a_large_table_is_streamed_and_a_ragged_one_named(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3\n")
    recipe = parse_recipe(NOISE.replace("  label: label\n", ""))
    section = recipe.sections["tabular"]
    assert stream.worth_streaming(path, section)
    with pytest.raises(Exception, match="ragged table: line 3 has 1 fields, the header has 2"):
        MODALITIES["tabular"].render_table(path, section, 1, FileRngs(0, "bad.csv"))
    smote = parse_recipe("tabular:\n  label: label\n  resample: {method: smote}\n").sections["tabular"]
    assert not stream.worth_streaming(path, smote)  # resampling needs the whole table


def test_chunks_that_disagree_fall_back_to_the_whole_table(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK_ROWS", 10)
    frame = table(40)
    frame["mixed"] = [str(i) for i in range(39)] + ["unknown"]  # numbers in three chunks, text in the last
    frame["gappy"] = pd.array([i if i != 33 else None for i in range(40)], dtype="Int64")  # ints, one gap
    path = write_table(tmp_path / "t.csv", frame)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    recipe = parse_recipe(f"seed: 3\ncopies: 2\n{NOISE}")
    assert stream._survey(path, recipe.sections["tabular"]) is None  # 'mixed' changes role
    streamed, _ = render(path, NOISE, True, monkeypatch)
    whole, _ = render(path, NOISE, False, monkeypatch)
    assert streamed == whole
    path = write_table(tmp_path / "u.csv", frame.drop(columns=["mixed"]))
    survey = stream._survey(path, recipe.sections["tabular"])
    assert survey is not None and "gappy" not in survey.schema.integer and survey.gaps["gappy"]
    data, _ = render(path, NOISE, True, monkeypatch)
    out = pd.read_csv(io.BytesIO(data))
    assert len(out) == 120 and out["gappy"].isna().sum() == 3


def test_a_blank_label_in_a_later_chunk_is_named_by_its_row(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK_ROWS", 10)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    frame = table(30)
    frame["label"] = frame["label"].astype(object)
    frame.loc[24, "label"] = None
    path = write_table(tmp_path / "t.csv", frame)
    with pytest.raises(Exception, match=r"label column 'label' is empty in row 25 "):
        render(path, NOISE, True, monkeypatch)
