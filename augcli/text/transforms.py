"""Registered text transforms: EDA (Wei & Zou, 2019) and typo noise, word by word.

Each transform draws its edits for one sample (a line, a row's cell) from a `random.Random` that
the modality seeds from the sample's copy generator, then applies them with a pure kernel from
functional.py. (Python's Random is used here for speed: a sentence needs a dozen draws, and a
numpy Generator call costs ten times as much; it is seeded per file and copy, never global.)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from augcli.core.params import Choice, Flag, Number, Text
from augcli.core.transforms import OneOf, SomeOf, Transform, register
from augcli.text import functional as F
from augcli.text import inflect, safety


@dataclass(frozen=True)
class Lexicon:
    """What word-level transforms consult: the section's synonyms, stop words and word filter.

    `lookup` gives a word's synonyms inflected like it (inflect.py); re-inflected forms the section's
    word filter excludes are dropped, so an inflected candidate can no more bring an excluded word
    than a table entry can."""

    synonyms: dict[str, tuple[str, ...]]
    stop_words: frozenset[str]
    guard: safety.WordFilter | None = None
    _found: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def lookup(self, lowered: str) -> tuple[str, ...]:
        """Synonyms of a lower-case word, inflected like it (empty if it has none)."""
        found = self._found.get(lowered)
        if found is None:
            found = inflect.candidates(lowered, self.synonyms)
            own = self.synonyms.get(lowered, ())
            if self.guard and found != own:  # table entries are filtered already; new forms are checked here
                found = tuple(s for s in found if s in own or not self.guard.found(safety.words_of(s)))
            self._found[lowered] = found
        return found

    def replaceable(self, word: str) -> tuple[str, ...]:
        """Synonyms of a non-stop word, inflected like it (empty for stop words and unknown words)."""
        lowered = word.lower()
        return () if lowered in self.stop_words else self.lookup(lowered)


def word_count(alpha: float, words: int) -> int:
    """EDA's n = max(1, round(alpha x number of words))."""
    return max(1, round(alpha * words))


def aug_count(share: float, eligible: int, least: int, most: int) -> int:
    """How many of `eligible` items to edit, as nlpaug counts: ceil(share x eligible), raised to `least`,
    cut to `most`, never more than there are. (Rounded first: 0.28 x 25 is 7, not 7.000000000000001 -> 8.)"""
    return min(eligible, max(least, min(most, math.ceil(round(share * eligible, 9)))))


class TextTransform(Transform):
    def edit(self, tokens: list[str], words: list[int], rand: random.Random, lexicon: Lexicon) -> list[str]:
        """Draw this sample's edits and apply them; return the new tokens."""
        raise NotImplementedError


class BatchedTransform(TextTransform):
    """A transform that works on many samples at once (a model); only allowed at the top level."""

    def edit_batch(self, texts: list[str], rand: random.Random, lexicon: Lexicon) -> list[str]:
        raise NotImplementedError


def _two_distinct(rand: random.Random, count: int) -> tuple[int, int]:
    """Two different indices below `count` (cheaper than rand.sample for a pair)."""
    a = rand.randrange(count)
    b = rand.randrange(count - 1)
    return a, b + (b >= a)


def synonym_replacement(
    tokens: list[str], words: Sequence[int], rand: random.Random, lexicon: Lexicon, alpha: float
) -> list[str]:
    """Replace n distinct non-stop words (every occurrence) with a random synonym each, inflected like it."""
    stop, lookup = lexicon.stop_words, lexicon.lookup
    lowered = {i: tokens[i].lower() for i in words}
    candidates = list(dict.fromkeys(w for w in lowered.values() if w not in stop and lookup(w)))
    count = min(word_count(alpha, len(words)), len(candidates))
    chosen = {word: rand.choice(lookup(word)) for word in rand.sample(candidates, count)}
    replacements = {i: F.match_case(tokens[i], chosen[w]) for i, w in lowered.items() if w in chosen}
    return F.replace(tokens, replacements)


def random_insertion(
    tokens: list[str], words: Sequence[int], rand: random.Random, lexicon: Lexicon, alpha: float
) -> list[str]:
    """n times: a random synonym of a random non-stop word (inflected like it), inserted at a random word position."""
    stop, lookup = lexicon.stop_words, lexicon.lookup
    seeds = [s for s in (lookup(w) for w in (tokens[i].lower() for i in words) if w not in stop) if s]
    if not seeds:
        return tokens
    slots = len(words) + 1
    insertions = [
        (rand.randrange(slots), rand.choice(rand.choice(seeds))) for _ in range(word_count(alpha, len(words)))
    ]
    return F.insert(tokens, words, insertions)


def random_swap(
    tokens: list[str], words: Sequence[int], rand: random.Random, lexicon: Lexicon, alpha: float
) -> list[str]:
    """n times: swap two random words."""
    if len(words) < 2:
        return tokens
    return F.swap(tokens, words, [_two_distinct(rand, len(words)) for _ in range(word_count(alpha, len(words)))])


def random_deletion(
    tokens: list[str], words: Sequence[int], rand: random.Random, lexicon: Lexicon, p_word: float
) -> list[str]:
    """Delete each word with probability p_word; never all of them (one random word survives)."""
    if len(words) < 2:
        return tokens
    doomed = {k for k in range(len(words)) if rand.random() < p_word}
    if len(doomed) == len(words):
        doomed.discard(rand.randrange(len(words)))
    return F.delete(tokens, words, doomed)


class _EdaOperation(TextTransform):
    """One EDA operation: `operation` is its function, called with the transform's one amount."""

    operation: ClassVar[Callable[..., list[str]]]
    amount: ClassVar[str]  # the name of the parameter that says how much

    def edit(self, tokens, words, rand, lexicon):
        return type(self).operation(tokens, words, rand, lexicon, getattr(self, self.amount))


@register("text")
class SynonymReplacement(_EdaOperation):
    """EDA: replace n = max(1, round(alpha x words)) distinct non-stop words with a random synonym."""

    alpha = Number(0.1, "share of words to replace", lo=0.0, hi=1.0)
    # 4: vulgar roots and dictionary inflections withheld (#21); 3: re-inflected synonyms (#27); 2: safe words (#21)
    output_version = 4
    operation, amount = synonym_replacement, "alpha"


@register("text")
class RandomInsertion(_EdaOperation):
    """EDA: n times, insert a random synonym of a random non-stop word at a random position."""

    alpha = Number(0.1, "insertions per word of the sample", lo=0.0, hi=1.0)
    # 4: vulgar roots and dictionary inflections withheld (#21); 3: re-inflected synonyms (#27); 2: safe words (#21)
    output_version = 4
    operation, amount = random_insertion, "alpha"


@register("text")
class RandomSwap(_EdaOperation):
    """EDA: n times, swap two random words (punctuation stays where it was)."""

    alpha = Number(0.1, "swaps per word of the sample", lo=0.0, hi=1.0)
    operation, amount = random_swap, "alpha"


@register("text")
class RandomDeletion(_EdaOperation):
    """EDA: delete each word with probability p_word, never all of them."""

    p_word = Number(0.1, "chance that each word is deleted", lo=0.0, hi=1.0)
    operation, amount = random_deletion, "p_word"


@register("text")
class Eda(TextTransform):
    """EDA as the paper runs it: one of the four operations, chosen at random per sample."""

    alpha_sr = Number(0.1, "synonym_replacement alpha", lo=0.0, hi=1.0)
    alpha_ri = Number(0.1, "random_insertion alpha", lo=0.0, hi=1.0)
    alpha_rs = Number(0.1, "random_swap alpha", lo=0.0, hi=1.0)
    p_rd = Number(0.1, "random_deletion p_word", lo=0.0, hi=1.0)
    # 4: vulgar roots and dictionary inflections withheld (#21); 3: re-inflected synonyms (#27); 2: safe words (#21)
    output_version = 4
    OPERATIONS: ClassVar = (
        (synonym_replacement, "alpha_sr"),
        (random_insertion, "alpha_ri"),
        (random_swap, "alpha_rs"),
        (random_deletion, "p_rd"),
    )

    def edit(self, tokens, words, rand, lexicon):
        operation, amount = self.OPERATIONS[rand.randrange(4)]
        return operation(tokens, words, rand, lexicon, getattr(self, amount))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_QWERTY_ROWS = ("1234567890-", "qwertyuiop[", "asdfghjkl;'", "zxcvbnm,./")


_ROW_OFFSETS = (0.0, 0.5, 0.75, 1.25)  # how far each row is shifted right, in keys


def _qwerty_neighbours() -> dict[str, str]:
    """Letters whose keys touch each letter's key on a staggered QWERTY keyboard."""
    where = {key: (r, c + _ROW_OFFSETS[r]) for r, row in enumerate(_QWERTY_ROWS) for c, key in enumerate(row)}
    neighbours = {}
    for letter in _LETTERS:
        r, x = where[letter]
        near = [
            key
            for key, (r2, x2) in where.items()
            if key in _LETTERS and key != letter and abs(r2 - r) <= 1 and abs(x2 - x) <= (1.0 if r2 == r else 0.8)
        ]
        neighbours[letter] = "".join(sorted(near))
    return neighbours


QWERTY = _qwerty_neighbours()


def _typo_targets(tokens, words, rand, alpha, min_length):
    long_enough = [i for i in words if len(tokens[i]) >= min_length and tokens[i].isalpha()]
    rand.shuffle(long_enough)
    return long_enough[: word_count(alpha, len(words))]


@register("text")
class RandomChar(TextTransform):
    """Typo noise: in n words, one character is inserted, substituted, swapped with the next or deleted."""

    alpha = Number(0.1, "share of words that get a typo", lo=0.0, hi=1.0)
    operations = Choice("any", ["any", "insert", "substitute", "swap", "delete"], "which kind of typo")
    min_length = Number(3, "shorter words are left alone", integer=True, lo=1)
    # 2: a copy that gains a vulgar root, an irregular inflection or a disguised excluded word (5h1t) is redrawn (#21)
    output_version = 2

    def edit(self, tokens, words, rand, lexicon):
        replacements = {}
        for i in _typo_targets(tokens, words, rand, self.alpha, self.min_length):
            word = tokens[i]
            operation = self.operations
            if operation == "any":
                operation = rand.choice(("insert", "substitute", "swap", "delete"))
            last = len(word) - (2 if operation == "swap" else 1)
            position = rand.randint(0, max(last, 0) + (1 if operation == "insert" else 0))
            character = F.match_case(word[min(position, len(word) - 1)], rand.choice(_LETTERS))
            replacements[i] = F.edit_characters(word, operation, position, character)
        return F.replace(tokens, replacements)


@register("text")
class KeyboardTypo(TextTransform):
    """Typo noise: in n words, one letter is replaced by a neighbouring key on a QWERTY keyboard."""

    alpha = Number(0.1, "share of words that get a typo", lo=0.0, hi=1.0)
    min_length = Number(3, "shorter words are left alone", integer=True, lo=1)
    # 2: a copy that gains a vulgar root, an irregular inflection or a disguised excluded word (5h1t) is redrawn (#21)
    output_version = 2

    def edit(self, tokens, words, rand, lexicon):
        replacements = {}
        for i in _typo_targets(tokens, words, rand, self.alpha, self.min_length):
            word = tokens[i]
            letters = [k for k, ch in enumerate(word) if ch.lower() in QWERTY]
            if not letters:
                continue
            k = rand.choice(letters)
            typo = F.match_case(word[k], rand.choice(QWERTY[word[k].lower()]))
            replacements[i] = F.edit_characters(word, "substitute", k, typo)
        return F.replace(tokens, replacements)


@register("text")
class BackTranslation(BatchedTransform):
    """Translate to another language and back with local MarianMT models (needs the translate extra)."""

    via = Text(doc="the pivot language code, e.g. de")
    lang = Text("en", "the language of the text")
    model = Text(doc="folder holding opus-mt-<lang>-<via> and opus-mt-<via>-<lang>, relative to the recipe")
    batch_size = Number(16, "sentences per model call", integer=True, lo=1, hi=4096)
    max_length = Number(256, "longest input / output in tokens", integer=True, lo=8, hi=4096)
    num_beams = Number(1, "beam search width (1 = greedy)", integer=True, lo=1, hi=16)
    sampling = Flag(False, "sample the translations (seeded per batch) instead of the single best one")
    temperature = Number(1.0, "sampling temperature", lo=0.01, hi=10.0)
    # 2: a copy that gains a vulgar root, an irregular inflection or a disguised excluded word (5h1t) is redrawn (#21)
    output_version = 2

    folders: tuple[str, str] = ("", "")

    def check_files(self, base_dir: Path) -> list[tuple[str, str]]:
        from augcli.text import translate

        missing = translate.missing_packages()
        if missing:
            return [("model", f"back_translation needs {', '.join(missing)}: {translate.INSTALL_HINT}")]
        root = (base_dir / self.model).resolve()
        there = translate.model_folder(root, self.lang, self.via)
        back = translate.model_folder(root, self.via, self.lang)
        absent = [str(f) for f in (there, back) if not (f / "config.json").is_file()]
        if absent:
            return [
                ("model", f"no model in {' and '.join(absent)}: each folder holds a saved model (config.json, ...)")
            ]
        self.folders = (str(there), str(back))
        return []

    def dependencies(self) -> list[str]:
        return list(self.folders)

    def edit_batch(self, texts: list[str], rand: random.Random, lexicon: Lexicon) -> list[str]:
        from augcli.text import translate

        if not texts:
            return []
        batches = (len(texts) + self.batch_size - 1) // self.batch_size
        settings = (self.batch_size, self.max_length, self.num_beams)
        seeds = [rand.getrandbits(63) for _ in range(2 * batches)] if self.sampling else None
        there = translate.translate(texts, self.folders[0], *settings, seeds and seeds[:batches], self.temperature)
        return translate.translate(there, self.folders[1], *settings, seeds and seeds[batches:], self.temperature)


def run(
    transforms: list[Transform], texts: list[str], rand: random.Random, lexicon: Lexicon, fired: dict[int, int]
) -> list[str]:
    """All samples of one copy through the pipeline; `p`, one_of and some_of are decided per sample.

    Word-level transforms run sample by sample; a batched transform (back_translation,
    contextual_words) runs once over every sample that it fires on, so a model sees full batches.
    """
    tokens = [_source_tokens(text) for text in texts]
    for transform in transforms:
        if isinstance(transform, BatchedTransform):
            chosen = [k for k in range(len(texts)) if transform.p >= 1.0 or rand.random() < transform.p]
            done = transform.edit_batch(["".join(tokens[k]) for k in chosen], rand, lexicon)
            for k, text in zip(chosen, done, strict=True):
                tokens[k] = F.tokenize(text)
            fired[id(transform)] = fired.get(id(transform), 0) + len(chosen)
        else:
            tokens = [_run_one(transform, sample, rand, lexicon, fired) for sample in tokens]
    return ["".join(sample) for sample in tokens]


_SOURCE_TOKENS: dict[str, tuple[str, ...]] = {}
_SOURCE_CHARACTERS = [0]  # the characters of the samples kept
_SOURCE_TOKENS_KEPT = 1 << 22  # characters (tokens cost about 12 bytes a character: 50 MB at most)
_SOURCE_TOKENS_LONGEST = 4096  # characters: a long document is tokenized again rather than kept


def _source_tokens(text: str) -> list[str]:
    """A sample's tokens, kept between the copies of one table or file (every copy starts from the
    same samples: tokenizing them again was a tenth of a text run). A fresh list each time: the
    kept tuple is never handed out."""
    kept = _SOURCE_TOKENS.get(text)
    if kept is None:
        if len(text) > _SOURCE_TOKENS_LONGEST:
            return F.tokenize(text)
        if _SOURCE_CHARACTERS[0] + len(text) > _SOURCE_TOKENS_KEPT:  # a table larger than this starts again
            _SOURCE_TOKENS.clear()
            _SOURCE_CHARACTERS[0] = 0
        kept = _SOURCE_TOKENS[text] = tuple(F.tokenize(text))
        _SOURCE_CHARACTERS[0] += len(text)
    return list(kept)


def _run_one(transform, tokens, rand, lexicon, fired):
    if transform.p < 1.0 and not rand.random() < transform.p:
        return tokens
    if isinstance(transform, OneOf):
        children = transform.children
        child = rand.choices(children, weights=transform.weights)[0] if transform.weights else rand.choice(children)
        return _run_one(child, tokens, rand, lexicon, fired)
    if isinstance(transform, SomeOf):
        lo, hi = transform.n if transform.n is not None else (1, len(transform.children))
        chosen = sorted(rand.sample(range(len(transform.children)), rand.randint(lo, hi)))
        for index in chosen:
            tokens = _run_one(transform.children[index], tokens, rand, lexicon, fired)
        return tokens
    words = F.word_positions(tokens)
    if not words:
        return tokens
    fired[id(transform)] = fired.get(id(transform), 0) + 1
    return transform.edit(tokens, words, rand, lexicon)
