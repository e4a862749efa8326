"""Registered row-level table transforms and the router that decides which rows each one touches.

A table's copies are blocks of rows. For each copy, `route` walks the pipeline once for the whole
block, vectorised: `p` keeps a random subset of rows, `one_of` splits rows among its children,
`some_of` gives each row its own subset. Each transform then draws per-row values for the rows it
got (`sample_rows`) and a pure kernel applies them (`apply_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augcli.core.params import Names, Span
from augcli.core.transforms import OneOf, SomeOf, Transform, leaves, register
from augcli.tabular import functional as F
from augcli.tabular.schema import Schema, TableMismatch


@dataclass
class Block:
    """One copy's rows while they are augmented: the numeric features as a float matrix, the
    categorical ones as arrays, and what the transforms need to know of the original table."""

    schema: Schema
    numeric: np.ndarray  # (rows, numeric features), float64
    categorical: dict[str, np.ndarray]
    labels: np.ndarray | None  # the label of every row (never changed)
    column_std: np.ndarray  # per numeric feature, of the original rows
    originals: dict[str, np.ndarray]  # the original categorical values, donors for categorical_resample
    class_rows: dict[Any, np.ndarray] = field(default_factory=dict)
    table_rows: int | None = None  # rows of the whole table, when the block is a chunk of it
    first_row: int = 0  # the whole table's index of the block's first row

    def numeric_columns(self, names: tuple[str, ...], transform: str) -> list[int]:
        if not names:
            return list(range(len(self.schema.numeric)))
        index = {name: i for i, name in enumerate(self.schema.numeric)}
        wrong = [n for n in names if n not in index]
        if wrong:
            raise TableMismatch(
                f"{transform}: {', '.join(map(repr, wrong))} are not numeric feature columns "
                f"(numeric features: {', '.join(self.schema.numeric) or 'none'})"
            )
        return [index[n] for n in names]


class TableTransform(Transform):
    def sample_rows(self, rng: np.random.Generator, rows: np.ndarray, block: Block) -> dict[str, Any]:
        """Per-row random draws for `rows` (indices into the block)."""
        return {}

    def apply_rows(self, block: Block, rows: np.ndarray, **draws: Any) -> None:
        raise NotImplementedError


@register("tabular")
class GaussianNoise(TableTransform):
    """Add Gaussian noise to numeric features: std = a fraction of each column's standard deviation."""

    std = Span([0.01, 0.1], "noise std as a fraction of the column's std (drawn per row)", lo=0.0)
    columns = Names((), "numeric columns to touch; default every numeric feature")

    def sample_rows(self, rng: np.random.Generator, rows: np.ndarray, block: Block) -> dict[str, Any]:
        count = len(block.numeric_columns(self.columns, self.name))
        fraction = rng.uniform(self.std[0], self.std[1], rows.size)
        return {"fraction": fraction, "noise": rng.standard_normal((rows.size, count))}

    def apply_rows(self, block: Block, rows: np.ndarray, fraction: np.ndarray, noise: np.ndarray) -> None:
        cols = block.numeric_columns(self.columns, self.name)
        grid = np.ix_(rows, cols)
        block.numeric[grid] = F.add_noise(block.numeric[grid], noise, fraction, block.column_std[cols])


@register("tabular")
class Scale(TableTransform):
    """Multiply numeric features by random factors (one per cell)."""

    factor = Span([0.95, 1.05], "multiplicative factor range", scalar="around_one", lo=0.0)
    columns = Names((), "numeric columns to touch; default every numeric feature")

    def sample_rows(self, rng: np.random.Generator, rows: np.ndarray, block: Block) -> dict[str, Any]:
        count = len(block.numeric_columns(self.columns, self.name))
        return {"factors": rng.uniform(self.factor[0], self.factor[1], (rows.size, count))}

    def apply_rows(self, block: Block, rows: np.ndarray, factors: np.ndarray) -> None:
        grid = np.ix_(rows, block.numeric_columns(self.columns, self.name))
        block.numeric[grid] = F.scale(block.numeric[grid], factors)


@register("tabular")
class CategoricalResample(TableTransform):
    """Replace categorical values with ones drawn from the column's distribution within the row's class."""

    columns = Names((), "categorical columns to touch; default every categorical feature")

    def _columns(self, block: Block) -> list[str]:
        names = list(self.columns) or block.schema.categorical
        wrong = [n for n in names if n not in block.categorical]
        if wrong:
            raise TableMismatch(
                f"{self.name}: {', '.join(map(repr, wrong))} are not categorical feature columns "
                f"(categorical features: {', '.join(block.schema.categorical) or 'none'})"
            )
        return names

    def sample_rows(self, rng: np.random.Generator, rows: np.ndarray, block: Block) -> dict[str, Any]:
        """For each row and column, a donor row of the same class (any row when there is no label)."""
        width = len(self._columns(block))
        if block.labels is None:
            total = block.table_rows if block.table_rows is not None else block.numeric.shape[0]
            return {"donors": rng.integers(total, size=(rows.size, width))}
        donors = np.repeat(rows[:, None] + block.first_row, width, axis=1)  # no known class: its own values
        row_labels = block.labels[rows]
        for label, members in block.class_rows.items():
            mine = np.flatnonzero(row_labels == label)
            if mine.size:
                donors[mine] = members[rng.integers(members.size, size=(mine.size, width))]
        return {"donors": donors}

    def apply_rows(self, block: Block, rows: np.ndarray, donors: np.ndarray) -> None:
        for j, name in enumerate(self._columns(block)):
            block.categorical[name][rows] = F.take(block.originals[name], donors[:, j])


def route(
    transforms: list[Transform], rng: np.random.Generator, rows: np.ndarray
) -> list[tuple[Transform, np.ndarray]]:
    """Which rows each transform applies to, in pipeline order."""
    steps: list[tuple[Transform, np.ndarray]] = []
    for transform in transforms:
        steps += _route_one(transform, rng, rows)
    return steps


def _route_one(transform: Transform, rng: np.random.Generator, rows: np.ndarray) -> list[tuple[Transform, np.ndarray]]:
    if transform.p < 1.0:
        rows = rows[rng.random(rows.size) < transform.p]
    if rows.size == 0:
        return []
    if isinstance(transform, OneOf):
        children = transform.children
        weights = np.asarray(transform.weights or [1.0] * len(children), dtype=float)
        choice = rng.choice(len(children), size=rows.size, p=weights / weights.sum())
        return [step for i, child in enumerate(children) for step in _route_one(child, rng, rows[choice == i])]
    if isinstance(transform, SomeOf):
        children = transform.children
        lo, hi = transform.n if transform.n is not None else (1, len(children))
        counts = rng.integers(lo, hi + 1, size=rows.size)
        ranks = np.argsort(np.argsort(rng.random((rows.size, len(children))), axis=1), axis=1)
        chosen = ranks < counts[:, None]
        return [step for i, child in enumerate(children) for step in _route_one(child, rng, rows[chosen[:, i]])]
    return [(transform, rows)]


class Fired:
    """How many rows each row-level transform touched: what a table's manifest records of it."""

    def __init__(self, transforms: list[Transform]) -> None:
        self.transforms = leaves(transforms)
        self.counts = {id(t): 0 for t in self.transforms}

    def records(self) -> list[dict[str, Any]]:
        return [{"name": t.name, "params": t.settings(), "rows": self.counts[id(t)]} for t in self.transforms]


def augment(transforms: list[Transform], rng: np.random.Generator, block: Block, fired: Fired) -> None:
    """One copy of every row of `block`: route the rows through the pipeline, draw, apply, count."""
    for transform, rows in route(transforms, rng, np.arange(block.numeric.shape[0])):
        assert isinstance(transform, TableTransform)
        transform.apply_rows(block, rows, **transform.sample_rows(rng, rows, block))
        fired.counts[id(transform)] += rows.size
