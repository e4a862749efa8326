"""Rows of a DataFrame as CSV text, byte for byte what `DataFrame.to_csv` writes, about twice as fast.

Writing a CSV is most of a tabular run: pandas turns every float into a Python float and then into
text through a NumPy object array, column by column, before its csv writer joins them. Here the
common column kinds (64-bit floats, integers, booleans, text) become lists of strings with the
same formatting (`repr` of a float is `str`, which is what pandas writes; missing values as ''),
and the csv module joins and quotes them as pandas' writer does. Any other kind of column
(dates, categories, float32, nullable integers, mixed objects) returns None: pandas writes it.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd


def _cells(column: pd.Series) -> tuple[list[str], bool] | None:
    """One column's cells as pandas' to_csv spells them and whether any may need quoting (text),
    or None for a kind of column left to pandas."""
    dtype = column.dtype
    if dtype == np.float64:
        values = column.to_numpy()
        cells = list(map(repr, values.tolist()))
        for i in np.flatnonzero(np.isnan(values)).tolist():
            cells[i] = ""
        return cells, False
    if dtype.kind in "iu" and isinstance(dtype, np.dtype):
        return list(map(str, column.to_numpy().tolist())), False
    if dtype == np.bool_:
        return ["True" if value else "False" for value in column.to_numpy().tolist()], False
    if isinstance(dtype, pd.StringDtype) or dtype == np.object_:
        values = column.to_numpy(dtype=object, copy=True)
        missing = column.isna().to_numpy()
        if any(not isinstance(value, str) for value in values[~missing].tolist()):
            return None  # a mixed object column: pandas' own str() and missing-value rules
        values[missing] = ""
        return values.tolist(), True
    return None


# Characters a number, True/False, inf or nan can hold: with a separator among them, use the csv module.
_NUMBER_CHARACTERS = set("0123456789+-.eEinfaTrueFls")


def csv_rows(frame: pd.DataFrame, separator: str, line_ending: str, header: bool) -> str | None:
    """`frame.to_csv(index=False, header=header, sep=separator, lineterminator=line_ending)`, or
    None when a column is of a kind this writer leaves to pandas (or the column names repeat)."""
    names = list(frame.columns)
    if not names or len(set(names)) < len(names) or not all(isinstance(name, str) for name in names):
        return None
    columns, text = [], False
    for name in names:
        made = _cells(frame[name])
        if made is None:
            return None
        columns.append(made[0])
        text |= made[1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=line_ending, quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(names)
    rows = zip(*columns, strict=True)
    if text or separator in _NUMBER_CHARACTERS or separator in '\r\n"':
        writer.writerows(rows)  # quoting as the csv module (and so pandas) decides
    elif len(frame):  # numbers never need quoting: joining is a quarter of the csv module's time
        buffer.write(line_ending.join(map(separator.join, rows)))
        buffer.write(line_ending)
    return buffer.getvalue()
