"""Pure kernels on a table's numeric feature matrix and categorical columns; no randomness here.

Each takes the random draws it needs as arrays, so a replay with the same draws gives the same rows.
"""

from __future__ import annotations

import numpy as np


def add_noise(values: np.ndarray, noise: np.ndarray, std_fraction: np.ndarray, column_std: np.ndarray) -> np.ndarray:
    """values + noise x (the row's fraction) x (the column's standard deviation); NaN stays NaN."""
    return values + noise * std_fraction[:, None] * column_std[None, :]


def scale(values: np.ndarray, factors: np.ndarray) -> np.ndarray:
    return values * factors


def take(column: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """The donors' values of a categorical column."""
    return column[donors]


def finish_numeric(values: np.ndarray, bounds: tuple[float, float] | None, integer: bool, clip: bool) -> np.ndarray:
    """Back into the column's range and kind: clipped to the observed [min, max], rounded if integer."""
    if clip and bounds is not None:
        values = np.clip(values, bounds[0], bounds[1])
    if integer:
        values = np.round(values)
    return values


def column_std(values: np.ndarray) -> np.ndarray:
    """Each column's sample standard deviation (ddof=1, as pandas), ignoring NaN; 0 for < 2 values."""
    std = np.zeros(values.shape[1])
    enough = np.sum(~np.isnan(values), axis=0) >= 2
    if enough.any():
        std[enough] = np.nanstd(values[:, enough], axis=0, ddof=1)
    return std
