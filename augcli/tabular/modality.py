"""The tabular modality: one output table per input table, holding its original rows (when
keep_original), `copies` augmented variants of every row, then the resampler's synthetic rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from augcli.modality import BaseModality, Rendered
from augcli.params import Choice, Flag, Names, Number, Options, Param, ParamError, Text
from augcli.seeding import FileRngs
from augcli.tabular import functional as F
from augcli.tabular import io
from augcli.tabular.resample import METHODS, resample
from augcli.tabular.schema import Schema, TableMismatch, infer
from augcli.tabular.transforms import Block, TableTransform, route
from augcli.transforms import Transform, leaves

if TYPE_CHECKING:
    from augcli.recipe import Section

_STRATEGY_WORDS = ("auto", "minority", "not minority", "not majority", "all")


class SamplingStrategy(Param):
    """imbalanced-learn's sampling_strategy: a word, a minority/majority ratio, or rows per class."""

    kind = "auto | minority | not minority | not majority | all | ratio in (0, 1] | {class: rows}"

    def parse(self, value: Any) -> Any:
        if value in _STRATEGY_WORDS:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not 0 < value <= 1:
                raise ParamError(f"a ratio is minority rows / majority rows after resampling, in (0, 1]; got {value}")
            return float(value)
        if isinstance(value, dict) and value:
            for key, rows in value.items():
                if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
                    raise ParamError(f"class {key!r}: the number of rows wanted is a whole number >= 0, got {rows!r}")
            return {str(k): int(v) for k, v in value.items()}
        raise ParamError(f"expected one of {', '.join(_STRATEGY_WORDS)}, a ratio, or {{class: rows}}; got {value!r}")


def _block(frame: pd.DataFrame, schema: Schema) -> Block:
    numeric = frame[schema.numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    originals = {name: frame[name].to_numpy(dtype=object) for name in schema.categorical}
    labels = frame[schema.label].to_numpy(dtype=object) if schema.label else None
    class_rows = {}
    if labels is not None:
        for label in sorted(frame[schema.label].dropna().unique(), key=str):
            class_rows[label] = np.flatnonzero(frame[schema.label].to_numpy() == label)
    return Block(schema, numeric, {}, labels, F.column_std(numeric), originals, class_rows)


def _variant(frame: pd.DataFrame, block: Block, clip: bool) -> pd.DataFrame:
    out = frame.copy()
    schema = block.schema
    for j, name in enumerate(schema.numeric):
        out[name] = F.finish_numeric(block.numeric[:, j], schema.bounds.get(name), name in schema.integer, clip)
    for name in schema.categorical:
        out[name] = block.categorical[name]
    return out


def _finish_synthetic(rows: pd.DataFrame, schema: Schema, clip: bool) -> pd.DataFrame:
    """Interpolated values rounded back to whole numbers in integer columns (and kept in range)."""
    for name in schema.numeric:
        values = rows[name].to_numpy(dtype=np.float64, na_value=np.nan)
        rows[name] = F.finish_numeric(values, schema.bounds.get(name), name in schema.integer, clip)
    return rows


def _restore_dtypes(table: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Every column back to the input's dtype; integers and booleans with gaps become nullable."""
    for name in like.columns:
        dtype = like[name].dtype
        gaps = table[name].isna().any()
        if pd.api.types.is_integer_dtype(dtype) and gaps:
            table[name] = table[name].astype("Int64")
        elif pd.api.types.is_bool_dtype(dtype) and gaps:
            table[name] = table[name].astype("boolean")
        elif table[name].dtype != dtype:
            table[name] = table[name].astype(dtype)
    return table


class TabularModality(BaseModality):
    name = "tabular"
    default_include = ("*.csv", "*.tsv", "*.parquet")
    preload = ("pandas", "imblearn.over_sampling")
    transforms_optional = True
    options = {
        "label": Text(None, "the class column: resampling needs it; categorical_resample draws within its classes"),
        "ignore": Names((), "columns carried unchanged and never used as features (ids, text)"),
        "categorical": Names((), "columns to treat as categorical; otherwise non-numeric columns are"),
        "clip": Flag(True, "keep numeric features within the min / max observed in the input"),
        "provenance_column": Text(None, "add a column saying where each row came from"),
        "missing": Choice("refuse", ["refuse", "drop", "fill_median"], "missing feature values and resampling"),
        "resample": Options(
            {
                "method": Choice("none", list(METHODS), "oversampling method; smote uses SMOTE-NC with categoricals"),
                "sampling_strategy": SamplingStrategy("auto", "how many rows each class should end up with"),
                "k_neighbors": Number(5, "neighbours to interpolate between", integer=True, lo=1),
                "shrinkage": Number(None, "random_oversample: smoothed bootstrap width (numeric only)", lo=0.0),
            },
            "table-level oversampling with imbalanced-learn",
        ),
    }

    def check_options(
        self, options: dict[str, Any], transforms: list[Transform], base_dir: Path
    ) -> list[tuple[str, str]]:
        problems = []
        method = (options.get("resample") or {}).get("method", "none")
        if method != "none" and not options.get("label"):
            problems.append(("resample", f"{method} needs the class column: add 'label: <column>' to the section"))
        if method == "none" and not transforms:
            problems.append(("transforms", "give transforms, a resample method, or both"))
        shrinkage = (options.get("resample") or {}).get("shrinkage")
        if shrinkage is not None and method != "random_oversample":
            problems.append(("resample", "shrinkage only applies to method: random_oversample"))
        return problems

    def layout(self, relative: str, section: Section) -> str:
        return "table"

    def output_suffix(self, source_suffix: str, section: Section) -> str:
        return source_suffix

    def render(self, source: Path, section: Section, rngs: Iterable[np.random.Generator]) -> list[Rendered]:
        raise NotImplementedError("tables are rendered whole: see render_table")

    def render_table(self, source: Path, section: Section, copies: int, rngs: FileRngs) -> Rendered:
        frame, stored = io.load(source)
        options = section.options
        schema = infer(frame, options)
        marker = options["provenance_column"]
        if marker is not None and marker in frame.columns:
            raise TableMismatch(f"provenance_column {marker!r} already is a column of this table: pick another name")
        warnings: list[str] = [] if len(frame) else ["the table has no rows"]
        notes = list(schema.notes)
        parts, origin = [], []
        verbatim = section.keep_original and marker is None and stored.kind == "csv"
        if section.keep_original:
            parts.append(frame.iloc[0:0] if verbatim else frame)  # verbatim: copied from the input text
            origin += [] if verbatim else ["original"] * len(frame)
        fired = {id(t): 0 for t in leaves(section.transforms)}
        base = _block(frame, schema)
        everyone = np.arange(len(frame))
        for copy in range(copies if section.transforms else 0):
            rng = rngs.copy(copy)
            block = replace(
                base, numeric=base.numeric.copy(), categorical={k: v.copy() for k, v in base.originals.items()}
            )
            for transform, rows in route(section.transforms, rng, everyone):
                assert isinstance(transform, TableTransform)
                transform.apply_rows(block, rows, **transform.sample_rows(rng, rows, block))
                fired[id(transform)] += rows.size
            parts.append(_variant(frame, block, options["clip"]))
            origin += [str(i) for i in range(len(frame))]
        records = [{"name": t.name, "params": t.settings(), "rows": fired[id(t)]} for t in leaves(section.transforms)]
        multiplicity = int(section.keep_original) + (copies if section.transforms else 0)
        synthetic = resample(frame, schema, options | options["resample"], rngs.step("resample"), multiplicity)
        if synthetic is not None:
            warnings += synthetic.warnings
            notes += synthetic.notes
            records.append(synthetic.record)
            if len(synthetic.rows):
                parts.append(_finish_synthetic(synthetic.rows.reindex(columns=frame.columns), schema, options["clip"]))
                origin += [f"synthetic:{synthetic.record['name']}"] * len(synthetic.rows)
        table = pd.concat(parts, ignore_index=True) if parts else frame.iloc[0:0]
        table = _restore_dtypes(table, frame)
        if marker is not None:
            table[marker] = origin
        counts = {
            "original": len(frame) if section.keep_original else 0,
            "augmented": len(frame) * (copies if section.transforms else 0),
            "synthetic": 0 if synthetic is None else len(synthetic.rows),
        }
        return Rendered(io.dump(table, stored, verbatim), records, counts, tuple(warnings), tuple(notes))
