"""A safe vocabulary: the words a text transform may not bring into a sample that did not have them.

By default (`vocabulary: safe`) these are excluded, with their inflected forms (shipped in
augcli/text/data/, sources and licences in NOTICE there):

- wordnet_unsafe.tsv: every WordNet 3.0 lemma that one of its senses marks as disparagement, ethnic
  slur or obscenity (vulgarism) through a usage-domain relation, or whose definition labels it so
  ("(ethnic slur)", "obscene terms for", "offensive term for", ...); scripts/build_thesaurus.py
  writes it. Slang and colloquialism are not excluded: they mark hundreds of everyday words.
- ldnoobw_en.txt: the English List of Dirty, Naughty, Obscene, and Otherwise Bad Words
  (Shutterstock, CC BY 4.0), as the npm package naughty-words 1.2.0 ships it.
- augcli_unsafe.txt: the few words neither source has that were found in copies (issue #21).

A section's `exclude_words:` file adds to these; `vocabulary: unfiltered` drops them (the user's
own words still count). Words are matched case-insensitively as runs of letters and digits: a
phrase matches a run of words, a hyphenated or possessive word also by its parts.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from augcli.core.files import read_input

SAFE_TRIES = 3  # a sample whose copy gained an excluded word is drawn again this often, then left as it was
EXCLUDE_LIMIT = 16 << 20  # an exclude_words file larger than this is refused
WORDNET_FILE, PROFANITY_FILE, AUGCLI_FILE = "wordnet_unsafe.tsv", "ldnoobw_en.txt", "augcli_unsafe.txt"
# every reason a word is withheld for, in the order a word is counted under (its first)
REASONS = (
    "WordNet ethnic slur",
    "WordNet disparagement",
    "WordNet obscenity",
    "WordNet definition",
    "LDNOOBW list",
    "augcli list",
    "exclude_words",
)
_VOWELS = set("aeiou")
_RUN = re.compile(r"[^\W_]+")


class ExcludeWordsError(ValueError):
    """An exclude_words file that cannot be used; the message says why."""


def inflections(word: str) -> set[str]:
    """The word and its regular English inflections: -s/-es, -ed, -ing, with the usual spelling
    rules (piss: pisses, pissed, pissing; rape: rapes, raped, raping; bully: bullies, bullied).

    Agent nouns (-er) and doubled consonants are left out on purpose: they turn short excluded words
    into common innocent ones (pee: peer, sob: sober, sobbing, butt: butter, nip: nipping); list
    such a form yourself in exclude_words when you want it out."""
    forms = {word}
    if not word.isalpha() or len(word) < 2:
        return forms
    if word[-1] == "e":
        return forms | {word + "s", word + "d", word[:-1] + "ing"}
    if word[-1] == "y" and word[-2] not in _VOWELS:
        return forms | {word[:-1] + "ies", word[:-1] + "ied", word + "ing"}
    plural = word + "es" if word.endswith(("s", "x", "z", "ch", "sh")) else word + "s"
    return forms | {plural, word + "ed", word + "ing"}


def words_of(text: str) -> list[str]:
    """The lower-cased words of a text for matching: runs of letters and digits, so a hyphenated or
    possessive word is matched by its parts too (bitch's, ass-kisser) and a phrase by its words."""
    return _RUN.findall(text.lower())


class WordFilter:
    """Excluded terms (a word or a phrase, each with the reasons it is excluded for) and a matcher
    for them and their inflected forms."""

    def __init__(self, terms: dict[str, tuple[str, ...]]) -> None:
        self.terms = terms
        self.single: dict[str, str] = {}  # a word form -> the term it is a form of
        self.phrases: dict[str, list[tuple[str, list[set[str]]]]] = {}  # first word form -> (term, forms)
        for term in sorted(terms):
            words = words_of(term)
            if len(words) == 1:
                for form in inflections(words[0]):
                    self.single.setdefault(form, term)
            elif words:
                forms = [inflections(w) for w in words]
                for first in forms[0]:
                    self.phrases.setdefault(first, []).append((term, forms))
        self.starts = frozenset(self.single) | frozenset(self.phrases)  # a word no match can start without

    def __bool__(self) -> bool:
        return bool(self.terms)

    def found(self, words: Sequence[str]) -> set[str]:
        """The excluded terms in a sequence of lower-cased words (as words_of gives them)."""
        present = self.starts.intersection(words)
        if not present:
            return set()
        hits = set()
        for i, word in enumerate(words):
            if word not in present:
                continue
            term = self.single.get(word)
            if term is not None:
                hits.add(term)
            for term, forms in self.phrases.get(word, ()):
                end = i + len(forms)
                if end <= len(words) and words[i + 1] in forms[1] and all(map(set.__contains__, forms, words[i:end])):
                    hits.add(term)
        return hits

    def in_text(self, text: str) -> set[str]:
        return self.found(words_of(text)) if self.terms else set()

    def gained(self, before: str, after: str) -> set[str]:
        """The excluded terms `after` has that `before` had not (a word already there may stay)."""
        if not self.terms or before == after:
            return set()
        new = self.in_text(after)
        return new - self.in_text(before) if new else set()

    def reason(self, term: str) -> str:
        return self.terms[term][0]


def _data(name: str) -> str:
    return resources.files("augcli.text").joinpath("data", name).read_text(encoding="utf-8")


def _lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            yield line


@functools.lru_cache(maxsize=1)
def default_terms() -> dict[str, tuple[str, ...]]:
    """The shipped excluded terms and their reasons (in REASONS order)."""
    terms: dict[str, list[str]] = {}
    for line in _lines(_data(WORDNET_FILE)):
        term, _, reasons = line.partition("\t")
        terms.setdefault(" ".join(words_of(term)), []).extend(f"WordNet {r}" for r in reasons.split(","))
    for name, reason in ((PROFANITY_FILE, "LDNOOBW list"), (AUGCLI_FILE, "augcli list")):
        for line in _lines(_data(name)):
            if words_of(line):
                terms.setdefault(" ".join(words_of(line)), []).append(reason)
    return {term: tuple(sorted(set(r), key=REASONS.index)) for term, r in terms.items()}


def read_exclude_words(path: str) -> list[str]:
    """The terms of an exclude_words file: one word or phrase per line, # starts a comment. A FIFO,
    a device or a file over EXCLUDE_LIMIT is refused."""
    try:
        raw = read_input(Path(path), EXCLUDE_LIMIT)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExcludeWordsError(f"cannot read exclude_words {path}: {exc}") from None
    terms = [" ".join(words_of(line)) for line in _lines(text)]
    return [term for term in terms if term]


@functools.lru_cache(maxsize=8)
def word_filter(vocabulary: str = "safe", exclude_words: str | None = None) -> WordFilter:
    """What a section's copies may not gain: the shipped terms (unless unfiltered) and the user's."""
    terms = {term: reasons for term, reasons in default_terms().items()} if vocabulary == "safe" else {}
    for term in read_exclude_words(exclude_words) if exclude_words else ():
        terms[term] = (*terms.get(term, ()), "exclude_words")
    return WordFilter(terms)


def allowed(synonyms: dict[str, tuple[str, ...]], words: WordFilter) -> tuple[dict, dict[str, str]]:
    """A synonym table without the synonyms that hold an excluded term, and the withheld words with
    the reason each was withheld for."""
    withheld: dict[str, str] = {}
    kept = {}
    for word, candidates in synonyms.items():
        keep = []
        for candidate in candidates:
            if candidate in withheld:
                continue
            hits = words.found(words_of(candidate))
            if hits:
                withheld[candidate] = min((words.reason(t) for t in hits), key=REASONS.index)
            else:
                keep.append(candidate)
        if keep:
            kept[word] = tuple(keep)
    return kept, withheld


def summary_line(vocabulary: str, withheld: dict[str, str], records: Iterable[dict[str, Any]] = ()) -> str:
    """How many words were withheld and why, and how many samples were drawn again for gaining an
    excluded word (from the manifest's `vocabulary` records): one line for the preview and the report."""
    counts = Counter(withheld.values())
    why = ", ".join(f"{reason} {counts[reason]:,}" for reason in REASONS if counts[reason])
    if vocabulary == "unfiltered":
        line = "unfiltered (vocabulary: unfiltered): the shipped word lists are off"
        line += f"; {len(withheld):,} words withheld ({why})" if withheld else "; no word withheld"
    else:
        line = f"safe: {len(withheld):,} words withheld from the synonyms ({why})"
    redrawn = restored = 0
    for record in records:
        if record.get("name") == "vocabulary":
            redrawn += int(record.get("samples", 0))
            restored += int(record.get("params", {}).get("restored", 0))
    if redrawn:
        line += (
            f"; {redrawn:,} samples gained an excluded word and were drawn again (up to {SAFE_TRIES} tries),"
            f" {restored:,} left as their original"
        )
    return line
