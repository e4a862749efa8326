"""The fast CSV writer: byte for byte pandas' to_csv, or None so that pandas writes the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.tabular import csvwrite
from augcli.tabular.csvwrite import csv_rows


def _mixed(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1, rows) * 10.0 ** rng.integers(-30, 30, rows)
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, 1e16, 1e15, 1e-05, 1e-4, 5e-324, 1.7976931348623157e308, 0.1]
    floats[: len(specials)] = specials
    texts = [
        "plain",
        "with,comma",
        'with "quote"',
        "new\nline",
        "",
        "  spaced ",
        "ünïcødé",
        "x\ry",
        "semi;colon",
        "t\tab",
    ]
    frame = pd.DataFrame(
        {
            "f": floats,
            "i": rng.integers(-(10**12), 10**12, rows),
            "u8": rng.integers(0, 255, rows).astype(np.uint8),
            "i32": rng.integers(-5, 5, rows).astype(np.int32),
            "b": rng.random(rows) < 0.5,
            "s": pd.Series(rng.choice(texts, rows)),
            "o": pd.Series(rng.choice(["a", "b,c", None], rows), dtype=object),
        }
    )
    frame.loc[3, "s"] = None
    return frame


@pytest.mark.parametrize("separator", [",", "\t", ";", "|", " "])
@pytest.mark.parametrize("line_ending", ["\n", "\r\n"])
@pytest.mark.parametrize("header", [True, False])
def test_the_fast_writer_writes_pandas_bytes(separator, line_ending, header, monkeypatch):
    monkeypatch.setattr(csvwrite, "ROWS_PER_BLOCK", 7)  # many blocks, the last one short
    frame = _mixed(400, seed=len(separator) + len(line_ending)).rename(columns={"i": 'id, "n"'})
    numbers = frame[["f", 'id, "n"', "u8", "i32", "b"]]  # no text column: rows are joined, not csv-quoted
    for table in (frame, numbers, frame.iloc[0:0], numbers.iloc[:1]):
        expected = table.to_csv(index=False, header=header, sep=separator, lineterminator=line_ending)
        assert csv_rows(table, separator, line_ending, header) == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30),
    st.sampled_from([",", ";", "\t", "e", "."]),
)
def test_any_float_column_is_spelt_as_pandas_spells_it(values, separator):
    frame = pd.DataFrame({"x": values, "y": values[::-1]})
    assert csv_rows(frame, separator, "\n", True) == frame.to_csv(index=False, sep=separator, lineterminator="\n")


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, None], dtype="Int64"),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
        pd.Series([1.5, 2.25], dtype=np.float32),
        pd.Series(["a", 1], dtype=object),
        pd.Series(["a", "b"], dtype="category"),
    ],
)
def test_other_kinds_of_column_are_left_to_pandas(column):
    assert csv_rows(column.to_frame("c"), ",", "\n", True) is None
    assert csv_rows(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), ",", "\n", True) is None  # repeated names


def test_float_cells_are_repr_for_every_bit_pattern_and_both_sides_of_each_switch():
    """orjson spells most floats; every value, wherever its notation switches, must read as repr."""
    rng = np.random.default_rng(5)
    patterns = rng.integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False).view(np.float64)
    decades = np.sign(rng.normal(size=200_000)) * 10.0 ** rng.uniform(-8, 20, 200_000)
    edges = [1e-4, 1e16, 1e-5, 0.0, -0.0, 5e-324, np.nan, np.inf, -np.inf]
    edges += [np.nextafter(e, d) for e in (1e-4, 1e16, -1e-4, -1e16) for d in (0.0, np.inf, -np.inf)]
    values = np.concatenate([patterns, decades, np.array(edges)])
    expected = ["" if v != v else repr(v) for v in values.tolist()]
    assert csvwrite.float_cells(values) == expected
    assert csvwrite.float_cells(values[::-2]) == expected[::-2]  # a strided view
    assert csvwrite.float_cells(np.array([])) == []


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40))
def test_any_floats_are_spelt_as_repr(values):
    assert csvwrite.float_cells(np.array(values, dtype=np.float64)) == ["" if v != v else repr(v) for v in values]
