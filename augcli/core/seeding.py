"""One random generator per output, derived only from the seed, the file and the copy number."""

from __future__ import annotations

import hashlib
import os

import numpy as np


def stable_hash(text: str) -> int:
    """A 64-bit digest that is the same in every process and Python version (unlike hash()).
    It hashes the name's raw bytes, so a file name that is not valid UTF-8 works too."""
    return int.from_bytes(hashlib.blake2b(os.fsencode(text), digest_size=8).digest(), "big")


def rng_for(seed: int, relative_path: str, copy: int) -> np.random.Generator:
    """The generator for one output: independent of worker count, file order and resumption."""
    return np.random.default_rng([seed, stable_hash(relative_path), copy])


class FileRngs:
    """The generators of one input file: one per copy, and one per named file-level step.

    A table's copies are rows of one output, and a step like resampling works on the whole table;
    each still gets a generator that depends only on the seed, the file and what it is for.
    """

    def __init__(self, seed: int, relative_path: str) -> None:
        self.seed, self.relative_path = seed, relative_path

    def copy(self, copy: int) -> np.random.Generator:
        return rng_for(self.seed, self.relative_path, copy)

    def step(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, stable_hash(self.relative_path), 0, stable_hash(name)])
