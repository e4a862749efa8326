"""One random generator per output, derived only from the seed, the file and the copy number."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(text: str) -> int:
    """A 64-bit digest that is the same in every process and Python version (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def rng_for(seed: int, relative_path: str, copy: int) -> np.random.Generator:
    """The generator for one output: independent of worker count, file order and resumption."""
    return np.random.default_rng([seed, stable_hash(relative_path), copy])
