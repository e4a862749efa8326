"""Column roles: which columns are the label, carried unchanged, numeric or categorical features.

The section names the label, the ignored columns and (optionally) the categorical ones; the rest
is inferred from what pandas read: numbers are numeric features, anything else (text, booleans)
is categorical. A column of numbers with a few words in it is categorical, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.core.errors import InputError
from augcli.core.words import noun

if TYPE_CHECKING:
    import pandas as pd


class TableMismatch(InputError):
    """The section names columns this table does not have (or uses them in a way it cannot)."""


@dataclass
class Schema:
    label: str | None
    ignore: list[str]
    numeric: list[str]
    categorical: list[str]
    integer: set[str]  # numeric features stored as integers: rounded after augmentation
    bounds: dict[str, tuple[float, float]]  # observed min / max of each numeric feature
    notes: list[str] = field(default_factory=list)


def _missing(names: list[str], frame: pd.DataFrame, what: str) -> None:
    absent = [name for name in names if name not in frame.columns]
    if absent:
        raise TableMismatch(
            f"{what} {', '.join(repr(a) for a in absent)} not in this table (its columns: "
            f"{', '.join(map(str, frame.columns))})"
        )


def _refuse_blank_labels(frame: pd.DataFrame, label: str, first_row: int = 0) -> None:
    """A row without a class cannot be resampled or given a same-class donor: name the rows."""
    column = frame[label]
    blank = column.isna().to_numpy()
    if column.dtype == object:
        blank = blank | column.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    if blank.any():
        rows = np.flatnonzero(blank) + 1 + first_row
        shown = ", ".join(map(str, rows[:10])) + (f" and {rows.size - 10} more" if rows.size > 10 else "")
        raise TableMismatch(
            f"label column {label!r} is empty in {noun(rows.size, 'row')} {shown} (data rows, after the header): "
            f"give every row its class, or drop {'that row' if rows.size == 1 else 'those rows'}"
        )


def _first_non_number(column: pd.Series) -> tuple[int, Any] | None:
    import pandas as pd

    as_numbers = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & as_numbers.isna()
    if not bad.any():
        return None
    row = int(np.flatnonzero(bad.to_numpy())[0])
    return row, column.iloc[row]


def infer(frame: pd.DataFrame, options: dict[str, Any], first_row: int = 0) -> Schema:
    """Roles of every column of `frame` as the section's options and the data say. `first_row`:
    the table's number of the frame's first row, when it is one chunk of a larger table."""
    import pandas as pd

    label = options["label"]
    _missing([label] if label else [], frame, "label column")
    if label:
        _refuse_blank_labels(frame, label, first_row)
    notes = []
    absent = [n for n in (*options["ignore"], *options["categorical"]) if n not in frame.columns]
    if absent:  # tables of one dataset may differ in their extra columns: say so, go on
        notes.append(f"listed {noun(len(absent), 'column')} {', '.join(map(repr, absent))} not in this table")
    ignore = [n for n in options["ignore"] if n in frame.columns]
    identifier = options.get("id_column")
    if identifier is not None:
        _missing([identifier], frame, "id_column")
        if not pd.api.types.is_integer_dtype(frame[identifier]):
            raise TableMismatch(f"id_column {identifier!r} holds values that are not whole numbers")
        ignore.append(identifier)
    categorical = [n for n in options["categorical"] if n in frame.columns]
    numeric = []
    for name in frame.columns:
        if name == label or name in ignore or name in categorical:
            continue
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            categorical.append(name)
        elif pd.api.types.is_numeric_dtype(column):
            numeric.append(name)
        else:
            odd = _first_non_number(column)
            if odd is None and column.notna().any():  # numbers stored as text: use them as numbers
                frame[name] = pd.to_numeric(column)
                numeric.append(name)
                continue
            categorical.append(name)
            if odd is not None and pd.to_numeric(column, errors="coerce").notna().mean() > 0.5:
                notes.append(
                    f"column {name!r} is mostly numbers but holds {odd[1]!r} (data row {odd[0] + 1}): "
                    "treated as categorical"
                )
    integer = {name for name in numeric if pd.api.types.is_integer_dtype(frame[name])}
    bounds = {
        name: (float(frame[name].min()), float(frame[name].max())) for name in numeric if frame[name].notna().any()
    }
    return Schema(label, ignore, numeric, categorical, integer, bounds, notes)
