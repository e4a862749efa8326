"""The modalities augcli knows, by recipe section name.

Each modality is imported the first time it is looked up, so a text-only run (and the worker
pool's fork server, which preloads this module) never imports OpenCV, librosa or pandas.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing this module stays cheap: the pool's early start reads preload()
    from augcli.core.modality import Modality

_CLASSES = {
    "image": ("augcli.image.modality", "ImageModality"),
    "audio": ("augcli.audio.modality", "AudioModality"),
    "text": ("augcli.text.modality", "TextModality"),
    "tabular": ("augcli.tabular.modality", "TabularModality"),
    "video": ("augcli.video.modality", "VideoModality"),
}

# Heavy modules a section's workers need beyond its own module: the fork server imports them once
# and every worker forked from it has them (text: the WordNet table, parsed once).
_PRELOAD = {
    "audio": ("scipy.fft", "soxr", "augcli.audio.vocoder", "augcli.audio.envelope"),  # librosa, scipy.signal: on use
    "text": ("augcli.text.warm",),
    "tabular": ("pandas", "imblearn.over_sampling"),
    "video": ("av", "cv2"),
}


# Text steps that re-inflect words (augcli.text.inflect): their workers need lemminflect's tables,
# which the fork server then reads once (0.29 s each worker would pay) by importing SYNONYM_WARMUP.
# A section's own exclude_words list is inflected through them too.
REINFLECTING = frozenset({"eda", "synonym_replacement", "random_insertion", "antonym"})
SYNONYM_WARMUP = "augcli.text.warm_synonyms"


def preload(names: Iterable[str]) -> list[str]:
    """The modules the worker pool should import up front for sections `names` (unknown names are
    skipped: the recipe check reports them). Known without importing any modality."""
    return [module for name in names if name in _CLASSES for module in (_CLASSES[name][0], *_PRELOAD.get(name, ()))]


def names_a_step(value: object, names: frozenset[str]) -> bool:
    """Whether a raw recipe value (as YAML loads it: a transforms list, a one_of's children) names
    one of `names` as a step, looked at before the recipe is checked (a wrong answer costs only a
    warm-up). Without recursion, each shared value once and at most as many values as the recipe
    check reads (MAX_NODES): YAML's aliases can make a value contain itself or expand to billions."""
    from augcli.core.yamlsource import MAX_NODES  # only the early start asks: yaml is imported there

    pending, seen = [value], set()
    for _ in range(MAX_NODES):
        if not pending:
            return False
        item = pending.pop()
        if isinstance(item, str):
            if item in names:
                return True
        elif isinstance(item, (dict, list)) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                if any(isinstance(key, str) and key in names for key in item):
                    return True
                pending.extend(item.values())
            else:
                pending.extend(item)
    return False


class _Modalities(Mapping):
    """A read-only name -> Modality mapping whose values are made on first use."""

    def __init__(self) -> None:
        self._made: dict[str, Modality] = {}

    def __getitem__(self, name: str) -> Modality:
        if name not in self._made:
            module, cls = _CLASSES[name]
            self._made[name] = getattr(importlib.import_module(module), cls)()
        return self._made[name]

    def __contains__(self, name: object) -> bool:  # a known name, without importing its modality
        return name in _CLASSES

    def __iter__(self) -> Iterator[str]:
        return iter(_CLASSES)

    def __len__(self) -> int:
        return len(_CLASSES)


MODALITIES: Mapping[str, Modality] = _Modalities()
