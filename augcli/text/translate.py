"""Back translation through locally stored sequence-to-sequence models (MarianMT and alike).

Optional: needs torch and, in augcli's clone, `pip install -e '.[translate]'` (transformers,
sentencepiece). Models are read from disk only (the Hugging Face hub is switched off), one load
per process, and decoded greedily or with beams, so the same text gives the same translation in
every run; with `sampling: true` each batch is decoded with a seed drawn from the copy's
generator.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any

from augcli.core.errors import install_hint

INSTALL_HINT = (
    "pip install torch (its CPU build: add --index-url https://download.pytorch.org/whl/cpu), then "
    + install_hint("translate", "transformers sentencepiece sacremoses")
)


def missing_packages() -> list[str]:
    """The packages back translation needs that are not installed."""
    return [name for name in ("torch", "transformers", "sentencepiece") if importlib.util.find_spec(name) is None]


def model_folder(root: Path, source: str, target: str) -> Path:
    """Where the source->target model lives under `root`: opus-mt-<src>-<tgt>, as the hub names them."""
    return root / f"opus-mt-{source}-{target}"


@functools.lru_cache(maxsize=4)
def load(folder: str) -> tuple[Any, Any]:
    """(tokenizer, model) from a local folder; nothing is downloaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()  # a run's own progress bar is the only one on the terminal
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, local_files_only=True)
    model.eval()
    return tokenizer, model


def translate(
    texts: list[str],
    folder: str,
    batch_size: int,
    max_length: int,
    num_beams: int,
    seeds: list[int] | None = None,
    temperature: float = 1.0,
) -> list[str]:
    """Translate in batches of `batch_size`; `seeds` (one per batch) switches on sampled decoding."""
    import torch

    tokenizer, model = load(folder)
    out: list[str] = []
    for b, start in enumerate(range(0, len(texts), batch_size)):
        batch = texts[start : start + batch_size]
        encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=max_length)
        options = {"max_length": max_length, "num_beams": num_beams}
        if seeds is not None:
            torch.manual_seed(seeds[b])
            options.update(do_sample=True, temperature=temperature, num_beams=1)
        with torch.no_grad():
            generated = model.generate(**encoded, **options)
        out += tokenizer.batch_decode(generated, skip_special_tokens=True)
    return out
