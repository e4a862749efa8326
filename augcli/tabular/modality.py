"""The tabular modality: one output table per input table, holding its original rows (when
keep_original), `copies` augmented variants of every row, then the resampler's synthetic rows."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augcli.core.modality import BaseModality, Rendered
from augcli.core.params import Choice, Flag, Names, Number, Options, Param, ParamError, Text
from augcli.core.seeding import FileRngs
from augcli.core.transforms import Transform
from augcli.tabular import transforms as _registered  # noqa: F401  (registers the transforms)

METHODS = ("none", "smote", "borderline_smote", "adasyn", "smotenc", "random_oversample")

if TYPE_CHECKING:
    from augcli.core.recipe import Section

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


class TabularModality(BaseModality):
    name = "tabular"
    default_include = ("*.csv", "*.tsv", "*.parquet")
    transforms_optional = True
    options = {
        "label": Text(None, "the class column: resampling needs it; categorical_resample draws within its classes"),
        "ignore": Names((), "columns carried unchanged and never used as features (ids, text)"),
        "categorical": Names((), "columns to treat as categorical; otherwise non-numeric columns are"),
        "clip": Flag(True, "keep numeric features within the min / max observed in the input"),
        "provenance_column": Text(None, "add a column saying where each row came from"),
        "id_column": Text(
            None,
            "an integer id column: never a feature; synthetic rows get new ids after the largest, so the column "
            "stays integer for pandas readers",
        ),
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

    def render_table(
        self, source: Path, section: Section, copies: int, rngs: FileRngs, parts: list[Any] | None = None
    ) -> Rendered:
        from augcli.tabular import table  # pandas: imported by runs that have tables only

        return _render(source, section, copies, table.Draws(rngs))

    def replay_table(self, source: Path, section: Section, copies: int, records: list[dict[str, Any]]) -> Rendered:
        """A table made again from the seeds and random_state its record names."""
        from augcli.tabular import table

        return _render(source, section, copies, table.Draws(records=records))


def _render(source: Path, section: Section, copies: int, draws: Any) -> Rendered:
    """The output table of one input table: in chunks when it is worth streaming, else whole
    (pandas is imported here: by runs that have tables only)."""
    from augcli.tabular import stream, table

    if stream.worth_streaming(source, section):
        return stream.render(source, section, copies, draws)
    return table.render_whole(source, section, copies, draws)
