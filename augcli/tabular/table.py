"""One table in, one table out: the pandas side of the tabular modality (imported only when a
table is processed, so runs without tables do not pay for pandas)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from augcli.core.modality import Rendered
from augcli.core.seeding import FileRngs
from augcli.core.transforms import ReplayError, draw_seed
from augcli.tabular import functional as F
from augcli.tabular import io
from augcli.tabular.resample import resample
from augcli.tabular.schema import Schema, TableMismatch, infer
from augcli.tabular.transforms import Block, Fired, augment

if TYPE_CHECKING:
    from augcli.core.recipe import Section


class Draws:
    """Where a table's randomness comes from: the file's generators (a run), or the seeds its
    manifest record names (a replay). Each copy's rows draw from a generator seeded by one recorded
    seed, and the resampler from one recorded random_state, so the record replays the table."""

    def __init__(self, rngs: FileRngs | None = None, records: list[dict] | None = None) -> None:
        self.rngs, self.seeds = rngs, []
        self.recorded = next((r["params"] for r in records or [] if r.get("name") == "draws"), None)
        self.resampled = next(
            (r["params"]["random_state"] for r in records or [] if "random_state" in r.get("params", {})), None
        )
        if records is not None and self.recorded is None:
            raise ReplayError("the record has no 'draws' entry (written by an augcli before replay was possible)")

    def copy(self, copy: int) -> np.random.Generator:
        seed = int(self.recorded["seeds"][copy]) if self.recorded is not None else draw_seed(self.rngs.copy(copy))
        self.seeds.append(seed)
        return np.random.default_rng(seed)

    def resample_seed(self) -> int:
        if self.resampled is not None:
            return int(self.resampled)
        return int(self.rngs.step("resample").integers(2**31 - 1))

    def record(self) -> dict:
        return {"name": "draws", "params": {"seeds": list(self.seeds)}}


def provenance_column(options: dict, columns) -> str | None:
    """The section's provenance column, refused when the table already has a column of that name."""
    marker = options["provenance_column"]
    if marker is not None and marker in columns:
        raise TableMismatch(f"provenance_column {marker!r} already is a column of this table: pick another name")
    return marker


def _block(frame: pd.DataFrame, schema: Schema) -> Block:
    numeric = frame[schema.numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    originals = {name: frame[name].to_numpy(dtype=object) for name in schema.categorical}
    labels = frame[schema.label].to_numpy(dtype=object) if schema.label else None
    class_rows = {}
    if labels is not None:
        for label in sorted(frame[schema.label].dropna().unique(), key=str):
            class_rows[label] = np.flatnonzero(frame[schema.label].to_numpy() == label)
    return Block(schema, numeric, {}, labels, F.column_std(numeric), originals, class_rows)


def variant(frame: pd.DataFrame, block: Block, clip: bool) -> pd.DataFrame:
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


def restore_dtypes(table: pd.DataFrame, like: pd.DataFrame, gaps_of: dict[str, bool] | None = None) -> pd.DataFrame:
    """Every column back to the input's dtype; integers and booleans with gaps become nullable.
    `gaps_of`: which columns have gaps in the whole output, when `table` is one chunk of it."""
    for name in like.columns:
        dtype = like[name].dtype
        gaps = gaps_of[name] if gaps_of is not None else table[name].isna().any()
        if pd.api.types.is_integer_dtype(dtype) and gaps:
            table[name] = table[name].astype("Int64")
        elif pd.api.types.is_bool_dtype(dtype) and gaps:
            table[name] = table[name].astype("boolean")
        elif table[name].dtype != dtype:
            table[name] = table[name].astype(dtype)
    return table


def augment_frame(frame: pd.DataFrame, section: Section, rng: np.random.Generator) -> tuple[pd.DataFrame, list[dict]]:
    """One augmented variant of every row of a frame (the Python API's call), as a run makes a copy."""
    options = section.options
    frame = frame.copy()  # infer may turn columns of numbers written as text into numbers
    schema = infer(frame, options)
    fired = Fired(section.transforms)
    base = _block(frame, schema)
    block = replace(base, numeric=base.numeric.copy(), categorical={k: v.copy() for k, v in base.originals.items()})
    augment(section.transforms, rng, block, fired)
    out = restore_dtypes(variant(frame, block, options["clip"]).reset_index(drop=True), frame)
    return out, fired.records()


def render_whole(source: Path, section: Section, copies: int, draws: Draws) -> Rendered:
    """The whole-table path: read it, augment every copy, resample, write it, all in memory."""
    frame, stored = io.load(source)
    options = section.options
    schema = infer(frame, options)
    marker = provenance_column(options, frame.columns)
    warnings: list[str] = [] if len(frame) else ["the table has no rows"]
    notes = list(schema.notes)
    parts, origin = [], []
    verbatim = section.keep_original and marker is None and stored.kind == "csv"
    if section.keep_original:
        parts.append(frame.iloc[0:0] if verbatim else frame)  # verbatim: copied from the input text
        origin += [] if verbatim else ["original"] * len(frame)
    fired = Fired(section.transforms)
    base = _block(frame, schema)
    for copy in range(copies if section.transforms else 0):
        rng = draws.copy(copy)
        block = replace(base, numeric=base.numeric.copy(), categorical={k: v.copy() for k, v in base.originals.items()})
        augment(section.transforms, rng, block, fired)
        parts.append(variant(frame, block, options["clip"]))
        origin += [str(i) for i in range(len(frame))]
    records = [*fired.records(), draws.record()]
    multiplicity = int(section.keep_original) + (copies if section.transforms else 0)
    synthetic = resample(frame, schema, options | options["resample"], draws.resample_seed, multiplicity)
    if synthetic is not None:
        warnings += synthetic.warnings
        notes += synthetic.notes
        records.append(synthetic.record)
        if len(synthetic.rows):
            rows = _finish_synthetic(synthetic.rows.reindex(columns=frame.columns), schema, options["clip"])
            identifier = options["id_column"]
            if identifier is not None:  # new ids after the largest: the column stays integer
                start = int(frame[identifier].max()) + 1 if len(frame) else 0
                rows[identifier] = np.arange(start, start + len(rows), dtype=np.int64)
            parts.append(rows)
            origin += [f"synthetic:{synthetic.record['name']}"] * len(synthetic.rows)
    table = pd.concat(parts, ignore_index=True) if parts else frame.iloc[0:0]
    table = restore_dtypes(table, frame)
    if marker is not None:
        table[marker] = origin
    counts = {
        "original": len(frame) if section.keep_original else 0,
        "augmented": len(frame) * (copies if section.transforms else 0),
        "synthetic": 0 if synthetic is None else len(synthetic.rows),
    }
    return Rendered(io.dump(table, stored, verbatim), records, counts, tuple(warnings), tuple(notes))
