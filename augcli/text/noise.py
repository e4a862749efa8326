"""Noise that real text has: OCR confusions, human misspellings, words split in two, and antonyms.

Each transform picks its words (and characters) with the sample's `random.Random`, as nlpaug counts
them (`aug_count`: ceil(share x eligible), between a least and a most), and applies them with a pure
kernel from functional.py. No transform brings a word its section's vocabulary excludes (safety.py):
candidates are filtered before they are drawn, and an edit that would make an excluded word is not made.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

from augcli.core.params import Number
from augcli.core.transforms import register
from augcli.text import functional as F
from augcli.text import lexicon as shipped
from augcli.text import safety
from augcli.text.transforms import Lexicon, TextTransform, aug_count

# Glyphs an OCR engine mistakes for each other, by shape (augcli's own list). Every pair works both
# ways, and every side is letters or digits, so an edited word stays one word.
OCR_PAIRS = (
    ("0", "O"),
    ("0", "o"),
    ("O", "Q"),
    ("O", "D"),
    ("1", "l"),
    ("1", "I"),
    ("1", "i"),
    ("1", "7"),
    ("l", "I"),
    ("l", "i"),
    ("i", "j"),
    ("5", "S"),
    ("5", "s"),
    ("8", "B"),
    ("8", "3"),
    ("6", "b"),
    ("6", "G"),
    ("9", "g"),
    ("9", "q"),
    ("g", "q"),
    ("2", "Z"),
    ("2", "z"),
    ("4", "A"),
    ("7", "T"),
    ("C", "G"),
    ("E", "F"),
    ("P", "F"),
    ("U", "V"),
    ("a", "o"),
    ("c", "e"),
    ("c", "o"),
    ("h", "b"),
    ("h", "n"),
    ("t", "f"),
    ("u", "v"),
    ("v", "y"),
    ("rn", "m"),
    ("nn", "m"),
    ("cl", "d"),
    ("vv", "w"),
    ("VV", "W"),
    ("ri", "n"),
    ("li", "h"),
    ("ii", "u"),
)


def _confusions(pairs: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    table: dict[str, set[str]] = {}
    for a, b in pairs:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {glyph: tuple(sorted(others)) for glyph, others in sorted(table.items())}


OCR = _confusions(OCR_PAIRS)  # glyph (one or two characters) -> what it may be read as, sorted
_LONGEST = max(map(len, OCR))


def ocr_spans(word: str, table: dict[str, tuple[str, ...]] = OCR) -> list[tuple[int, int]]:
    """The glyphs of a word an OCR engine may misread: non-overlapping [start, end) spans, found left to
    right, the longest glyph first (`rn` in `corn` is one glyph, read as `m`)."""
    spans, at = [], 0
    while at < len(word):
        for size in range(_LONGEST, 0, -1):
            if word[at : at + size] in table:
                spans.append((at, at + size))
                at += size
                break
        else:
            at += 1
    return spans


def _gains(lexicon: Lexicon, before: str, after: str) -> bool:
    """Whether an edited word holds an excluded term the word did not."""
    return bool(lexicon.guard and lexicon.guard.gained(before, after))


@register("text")
class OcrErrors(TextTransform):
    """OCR noise: in some words, some glyphs become one they look like (0/O, 1/l/I, 5/S, rn/m, cl/d, vv/w, ...)."""

    aug_word_p = Number(0.3, "share of the words with a misreadable glyph that are edited", lo=0.0, hi=1.0)
    aug_word_min = Number(1, "edit at least this many words", integer=True, lo=0)
    aug_word_max = Number(10, "edit at most this many words", integer=True, lo=0)
    aug_char_p = Number(0.3, "share of an edited word's misreadable glyphs that change", lo=0.0, hi=1.0)
    aug_char_min = Number(1, "change at least this many glyphs of an edited word", integer=True, lo=1)
    aug_char_max = Number(10, "change at most this many glyphs of an edited word", integer=True, lo=1)
    min_length = Number(1, "shorter words are left alone", integer=True, lo=1)
    output_version = 2  # 2: a misreading that spells an excluded word in look-alike glyphs (5h1t) is not made (#21)

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.aug_word_min > self.aug_word_max:
            problems.append(("aug_word_min", "must not exceed aug_word_max"))
        if self.aug_char_min > self.aug_char_max:
            problems.append(("aug_char_min", "must not exceed aug_char_max"))
        return problems

    def _glyphs(self, misreadable: int) -> int:
        return aug_count(self.aug_char_p, misreadable, self.aug_char_min, self.aug_char_max)

    def edit(self, tokens, words, rand, lexicon):
        spans = {i: found for i in words if len(tokens[i]) >= self.min_length and (found := ocr_spans(tokens[i]))}
        eligible = list(spans)
        count = aug_count(self.aug_word_p, len(eligible), self.aug_word_min, self.aug_word_max)
        replacements = {}
        for i in sorted(rand.sample(eligible, count)):
            glyphs = spans[i]
            chosen = sorted(rand.sample(glyphs, self._glyphs(len(glyphs))))
            word = tokens[i]
            misread = F.substitute_spans(word, [(a, b, rand.choice(OCR[word[a:b]])) for a, b in chosen])
            if not _gains(lexicon, word, misread):
                replacements[i] = misread
        return F.replace(tokens, replacements)


@functools.lru_cache(maxsize=8)
def _allowed(table: str, guard: safety.WordFilter | None) -> dict[str, tuple[str, ...]]:
    """A shipped table (lexicon.<table>(), or lexicon.<table>_unfiltered() when the section's vocabulary
    is unfiltered and the table has one) without the entries the section's word filter excludes."""
    unfiltered = getattr(shipped, f"{table}_unfiltered", None)
    entries = unfiltered() if unfiltered and not (guard and guard.safe) else getattr(shipped, table)()
    return safety.allowed(entries, guard)[0] if guard else entries


class _CountedWords(TextTransform):
    """Edits `aug_p` of its eligible words, at least `aug_min`, at most `aug_max` (nlpaug's count)."""

    def check(self) -> list[tuple[str, str]]:
        return [("aug_min", "must not exceed aug_max")] if self.aug_min > self.aug_max else []

    def how_many(self, eligible: int) -> int:
        return aug_count(self.aug_p, eligible, self.aug_min, self.aug_max)


@register("text")
class SpellingErrors(_CountedWords):
    """Human misspellings: some words become a real misspelling of theirs (their -> thier), case kept."""

    aug_p = Number(0.3, "share of the words with a known misspelling that are misspelled", lo=0.0, hi=1.0)
    aug_min = Number(1, "misspell at least this many words", integer=True, lo=0)
    aug_max = Number(10, "misspell at most this many words", integer=True, lo=0)
    output_version = 2  # 2: misspellings that hold a vulgar root (acocunt) are withheld (#21)

    def edit(self, tokens, words, rand, lexicon):
        table = _allowed("misspellings", lexicon.guard)
        eligible = [i for i in words if tokens[i].lower() in table]
        count = self.how_many(len(eligible))
        chosen = sorted(rand.sample(eligible, count))
        return F.replace(tokens, {i: F.match_case(tokens[i], rand.choice(table[tokens[i].lower()])) for i in chosen})


def split_points(word: str) -> list[int]:
    """Where a word may be split: between two letters or digits (never beside an apostrophe or hyphen)."""
    return [k for k in range(1, len(word)) if word[k - 1].isalnum() and word[k].isalnum()]


@register("text")
class WordSplit(_CountedWords):
    """Split some words in two at a random inner point (nlpaug's SplitAug): `together` -> `toge ther`."""

    aug_p = Number(0.3, "share of the long enough words that are split", lo=0.0, hi=1.0)
    aug_min = Number(1, "split at least this many words", integer=True, lo=0)
    aug_max = Number(10, "split at most this many words", integer=True, lo=0)
    min_length = Number(4, "shorter words are never split", integer=True, lo=2)
    output_version = 2  # 2: a split that makes a word with a vulgar root is not made (#21)

    def edit(self, tokens, words, rand, lexicon):
        eligible = [i for i in words if len(tokens[i]) >= self.min_length and split_points(tokens[i])]
        count = self.how_many(len(eligible))
        splits = {}
        for i in sorted(rand.sample(eligible, count)):
            word = tokens[i]
            points = [k for k in split_points(word) if not _gains(lexicon, word, f"{word[:k]} {word[k:]}")]
            if points:
                splits[i] = rand.choice(points)
        return F.split(tokens, splits)


@functools.lru_cache(maxsize=8)
def _antonym_lexicon(guard: safety.WordFilter | None, stop_words: frozenset[str]) -> Lexicon:
    """The antonyms a section may use, looked up (and re-inflected) as synonyms are."""
    return Lexicon(_allowed("antonyms", guard), stop_words, guard)


def antonym_candidates(word: str, lexicon: Lexicon) -> tuple[str, ...]:
    """A word's WordNet antonyms, inflected like it and allowed by the section's vocabulary (empty for stop words)."""
    return _antonym_lexicon(lexicon.guard, lexicon.stop_words).replaceable(word)


@register("text")
class Antonym(_CountedWords):
    """Replace some non-stop words with a WordNet antonym, inflected like them (for contrast sets: meaning flips)."""

    aug_p = Number(0.1, "share of the words with an antonym that are replaced", lo=0.0, hi=1.0)
    aug_min = Number(1, "replace at least this many words", integer=True, lo=0)
    aug_max = Number(10, "replace at most this many words", integer=True, lo=0)

    def edit(self, tokens: list[str], words: Sequence[int], rand: random.Random, lexicon: Lexicon) -> list[str]:
        opposites = _antonym_lexicon(lexicon.guard, lexicon.stop_words)
        eligible = [i for i in words if opposites.replaceable(tokens[i])]
        count = self.how_many(len(eligible))
        chosen = sorted(rand.sample(eligible, count))
        return F.replace(
            tokens, {i: F.match_case(tokens[i], rand.choice(opposites.replaceable(tokens[i]))) for i in chosen}
        )
