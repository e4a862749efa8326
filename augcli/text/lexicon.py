"""Synonyms and stop words: the shipped WordNet table, a user's own thesaurus, stop-word lists.

Loaded once per process and cached. Synonym lists are sorted, so a seed picks the same word in
every process whatever PYTHONHASHSEED is. The shipped table holds the safe synonyms only; the ones
the safe vocabulary withholds (safety.py) ship apart and come back with `vocabulary: unfiltered`.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
from importlib import resources
from pathlib import Path

from augcli.core.files import read_input
from augcli.core.yamlsource import YamlSourceError, load_bounded
from augcli.text import safety
from augcli.text.stopwords import ENGLISH

SHIPPED = "wordnet_synonyms.json.gz"
WITHHELD = "wordnet_withheld.json.gz"  # the WordNet synonyms the safe vocabulary withholds
ANTONYMS = "wordnet_antonyms.json.gz"  # WordNet's direct antonyms that the safe vocabulary allows
ANTONYMS_WITHHELD = "wordnet_antonyms_withheld.json.gz"  # and those it withholds
MISSPELLINGS = "codespell_misspellings.tsv.gz"  # real misspellings, from codespell's dictionary


class LexiconError(ValueError):
    """A thesaurus or stop-word file that cannot be used; the message says why."""


def _shipped(name: str) -> dict[str, tuple[str, ...]]:
    data = resources.files("augcli.text").joinpath("data", name).read_bytes()
    return {word: tuple(synonyms) for word, synonyms in json.loads(gzip.decompress(data)).items()}


@functools.lru_cache(maxsize=1)
def wordnet() -> dict[str, tuple[str, ...]]:
    """The shipped WordNet 3.0 table, safe synonyms only: lemma -> sorted single-word synonyms."""
    return _shipped(SHIPPED)


@functools.lru_cache(maxsize=1)
def wordnet_unfiltered() -> dict[str, tuple[str, ...]]:
    """Every WordNet 3.0 synonym, the withheld ones too: the table augcli shipped before the filter."""
    return _merged(SHIPPED, WITHHELD)


@functools.lru_cache(maxsize=1)
def wordnet_withheld() -> dict[str, str]:
    """The WordNet synonyms the shipped table withholds, each with the reason it is withheld for."""
    return safety.allowed(_shipped(WITHHELD), safety.word_filter())[1]


def _merged(*names: str) -> dict[str, tuple[str, ...]]:
    merged: dict[str, set[str]] = {}
    for name in names:
        for word, entries in _shipped(name).items():
            merged.setdefault(word, set()).update(entries)
    return {word: tuple(sorted(entries)) for word, entries in sorted(merged.items())}


@functools.lru_cache(maxsize=1)
def antonyms() -> dict[str, tuple[str, ...]]:
    """WordNet 3.0's direct antonyms that the safe vocabulary allows: lemma -> sorted single-word
    antonyms (good -> bad, evil); a section's own exclude_words are filtered when it loads them."""
    return _shipped(ANTONYMS)


@functools.lru_cache(maxsize=1)
def antonyms_unfiltered() -> dict[str, tuple[str, ...]]:
    """Every direct antonym of WordNet 3.0, the withheld ones too (precocious -> retarded)."""
    return _merged(ANTONYMS, ANTONYMS_WITHHELD)


@functools.lru_cache(maxsize=1)
def antonyms_withheld() -> dict[str, str]:
    """The antonyms the shipped table withholds, each with the reason it is withheld for."""
    return safety.allowed(_shipped(ANTONYMS_WITHHELD), safety.word_filter())[1]


@functools.lru_cache(maxsize=8)
def antonym_table(
    vocabulary: str = "safe", exclude_words: str | None = None
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(the antonyms a section may use, the antonyms withheld from them -> the reason each was withheld)."""
    safe = vocabulary == "safe"
    table = antonyms() if safe else antonyms_unfiltered()
    withheld = dict(antonyms_withheld()) if safe else {}
    if exclude_words is not None:
        table, more = safety.allowed(table, safety.word_filter(vocabulary, exclude_words))
        withheld.update(more)
    return table, withheld


@functools.lru_cache(maxsize=8)
def misspellings_withheld(vocabulary: str = "safe", exclude_words: str | None = None) -> dict[str, str]:
    """The misspellings a section's exclude_words withhold -> the reason (the shipped table holds
    none the shipped lists exclude: scripts/build_misspellings.py leaves them out)."""
    if exclude_words is None:
        return {}
    return safety.allowed(misspellings(), safety.word_filter(vocabulary, exclude_words))[1]


@functools.lru_cache(maxsize=1)
def misspellings() -> dict[str, tuple[str, ...]]:
    """Real misspellings of common English words: word -> sorted misspellings (their -> thier, ...),
    reversed from codespell's dictionary by scripts/build_misspellings.py."""
    data = resources.files("augcli.text").joinpath("data", MISSPELLINGS).read_bytes()
    table = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        word, tab, wrong = line.partition("\t")
        if tab and not word.startswith("#"):
            table[word] = tuple(wrong.split(" "))
    return table


def _read_text(path: Path, what: str) -> str:
    """A user's file as text, read only if it is a regular file of sane size (never a FIFO)."""
    try:
        return read_input(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"cannot read {what} {path}: {exc}") from None


def _user_entries(path: Path) -> dict[str, list[str]]:
    """word -> synonyms from a CSV (word,synonym,synonym,...) or YAML ({word: [synonym, ...]}) file."""
    text = _read_text(path, "thesaurus")
    entries: dict[str, list[str]] = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = load_bounded(text, f"thesaurus {path}") or {}
        except YamlSourceError as exc:
            raise LexiconError(f"thesaurus {path} is not usable YAML: {exc}") from None
        if not isinstance(data, dict):
            raise LexiconError(f"thesaurus {path}: expected a mapping of word: [synonyms]")
        for word, synonyms in data.items():
            synonyms = [synonyms] if isinstance(synonyms, str) else synonyms
            if not isinstance(synonyms, list) or not all(isinstance(s, (str, int, float)) for s in synonyms):
                raise LexiconError(f"thesaurus {path}: the synonyms of {word!r} are not a list of words")
            entries.setdefault(str(word).lower(), []).extend(str(s) for s in synonyms)
    elif path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if len(cells) == 1:
                raise LexiconError(f"thesaurus {path}, line {number}: {cells[0]!r} has no synonyms")
            if cells:
                entries.setdefault(cells[0].lower(), []).extend(cells[1:])
    else:
        raise LexiconError(f"thesaurus {path}: use a .csv (word,synonym,...) or .yaml ({{word: [synonyms]}}) file")
    return entries


def thesaurus(
    path: str | None = None, mode: str = "add", vocabulary: str = "safe", exclude_words: str | None = None
) -> dict[str, tuple[str, ...]]:
    """The synonym table a section uses: WordNet, WordNet plus a user file, or the user file alone,
    without the synonyms its vocabulary withholds.

    User entries are symmetric within a row: `car,auto,motorcar` makes each a synonym of the others.
    """
    return vocabulary_table(path, mode, vocabulary, exclude_words)[0]


@functools.lru_cache(maxsize=8)
def vocabulary_table(
    path: str | None = None, mode: str = "add", vocabulary: str = "safe", exclude_words: str | None = None
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(the section's synonym table, the words withheld from it -> the reason each was withheld).

    The shipped table is filtered when it is built; a user's thesaurus and exclude_words are
    filtered here, so a user's file cannot bring an excluded word back."""
    safe = vocabulary == "safe"
    base = wordnet() if safe else wordnet_unfiltered()
    withheld = dict(wordnet_withheld()) if safe and not (path and mode == "replace") else {}
    if path is None:
        table = base
    else:
        merged: dict[str, set[str]] = {} if mode == "replace" else {w: set(s) for w, s in base.items()}
        for word, synonyms in _user_entries(Path(path)).items():
            group = [word, *synonyms]
            for member in group:
                merged.setdefault(member.lower(), set()).update(s for s in group if s.lower() != member.lower())
        table = {word: tuple(sorted(synonyms)) for word, synonyms in merged.items() if synonyms}
    if path is not None or exclude_words is not None:
        table, more = safety.allowed(table, safety.word_filter(vocabulary, exclude_words))
        withheld.update(more)
    return table, withheld


@functools.lru_cache(maxsize=8)
def stop_words(spec: str = "english") -> frozenset[str]:
    """`english` (built in), `none`, or a file with one stop word per line (# starts a comment)."""
    if spec == "english":
        return ENGLISH
    if spec == "none":
        return frozenset()
    lines = _read_text(Path(spec), "stop words").splitlines()
    return frozenset(line.split("#", 1)[0].strip().lower() for line in lines if line.split("#", 1)[0].strip())
