"""A recipe on a Hugging Face `datasets.Dataset`: a batch function for `Dataset.map` (with indices)
or `Dataset.with_transform` (with an index column).

Each row's generator derives from (seed, epoch, row index) alone, so a mapped dataset is the same
whatever the batch size or the number of processes. `datasets` itself is not imported here: the
function works on the plain dict of columns that `datasets` hands over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from augcli.api import Pipeline


class BatchAugmenter:
    """Augments one column of a batch. Images may be PIL images or arrays; audio a dict with
    "array" and "sampling_rate" (the datasets Audio feature); text strings.

        augment = BatchAugmenter(recipe.pipeline("image"), column="image", seed=0)
        dataset = dataset.map(augment, batched=True, with_indices=True)
        # or, drawn anew each epoch: augment.epoch = epoch; dataset.with_transform(augment)
        # (with_transform needs an index column: dataset.add_column("index", range(len(dataset))))
    """

    def __init__(
        self, pipeline: Pipeline, column: str, *, seed: int = 0, epoch: int = 0, index_column: str = "index"
    ) -> None:
        self.pipeline, self.column, self.seed, self.epoch, self.index_column = (
            pipeline,
            column,
            seed,
            epoch,
            index_column,
        )

    def __call__(self, batch: dict[str, list[Any]], indices: Sequence[int] | None = None) -> dict[str, list[Any]]:
        if indices is None:
            if self.index_column not in batch:
                raise KeyError(
                    f"no row indices: use Dataset.map(..., with_indices=True), or add an '{self.index_column}' column"
                )
            indices = batch[self.index_column]
        out = dict(batch)
        out[self.column] = [self._one(value, index) for value, index in zip(batch[self.column], indices, strict=True)]
        return out

    def _one(self, value: Any, index: int) -> Any:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        if self.pipeline.modality == "audio" and isinstance(value, dict):
            samples = np.asarray(value["array"], dtype=np.float32)
            augmented = self.pipeline(samples, rng, sample_rate=value["sampling_rate"]).sample
            return {**value, "array": augmented}
        if self.pipeline.modality == "image" and not hasattr(value, "mode"):
            value = np.asarray(value)
        return self.pipeline(value, rng).sample


__all__ = ["BatchAugmenter"]
