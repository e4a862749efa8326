"""Contextual words: substitute or insert the words a locally stored masked language model predicts.

Optional, like back translation: needs torch and transformers (in augcli's clone,
`pip install -e '.[translate]'`).
The model folder (as `save_pretrained` writes it: BERT, DistilBERT, RoBERTa, ...) is read from disk
only, once per process. The words of every text that fires are chosen first (never a stop word,
punctuation or a word with digits); each becomes the model's mask token, or a mask is inserted, and
one forward pass per batch predicts all of them. Each mask's word is drawn from the model's `top_k`
whole-word predictions by a numpy generator seeded from the copy's generator, so a seed gives the
same text in every run. Candidates are whole words of letters: no subword pieces (`##ing`), special
tokens, punctuation or digits, and no word the section's vocabulary excludes (safety.py).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

from augcli.core.params import Choice, Number, Text
from augcli.core.transforms import register
from augcli.text import functional as F
from augcli.text import safety
from augcli.text.transforms import BatchedTransform, Lexicon, aug_count

WORD_START = ("▁", "Ġ")  # SentencePiece's and byte-level BPE's marks of a piece that starts a word


def missing_packages() -> list[str]:
    """The packages contextual_words needs that are not installed."""
    return [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]


@functools.lru_cache(maxsize=4)
def load(folder: str) -> tuple[Any, Any]:
    """(tokenizer, masked language model) from a local folder; nothing is downloaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.mask_token is None:
        raise ValueError(f"the tokenizer in {folder} has no mask token: contextual_words needs a masked language model")
    model = AutoModelForMaskedLM.from_pretrained(folder, local_files_only=True)
    model.eval()
    return tokenizer, model


def whole_words(pieces: list[str | None]) -> list[str | None]:
    """The word each vocabulary piece stands for when it starts a word, None for a piece that continues
    one (WordPiece's `##ing`; under SentencePiece or byte-level BPE, a piece without the start mark)."""
    present = [p for p in pieces if p]
    if any(p.startswith("##") for p in present):
        return [None if not p or p.startswith("##") else p for p in pieces]
    if any(p.startswith(WORD_START) for p in present):
        return [p[1:] if p and p.startswith(WORD_START) else None for p in pieces]
    return list(pieces)


@functools.lru_cache(maxsize=8)
def vocabulary(folder: str, guard: safety.WordFilter | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Which of the model's output ids may be drawn (whole words of letters, not special, allowed by
    `guard`) and the word each id stands for ("" for the others)."""
    tokenizer, model = load(folder)
    head = model.get_output_embeddings()
    size = head.out_features if head is not None else model.config.vocab_size
    words = whole_words(tokenizer.convert_ids_to_tokens(list(range(size))))
    special = set(tokenizer.all_special_ids)
    allowed = np.zeros(size, dtype=bool)
    for i, word in enumerate(words):
        if word and word.isalpha() and i not in special:
            allowed[i] = not (guard and guard.found(safety.words_of(word)))
    return allowed, tuple(word if ok else "" for word, ok in zip(words, allowed, strict=True))


def _mask_logits(model: Any, encoded: dict[str, Any], rows: Any, cols: Any) -> Any:
    """The model's logits at the masked positions only, (masks, vocabulary): the output layer is fed
    just those rows (a pre-hook), so the big vocabulary projection is not computed for every token."""
    inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    head = model.get_output_embeddings()
    if head is not None:
        handle = head.register_forward_pre_hook(lambda module, args: (args[0][rows, cols], *args[1:]))
        try:
            logits = model(**inputs).logits
        finally:
            handle.remove()
        if logits.dim() == 2 and logits.shape[0] == len(rows):
            return logits
    return model(**inputs).logits[rows, cols]


def draw(scores: np.ndarray, temperature: float, u: float) -> int:
    """The index drawn from softmax(scores / temperature) by a uniform number u in [0, 1)."""
    weights = np.exp((scores - scores.max()) / temperature)
    cumulative = np.cumsum(weights)
    return min(int(np.searchsorted(cumulative, u * cumulative[-1], side="right")), len(scores) - 1)


def fill_masks(
    masked: list[str],
    avoid: list[list[str]],
    folder: str,
    guard: safety.WordFilter | None,
    top_k: int,
    temperature: float,
    batch_size: int,
    max_length: int,
    seed: int,
) -> list[list[str]]:
    """A word for each mask token of each text, in order: drawn from the model's top_k allowed whole
    words, never avoid[t][k] (the word mask k replaces), with a generator seeded by `seed`. Texts go
    to the model by length, `batch_size` at a time; a mask cut off by max_length gets no word."""
    import torch

    tokenizer, model = load(folder)
    allowed, words = vocabulary(folder, guard)
    banned = torch.from_numpy(~allowed)
    generator = np.random.default_rng(seed)
    out: list[list[str]] = [[] for _ in masked]
    order = sorted(range(len(masked)), key=lambda t: len(masked[t]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        encoded = tokenizer(
            [masked[t] for t in batch], return_tensors="pt", padding=True, truncation=True, max_length=max_length
        )
        rows, cols = (encoded["input_ids"] == tokenizer.mask_token_id).nonzero(as_tuple=True)
        if not len(rows):
            continue
        with torch.inference_mode():
            logits = _mask_logits(model, encoded, rows, cols).float().masked_fill(banned, float("-inf"))
            scores, ids = torch.topk(logits, min(top_k + 1, logits.shape[1]))
        scores, ids, uniform = scores.double().numpy(), ids.numpy(), generator.random(len(rows))
        for m, row in enumerate(rows.tolist()):
            t = batch[row]
            k = len(out[t])
            banned_word = avoid[t][k].lower() if k < len(avoid[t]) else ""
            candidates = [j for j in range(ids.shape[1]) if scores[m, j] > -np.inf]
            keep = [j for j in candidates if words[ids[m, j]].lower() != banned_word][:top_k]
            out[t].append(words[ids[m, keep[draw(scores[m, keep], temperature, uniform[m])]]] if keep else "")
    return out


@register("text")
class ContextualWords(BatchedTransform):
    """Substitute or insert words a local masked language model (BERT, DistilBERT, ...) predicts from context."""

    model = Text(doc="folder of a saved masked language model and its tokenizer, relative to the recipe")
    action = Choice("substitute", ["substitute", "insert"], "replace chosen words, or insert new ones between words")
    aug_p = Number(0.3, "share of the words replaced (non-stop words) or inserted (per word)", lo=0.0, hi=1.0)
    aug_min = Number(1, "at least this many words per text", integer=True, lo=0)
    aug_max = Number(10, "at most this many words per text", integer=True, lo=0)
    top_k = Number(100, "draw each word from the model's this many likeliest whole words", integer=True, lo=1, hi=10000)
    temperature = Number(1.0, "sampling temperature: lower favours the likeliest words", lo=0.01, hi=10.0)
    batch_size = Number(32, "texts per model call", integer=True, lo=1, hi=4096)
    max_length = Number(256, "longest input in tokens (masks past it stay as they were)", integer=True, lo=8, hi=4096)
    output_version = 2  # 2: words with a vulgar root, or inflections of excluded ones, are not drawn (#21)

    folder: str = ""

    def check(self) -> list[tuple[str, str]]:
        return [("aug_min", "must not exceed aug_max")] if self.aug_min > self.aug_max else []

    def check_files(self, base_dir: Path) -> list[tuple[str, str]]:
        from augcli.text.translate import INSTALL_HINT

        missing = missing_packages()
        if missing:
            return [("model", f"contextual_words needs {', '.join(missing)}: {INSTALL_HINT}")]
        root = (base_dir / self.model).resolve()
        if not (root / "config.json").is_file():
            return [
                (
                    "model",
                    f"no model in {root}: the folder holds a saved masked language model and its tokenizer "
                    "(config.json, ...: what save_pretrained writes)",
                )
            ]
        self.folder = str(root)
        return []

    def dependencies(self) -> list[str]:
        return [self.folder]

    def edit_batch(self, texts: list[str], rand: random.Random, lexicon: Lexicon) -> list[str]:
        if not texts:
            return []
        mask = load(self.folder)[0].mask_token
        plans = [self._choose(F.tokenize(text), rand, lexicon, mask) for text in texts]
        todo = [k for k, (_, _, chosen, _) in enumerate(plans) if chosen]
        seed = rand.getrandbits(63)
        filled = fill_masks(
            [plans[k][3] for k in todo],
            [[plans[k][0][i] for i in plans[k][2]] if self.action == "substitute" else [] for k in todo],
            self.folder,
            lexicon.guard,
            self.top_k,
            self.temperature,
            self.batch_size,
            self.max_length,
            seed,
        )
        out = list(texts)
        for k, drawn in zip(todo, filled, strict=True):
            tokens, words, chosen, _ = plans[k]
            pairs = [(where, word) for where, word in zip(chosen, drawn, strict=False) if word]
            if self.action == "substitute":
                tokens = F.replace(tokens, {i: F.match_case(tokens[i], word) for i, word in pairs})
            else:
                tokens = F.insert(tokens, words, pairs)
            out[k] = "".join(tokens)
        return out

    def _count(self, eligible: int) -> int:
        return aug_count(self.aug_p, eligible, self.aug_min, self.aug_max)

    def _choose(self, tokens: list[str], rand: random.Random, lexicon: Lexicon, mask: str):
        """(tokens, word positions, the chosen token indices or insertion slots, the text with masks)."""
        words = list(F.word_positions(tokens))
        text = "".join(tokens)
        if not words or mask in text:  # a text that holds the mask token itself is left alone
            return tokens, words, [], text
        if self.action == "substitute":
            eligible = [i for i in words if tokens[i].isalpha() and tokens[i].lower() not in lexicon.stop_words]
            chosen = sorted(rand.sample(eligible, self._count(len(eligible))))
            return tokens, words, chosen, "".join(F.replace(tokens, dict.fromkeys(chosen, mask)))
        slots = sorted(rand.sample(range(len(words) + 1), self._count(len(words))))
        return tokens, words, slots, "".join(F.insert(tokens, words, [(slot, mask) for slot in slots]))
