"""A recipe in a PyTorch training loop: `AugmentedDataset` augments an image or audio folder on the
fly, the same way `augcli run` would, with a fresh draw every epoch.

Reproducible per (seed, epoch, index) with any `num_workers`: each item's generator derives from
those three only, never from global state or the worker id. torch is imported when this module is
(`pip install torch`); augcli itself does not need it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "augcli.torch needs PyTorch: pip install torch (the CPU build is enough); augcli's other parts work without it"
    ) from exc

from augcli.api import Pipeline, Recipe, load_recipe


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one item in one epoch: a function of (seed, epoch, index) alone."""
    return np.random.default_rng([seed, epoch, index])


class AugmentedDataset(Dataset):
    """An ImageFolder-style folder (root/<class>/<file>) whose items are augmented on every read.

    `recipe`: a Recipe or a recipe path; `modality`: "image" (items are CxHxW uint8 tensors, or
    HxW for grey) or "audio" (channels x frames float32 tensors); `seed` defaults to the
    recipe's (`epoch_seed` is another name for it). Call `set_epoch(e)` before each epoch (as
    with DistributedSampler) for new draws.
    `transform` runs on the tensor after augmentation (normalisation, say).

    A recipe that mixes pictures (mosaic, mixup, cutmix) draws each item's partners from the
    dataset by (seed, epoch, index) too, and the item's target is then a float tensor of class
    weights (the soft label: its classes' shares), not a class index.
    """

    def __init__(
        self,
        root: str | Path,
        recipe: Recipe | str | Path,
        *,
        modality: str = "image",
        seed: int | None = None,
        epoch_seed: int | None = None,
        epoch: int = 0,
        transform: Callable[[Any], Any] | None = None,
        decoder: str = "opencv",
    ) -> None:
        from augcli.build.plan import walk

        self.recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
        self.pipeline: Pipeline = self.recipe.pipeline(modality)
        self.modality = modality
        if seed is not None and epoch_seed is not None and seed != epoch_seed:
            raise ValueError("give seed or epoch_seed (the same thing), not two different values")
        chosen = seed if seed is not None else epoch_seed
        self.seed = self.recipe.seed if chosen is None else chosen
        self.epoch = epoch
        self.transform = transform
        if decoder not in ("opencv", "pillow"):
            raise ValueError(f"decoder is opencv or pillow, got {decoder!r}")
        self.decoder = decoder
        self.root = Path(root)
        pipeline = self.pipeline
        files = [(Path(path), rel) for path, rel in walk(self.root) if "/" in rel and pipeline.claims(rel)]
        if not files:
            raise FileNotFoundError(f"no {modality} files in class folders under {self.root}")
        self.classes = sorted({relative.split("/", 1)[0] for _, relative in files})
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.samples = [(path, self.class_to_idx[relative.split("/", 1)[0]]) for path, relative in files]
        self.partner_slots = self.pipeline.partner_slots() if modality == "image" else 0

    def _pixels(self, path: Path) -> np.ndarray:
        if self.decoder == "opencv" and path.suffix.lower() in (".jpg", ".jpeg"):
            import cv2

            decoded = cv2.imread(str(path), cv2.IMREAD_COLOR)  # applies EXIF orientation
            if decoded is not None:
                return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        from augcli.image import io

        return io.load(path).pixels

    def set_epoch(self, epoch: int) -> None:
        """Draw new augmentations for epoch `epoch` (the same ones whenever it is replayed)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        from augcli.build.pool import tune_allocator

        tune_allocator()  # once per process: large buffers stay in the heap (see augcli.build.pool)
        path, label = self.samples[index]
        rng = item_rng(self.seed, self.epoch, index)
        if self.modality == "image" and self.partner_slots:
            tensor, target = self._mixed(index, rng)
            return (self.transform(tensor) if self.transform is not None else tensor), target
        if self.modality == "image":
            pixels = self.pipeline(self._pixels(path), rng).sample
            tensor = torch.from_numpy(np.ascontiguousarray(pixels))
            tensor = tensor.permute(2, 0, 1) if tensor.ndim == 3 else tensor
        else:
            from augcli.audio import io as audio_io

            decoded = audio_io.load(path)
            samples = self.pipeline(np.array(decoded.samples), rng, sample_rate=decoded.rate).sample
            tensor = torch.from_numpy(np.ascontiguousarray(samples.reshape(decoded.channels, -1)))
        return (self.transform(tensor) if self.transform is not None else tensor), label

    def _mixed(self, index: int, rng: np.random.Generator) -> tuple[Any, Any]:
        """An item mixed with partners drawn from the dataset (never itself while others exist),
        and its soft label over `classes`."""
        picker = np.random.default_rng([self.seed, self.epoch, index, 1])  # apart from the item's own draws
        others = len(self.samples) - 1
        chosen = (
            [int(i) + (int(i) >= index) for i in picker.integers(others, size=self.partner_slots)] if others else []
        )
        chosen = chosen or [index] * self.partner_slots
        partners = [
            {"image": self._pixels(self.samples[i][0]), "label": self.classes[self.samples[i][1]]} for i in chosen
        ]
        path, label = self.samples[index]
        made = self.pipeline(self._pixels(path), rng, partners=partners, label=self.classes[label])
        tensor = torch.from_numpy(np.ascontiguousarray(made.sample))
        tensor = tensor.permute(2, 0, 1) if tensor.ndim == 3 else tensor
        shares = made.shares or {self.classes[label]: 1.0}
        return tensor, torch.tensor([shares.get(name, 0.0) for name in self.classes], dtype=torch.float32)


__all__ = ["AugmentedDataset", "item_rng"]
