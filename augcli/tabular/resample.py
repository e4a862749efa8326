"""Table-level oversampling with imbalanced-learn: SMOTE, SMOTE-NC, Borderline-SMOTE, ADASYN, random.

Works on the original rows only. Classes too small for the asked k get a smaller k (recorded); a
class with a single row cannot be interpolated and is repeated instead (with a warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from augcli.core.errors import InputError
from augcli.core.words import noun, plural
from augcli.tabular.schema import Schema

_NEIGHBOUR_METHODS = ("smote", "borderline_smote", "adasyn", "smotenc")


class ResampleError(InputError):
    """This table cannot be resampled as the section asks."""


@dataclass
class Resampled:
    rows: pd.DataFrame  # synthetic rows: features and label filled, other columns missing
    record: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _name(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _strategy(asked: Any, classes: list[Any]) -> Any:
    """imbalanced-learn's sampling_strategy, with a dict's class names matched to the table's labels."""
    if not isinstance(asked, dict):
        return asked
    by_name = {_name(c): c for c in classes}
    unknown = [k for k in asked if str(k) not in by_name]
    if unknown:
        raise ResampleError(
            f"sampling_strategy names {noun(len(unknown), 'class', 'classes')} {', '.join(map(repr, unknown))} "
            "that the label column lacks "
            f"(classes: {', '.join(by_name)})"
        )
    return {by_name[str(k)]: int(v) for k, v in asked.items()}


def _complete(
    features: pd.DataFrame, labels: pd.Series, schema: Schema, missing: str
) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Rows the resampler can use: no missing label, and missing features refused, dropped or filled."""
    notes = []
    known = labels.notna().to_numpy()
    if not known.all():
        lacking = int((~known).sum())
        are = "is" if lacking == 1 else "are"
        notes.append(f"{plural(lacking, 'row')} without a label {are} left out of resampling")
        features, labels = features[known], labels[known]
    gaps = features.isna().sum()
    gaps = gaps[gaps > 0]
    if gaps.empty:
        return features, labels, notes
    listing = ", ".join(f"{name!r} has {plural(int(count), 'missing value')}" for name, count in gaps.items())
    if missing == "refuse":
        raise ResampleError(
            f"resampling needs complete features, but {listing}: "
            "set 'missing: drop' or 'missing: fill_median' in the tabular section"
        )
    if missing == "drop":
        keep = features.notna().all(axis=1).to_numpy()
        dropped = int((~keep).sum())
        are = "is" if dropped == 1 else "are"
        notes.append(f"{plural(dropped, 'row')} with missing features {are} left out of resampling ({listing})")
        return features[keep], labels[keep], notes
    filled = features.copy()
    for name in gaps.index:
        column = filled[name]
        if name in schema.numeric:
            filled[name] = column.fillna(column.median())
        else:
            filled[name] = column.fillna(column.mode(dropna=True).iloc[0])
    notes.append(f"missing feature values filled for resampling ({listing}: median, or most frequent value)")
    return filled, labels, notes


def _sampler(method: str, schema: Schema, options: dict[str, Any], k: int, targets: dict[Any, int], seed: int):
    from imblearn import over_sampling as over

    common = {"sampling_strategy": targets, "random_state": seed}
    categorical = [len(schema.numeric) + i for i in range(len(schema.categorical))]
    if method == "random_oversample":
        return "random_oversample", over.RandomOverSampler(shrinkage=options["shrinkage"], **common)
    if method in ("smote", "smotenc") and categorical:
        if not schema.numeric:
            return "smoten", over.SMOTEN(k_neighbors=k, **common)
        return "smotenc", over.SMOTENC(categorical_features=categorical, k_neighbors=k, **common)
    if categorical:
        raise ResampleError(
            f"{method} works on numeric features only, but {', '.join(map(repr, schema.categorical))} "
            "are categorical: use smote (SMOTE-NC) or list those columns under ignore"
        )
    if method == "borderline_smote":
        return method, over.BorderlineSMOTE(k_neighbors=k, **common)
    if method == "adasyn":
        return method, over.ADASYN(n_neighbors=k, **common)
    return "smote", over.SMOTE(k_neighbors=k, **common)


def _fit(sampler: Any, features: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Only the rows the sampler added (imbalanced-learn appends them after the input rows)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = sampler.fit_resample(features, labels)
    except (ValueError, RuntimeError) as exc:
        raise ResampleError(f"{type(sampler).__name__} failed: {exc}") from None
    added = slice(len(features), None)
    return x.iloc[added].reset_index(drop=True), pd.Series(np.asarray(y)[added], name=labels.name)


def resample(
    frame: pd.DataFrame, schema: Schema, options: dict[str, Any], draw_state: Callable[[], int], multiplicity: int = 1
) -> Resampled | None:
    """Synthetic rows for `frame` as the section's `resample:` says; None when it asks for none.

    The strategy counts rows of the output table, where every original row stands `multiplicity`
    times (itself and its variants): `auto` balances the table that is written, not just its originals.
    Synthetic rows are interpolated between original rows only.
    """
    from imblearn.utils import check_sampling_strategy

    method = options["method"]
    if method == "none":
        return None
    columns = schema.numeric + schema.categorical
    if not columns:
        raise ResampleError("resampling needs at least one feature column besides the label and ignored ones")
    features, labels, notes = _complete(frame[columns], frame[schema.label], schema, options["missing"])
    classes = sorted(pd.unique(labels), key=_name)
    seed = draw_state()  # imbalanced-learn's random_state: drawn, or the one a record replays
    record: dict[str, Any] = {"name": method, "params": {"random_state": seed}, "rows": 0}
    if len(classes) < 2:
        return Resampled(frame.iloc[0:0], record, [f"only one class in {schema.label!r}: nothing to resample"], notes)
    try:
        written = np.repeat(labels.to_numpy(), max(multiplicity, 1))
        plan = check_sampling_strategy(_strategy(options["sampling_strategy"], classes), written, "over-sampling")
    except ValueError as exc:
        raise ResampleError(f"sampling_strategy {options['sampling_strategy']!r}: {exc}") from None
    sizes = labels.value_counts()
    plan = {c: int(n) for c, n in plan.items() if n > 0}
    record["params"]["sampling_strategy"] = _plain(options["sampling_strategy"])
    if not plan:
        notes.append("the classes already have the rows sampling_strategy asks for: nothing to add")
        return Resampled(frame.iloc[0:0], record, [], notes)
    warned = []
    singles = {c: n for c, n in plan.items() if sizes[c] < 2 and method in _NEIGHBOUR_METHODS}
    for c in singles:
        warned.append(f"class {_name(c)!r} has one row, too few to interpolate: its {plan[c]} new rows repeat it")
    grown = {c: n for c, n in plan.items() if c not in singles}
    parts_x, parts_y = [], []
    k = options["k_neighbors"]
    if grown:
        if method in _NEIGHBOUR_METHODS:
            k = min(k, min(int(sizes[c]) for c in grown) - 1)
            if k < options["k_neighbors"]:
                record["params"]["k_neighbors_asked"] = options["k_neighbors"]
                notes.append(f"k_neighbors reduced from {options['k_neighbors']} to {k} to fit the smallest class")
            record["params"]["k_neighbors"] = k
        targets = {c: int(sizes[c]) + n for c, n in grown.items()}
        used, sampler = _sampler(method, schema, options, k, targets, seed)
        record["name"] = used
        x, y = _fit(sampler, features, labels)
        parts_x.append(x)
        parts_y.append(y)
    if singles:
        from imblearn.over_sampling import RandomOverSampler

        targets = {c: int(sizes[c]) + n for c, n in singles.items()}
        x, y = _fit(RandomOverSampler(sampling_strategy=targets, random_state=seed), features, labels)
        parts_x.append(x)
        parts_y.append(y)
    synthetic = pd.concat(parts_x, ignore_index=True)
    synthetic[schema.label] = pd.concat(parts_y, ignore_index=True).to_numpy()
    record["rows"] = len(synthetic)
    record["per_class"] = {_name(c): n for c, n in sorted(plan.items(), key=lambda item: _name(item[0]))}
    if singles:
        record["repeated_classes"] = sorted(_name(c) for c in singles)
    return Resampled(synthetic, record, warned, notes)


def _plain(value: Any) -> Any:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value
