"""The tabular modality: row variants, SMOTE-family resampling, dtypes, dialects and bad tables."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augcli.core.errors import InputError
from augcli.core.modalities import MODALITIES
from augcli.core.recipe import RecipeError, parse_recipe
from augcli.core.seeding import FileRngs
from augcli.core.transforms import OneOf, SomeOf
from augcli.tabular.transforms import route


def render(path: Path, section_yaml: str, copies: int = 2, keep_original: bool = True, seed: int = 0):
    recipe = parse_recipe(
        f"seed: {seed}\ncopies: {copies}\nkeep_original: {str(keep_original).lower()}\n{section_yaml}"
    )
    rendered = MODALITIES["tabular"].render_table(path, recipe.sections["tabular"], copies, FileRngs(seed, path.name))
    return rendered, pd.read_csv(io.BytesIO(rendered.data), sep="\t" if path.suffix == ".tsv" else ",")


def write_table(path: Path, frame: pd.DataFrame, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, **kwargs)
    return path


def imbalanced(rows: int = 60, minority_every: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.where(np.arange(rows) % minority_every == 0, "rare", "common")
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "x": rng.normal(0, 1, rows) + (label == "rare") * 3,
            "y": rng.normal(5, 2, rows),
            "count": rng.integers(0, 100, rows),
            "flag": rng.random(rows) < 0.5,
            "label": label,
        }
    )


SMOTE = "tabular:\n  label: label\n  ignore: [id]\n  resample: {method: smote}\n"


def test_smote_balances_the_classes_and_keeps_originals_first(tmp_path):
    frame = imbalanced().drop(columns=["flag"])
    rendered, out = render(write_table(tmp_path / "t.csv", frame), SMOTE, copies=0)
    assert out.iloc[:60].astype({"id": "int64"}).equals(frame)  # ids are blank in synthetic rows: read back as float
    assert out["label"].value_counts().to_dict() == {"common": 50, "rare": 50}
    assert rendered.rows == {"original": 60, "augmented": 0, "synthetic": 40}
    assert out["id"].iloc[60:].isna().all()  # ignored columns are not invented for synthetic rows


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("0.5", {"common": 50, "rare": 25}),
        ("{rare: 30}", {"common": 50, "rare": 30}),
        ("minority", {"common": 50, "rare": 50}),
    ],
)
def test_sampling_strategy_forms(tmp_path, strategy, expected):
    frame = imbalanced().drop(columns=["flag"])
    section = (
        f"tabular:\n  label: label\n  ignore: [id]\n  resample: {{method: smote, sampling_strategy: {strategy}}}\n"
    )
    _, out = render(write_table(tmp_path / "t.csv", frame), section, copies=0)
    assert out["label"].value_counts().to_dict() == expected


def test_every_smote_row_lies_between_two_rows_of_its_class(tmp_path):
    frame = imbalanced(40, 4).drop(columns=["flag", "count"])
    _, out = render(write_table(tmp_path / "t.csv", frame), SMOTE, copies=0)
    features = ["x", "y"]
    synthetic = out.iloc[40:]
    assert len(synthetic) == 20
    for _, row in synthetic.iterrows():
        members = frame.loc[frame["label"] == row["label"], features].to_numpy()
        point = row[features].to_numpy(dtype=float)
        found = False
        for a in members:
            for b in members:
                span = b - a
                if not span.any():
                    continue
                t = float(np.dot(point - a, span) / np.dot(span, span))
                if -1e-9 <= t <= 1 + 1e-9 and np.allclose(a + t * span, point, atol=1e-9):
                    found = True
        assert found, f"{point} is on no segment of class {row['label']}"


def test_gaussian_noise_std_is_the_configured_fraction_and_label_ignore_stay(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": np.arange(20000), "v": rng.normal(10, 4, 20000), "label": rng.integers(0, 2, 20000)})
    section = (
        "tabular:\n  label: label\n  ignore: id\n  clip: false\n  transforms:\n    - gaussian_noise: {std: 0.25}\n"
    )
    _, out = render(write_table(tmp_path / "t.csv", frame), section, copies=1)
    variant = out.iloc[20000:].reset_index(drop=True)
    difference = variant["v"] - frame["v"]
    assert difference.std() == pytest.approx(0.25 * frame["v"].std(), rel=0.02)
    assert abs(difference.mean()) < 0.02
    assert variant["id"].equals(frame["id"]) and variant["label"].equals(frame["label"])


def test_dtypes_column_order_integers_and_bounds_survive(tmp_path):
    frame = imbalanced()
    section = (
        "tabular:\n  label: label\n  ignore: [id]\n  transforms:\n    - scale: {factor: 0.5}\n"
        "    - gaussian_noise: {std: 2.0}\n"
    )
    _, out = render(write_table(tmp_path / "t.csv", frame), section, copies=3)
    assert list(out.columns) == list(frame.columns)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    for name in ("x", "y", "count"):
        assert frame[name].min() <= out[name].min() and out[name].max() <= frame[name].max()
    assert (out["count"] == out["count"].round()).all()
    # every variant moved, except the few clipped back onto a bound that was their own value
    assert (out["x"].iloc[60:].to_numpy() != np.tile(frame["x"].to_numpy(), 3)).mean() > 0.95


def test_categorical_resample_draws_within_the_class(tmp_path):
    frame = pd.DataFrame({"city": ["a", "b"] * 20 + ["z"] * 10, "v": np.arange(50.0), "label": [0] * 40 + [1] * 10})
    section = "tabular:\n  label: label\n  transforms:\n    - categorical_resample\n"
    _, out = render(write_table(tmp_path / "t.csv", frame), section, copies=5)
    variants = out.iloc[50:]
    assert set(variants.loc[variants["label"] == 1, "city"]) == {"z"}
    assert set(variants.loc[variants["label"] == 0, "city"]) == {"a", "b"}
    assert (variants["v"].to_numpy() == np.tile(frame["v"].to_numpy(), 5)).all()  # numeric untouched


def test_route_splits_rows_as_compositions_say():
    recipe = parse_recipe(
        "tabular:\n  transforms:\n    - gaussian_noise: {p: 0.3}\n    - one_of: [scale, categorical_resample]\n"
        "    - some_of: {n: 2, transforms: [scale, gaussian_noise, categorical_resample]}\n"
    )
    transforms = recipe.sections["tabular"].transforms
    rows = np.arange(10000)
    steps = route(transforms, np.random.default_rng(0), rows)
    noise_rows = steps[0][1]
    assert steps[0][0] is transforms[0] and abs(noise_rows.size - 3000) < 150
    one_of = [r for t, r in steps if t in transforms[1].children]
    assert sum(r.size for r in one_of) == 10000 and np.intersect1d(*one_of).size == 0
    some_of = [r for t, r in steps if t in transforms[2].children]
    assert np.bincount(np.concatenate(some_of), minlength=10000).tolist() == [2] * 10000
    assert isinstance(transforms[1], OneOf) and isinstance(transforms[2], SomeOf)


def test_provenance_column_and_manifest_counts(tmp_path):
    frame = imbalanced().drop(columns=["flag"])
    section = SMOTE + "  provenance_column: origin\n  transforms: [gaussian_noise]\n"
    rendered, out = render(write_table(tmp_path / "t.csv", frame), section, copies=2)
    # the strategy balances the table written: 3 x 50 common rows, 3 x 10 rare ones + 120 synthetic
    assert out["origin"].tolist() == ["original"] * 60 + [str(i) for i in range(60)] * 2 + ["synthetic:smote"] * 120
    assert rendered.rows == {"original": 60, "augmented": 120, "synthetic": 120}
    assert out["label"].value_counts().to_dict() == {"common": 150, "rare": 150}
    names = [r["name"] for r in rendered.records]
    assert names == ["gaussian_noise", "draws", "smote"] and rendered.records[0]["rows"] == 120
    assert json.loads(json.dumps(rendered.records)) == rendered.records


def test_small_classes_reduce_k_and_single_rows_are_repeated(tmp_path):
    frame = pd.DataFrame({"v": np.arange(14.0), "label": ["a"] * 10 + ["b"] * 3 + ["c"]})
    rendered, out = render(
        write_table(tmp_path / "t.csv", frame), "tabular:\n  label: label\n  resample: {method: smote}\n", 0
    )
    assert out["label"].value_counts().to_dict() == {"a": 10, "b": 10, "c": 10}
    smote = rendered.records[-1]
    assert smote["params"]["k_neighbors"] == 2 and smote["params"]["k_neighbors_asked"] == 5
    assert smote["repeated_classes"] == ["c"]
    assert (out.loc[out["label"] == "c", "v"] == 13.0).all()
    assert any("class 'c' has one row" in w for w in rendered.warnings)
    assert any("k_neighbors reduced from 5 to 2" in n for n in rendered.notes)


def test_single_class_and_empty_tables_warn_and_write_what_they_have(tmp_path):
    one = write_table(tmp_path / "one.csv", pd.DataFrame({"v": [1.0, 2.0, 3.0], "label": ["a"] * 3}))
    rendered, out = render(one, "tabular:\n  label: label\n  resample: {method: smote}\n", 0)
    assert len(out) == 3 and any("only one class" in w for w in rendered.warnings)
    empty = tmp_path / "empty.csv"
    empty.write_text("v,label\n")
    rendered, out = render(empty, "tabular:\n  label: label\n  transforms: [gaussian_noise]\n", 2)
    assert len(out) == 0 and list(out.columns) == ["v", "label"] and rendered.warnings == ("the table has no rows",)


def test_missing_feature_values_refuse_drop_or_fill(tmp_path):
    frame = imbalanced().drop(columns=["flag"])
    frame.loc[[3, 7, 12], "y"] = np.nan
    path = write_table(tmp_path / "t.csv", frame)
    with pytest.raises(InputError, match="'y' has 3 missing values: set 'missing: drop' or 'missing: fill_median'"):
        render(path, SMOTE, 0)
    rendered, out = render(path, SMOTE + "  missing: drop\n", 0)
    counts = frame.dropna()["label"].value_counts()
    assert rendered.rows["synthetic"] == counts["common"] - counts["rare"] and out["y"].iloc[60:].notna().all()
    rendered, out = render(path, SMOTE + "  missing: fill_median\n", 0)
    assert rendered.rows["synthetic"] == 40 and out["y"].iloc[:60].isna().sum() == 3  # originals untouched


def test_table_mismatches_name_the_columns(tmp_path):
    path = write_table(tmp_path / "t.csv", imbalanced())
    with pytest.raises(InputError, match=r"label column 'klass' not in this table \(its columns: id, x, y, count"):
        render(path, "tabular:\n  label: klass\n  resample: {method: smote}\n")
    with pytest.raises(InputError, match="'flag' are not numeric feature columns"):
        render(path, "tabular:\n  transforms:\n    - gaussian_noise: {columns: [x, flag]}\n")
    with pytest.raises(InputError, match="borderline_smote works on numeric features only"):
        render(path, "tabular:\n  label: label\n  resample: {method: borderline_smote}\n")


def test_a_mostly_numeric_column_with_words_is_categorical_with_a_note(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("v,w,label\n1,2,a\n2,3,a\nthree,4,b\n4,5,b\n")
    rendered, out = render(path, "tabular:\n  label: label\n  transforms: [gaussian_noise]\n", 1)
    assert out["v"].tolist() == ["1", "2", "three", "4"] * 2
    assert rendered.notes == ("column 'v' is mostly numbers but holds 'three' (data row 3): treated as categorical",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"a,b\n1,2\n3,4,5\n", "ragged table: line 3 has 3 fields, the header has 2"),
        (b"a,b\n1,2\n3\n", "ragged table: line 3 has 1 fields"),
        (b"a,b\n1,\xff\n", "not UTF-8 text"),
        (b"a,a\n1,2\n", "duplicate column names: a"),
    ],
)
def test_unreadable_tables_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        render(path, "tabular:\n  transforms: [gaussian_noise]\n")


def test_csv_dialect_bom_crlf_quotes_and_booleans_round_trip(tmp_path):
    text = 'name,note,ok,v\r\n"Smith, J.","said ""hi""\nthen left",true,1.5\r\nÅsa,ünïcode ✓,false,2.5\r\n'
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    rendered, _ = render(path, "tabular:\n  categorical: [name, note]\n  transforms: [scale]\n", copies=0)
    assert rendered.data == path.read_bytes()  # no copies: the originals come back byte for byte
    rendered, out = render(path, "tabular:\n  ignore: [name, note, ok]\n  transforms: [scale]\n", copies=1)
    assert rendered.data.startswith(b"\xef\xbb\xbfname,note,ok,v\r\n") and b"\r\n" in rendered.data
    assert out["note"].tolist()[2] == 'said "hi"\nthen left' and out["ok"].tolist() == [True, False, True, False]


def test_tsv_stays_tab_separated(tmp_path):
    path = write_table(tmp_path / "t.tsv", imbalanced(), sep="\t")
    rendered, out = render(path, "tabular:\n  label: label\n  transforms: [gaussian_noise]\n", copies=1)
    assert rendered.data.splitlines()[0] == b"id\tx\ty\tcount\tflag\tlabel" and len(out) == 120


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("tabular:\n  resample: {method: smote}\n", "smote needs the class column: add 'label: <column>'"),
        ("tabular:\n  label: y\n", "give transforms, a resample method, or both"),
        ("tabular:\n  label: y\n  resample: {method: smote, shrinkage: 1}\n", "shrinkage only applies"),
        ("tabular:\n  label: y\n  resample: {method: smote, sampling_strategy: 2}\n", "in (0, 1]"),
        ("tabular:\n  label: y\n  resample: {method: smote, sampling_strategy: {a: -1}}\n", "whole number >= 0"),
        ("tabular:\n  label: y\n  resample: {method: smot}\n", "did you mean 'smote'?"),
    ],
)
def test_recipe_errors_of_the_tabular_section(section, message):
    with pytest.raises(RecipeError) as caught:
        parse_recipe(section)
    assert message in str(caught.value)


def test_parquet_keeps_its_schema(tmp_path):
    pytest.importorskip("pyarrow")
    frame = imbalanced()
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False)
    recipe = parse_recipe("copies: 2\ntabular:\n  label: label\n  ignore: [id]\n  transforms: [gaussian_noise]\n")
    rendered = MODALITIES["tabular"].render_table(path, recipe.sections["tabular"], 2, FileRngs(0, "t.parquet"))
    out = pd.read_parquet(io.BytesIO(rendered.data))
    assert out.dtypes.to_dict() == frame.dtypes.to_dict() and len(out) == 180
    assert out.iloc[:60].equals(frame)


def test_column_std_matches_pandas_and_is_zero_without_two_values(recwarn):
    from augcli.tabular.functional import column_std

    values = np.array([[1.0, 5.0, np.nan], [3.0, np.nan, np.nan], [8.0, np.nan, np.nan]])
    std = column_std(values)
    assert std[0] == pytest.approx(pd.Series([1.0, 3.0, 8.0]).std()) and std[1] == 0.0 and std[2] == 0.0
    assert column_std(np.zeros((0, 2))).tolist() == [0.0, 0.0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_categorical_resample_without_a_label_draws_from_the_whole_column(tmp_path):
    frame = pd.DataFrame({"city": ["a"] * 90 + ["b"] * 10, "v": np.arange(100.0)})
    _, out = render(write_table(tmp_path / "t.csv", frame), "tabular:\n  transforms: [categorical_resample]\n", 20)
    drawn = out["city"].iloc[100:]
    assert set(drawn) == {"a", "b"} and (drawn == "b").mean() == pytest.approx(0.1, abs=0.02)
    assert (out["v"].iloc[100:].to_numpy() == np.tile(frame["v"].to_numpy(), 20)).all()


def test_a_table_already_balanced_gets_no_synthetic_rows(tmp_path):
    path = write_table(tmp_path / "t.csv", pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "a", "b", "b"]}))
    rendered, out = render(path, "tabular:\n  label: label\n  resample: {method: smote}\n", 0)
    assert len(out) == 4 and rendered.rows["synthetic"] == 0 and rendered.warnings == ()
    assert rendered.records[-1]["rows"] == 0 and "nothing to add" in rendered.notes[-1]


@pytest.mark.parametrize("method", ["borderline_smote", "adasyn", "random_oversample"])
def test_every_resampling_method_adds_minority_rows(tmp_path, method):
    rng = np.random.default_rng(3)
    label = np.array(["rare"] * 20 + ["common"] * 80)
    frame = pd.DataFrame(
        {"x": rng.normal(0, 1, 100) + (label == "rare") * 1.5, "y": rng.normal(0, 1, 100), "label": label}
    )
    rendered, out = render(
        write_table(tmp_path / "t.csv", frame), f"tabular:\n  label: label\n  resample: {{method: {method}}}\n", 0
    )
    synthetic = out.iloc[100:]
    assert rendered.records[-1]["name"] == method and len(synthetic) == rendered.rows["synthetic"] > 0
    assert set(synthetic["label"]) == {"rare"}
    if method == "random_oversample":  # without shrinkage: copies of minority rows
        rare = {tuple(r) for r in frame.loc[frame["label"] == "rare", ["x", "y"]].round(9).to_numpy()}
        assert all(tuple(r) in rare for r in synthetic[["x", "y"]].round(9).to_numpy())


def test_random_oversample_with_shrinkage_jitters_the_copies(tmp_path):
    frame = pd.DataFrame({"x": np.arange(12.0), "label": ["a"] * 10 + ["b"] * 2})
    section = "tabular:\n  label: label\n  resample: {method: random_oversample, shrinkage: 1.0}\n"
    _, out = render(write_table(tmp_path / "t.csv", frame), section, 0)
    synthetic = out["x"].iloc[12:]
    assert len(synthetic) == 8 and not synthetic.isin([10.0, 11.0]).all()
