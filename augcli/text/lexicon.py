"""Synonyms and stop words: the shipped WordNet table, a user's own thesaurus, stop-word lists.

Loaded once per process and cached. Synonym lists are sorted, so a seed picks the same word in
every process whatever PYTHONHASHSEED is.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
from importlib import resources
from pathlib import Path

import yaml

from augcli.text.stopwords import ENGLISH

SHIPPED = "wordnet_synonyms.json.gz"


class LexiconError(ValueError):
    """A thesaurus or stop-word file that cannot be used; the message says why."""


@functools.lru_cache(maxsize=1)
def wordnet() -> dict[str, tuple[str, ...]]:
    """The shipped WordNet 3.0 table: lemma -> sorted single-word synonyms."""
    data = resources.files("augcli.text").joinpath("data", SHIPPED).read_bytes()
    return {word: tuple(synonyms) for word, synonyms in json.loads(gzip.decompress(data)).items()}


def _user_entries(path: Path) -> dict[str, list[str]]:
    """word -> synonyms from a CSV (word,synonym,synonym,...) or YAML ({word: [synonym, ...]}) file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"cannot read thesaurus {path}: {exc}") from None
    entries: dict[str, list[str]] = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise LexiconError(f"thesaurus {path} is not valid YAML: {exc}") from None
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


@functools.lru_cache(maxsize=8)
def thesaurus(path: str | None = None, mode: str = "add") -> dict[str, tuple[str, ...]]:
    """The synonym table a section uses: WordNet, WordNet plus a user file, or the user file alone.

    User entries are symmetric within a row: `car,auto,motorcar` makes each a synonym of the others.
    """
    if path is None:
        return wordnet()
    merged: dict[str, set[str]] = {} if mode == "replace" else {w: set(s) for w, s in wordnet().items()}
    for word, synonyms in _user_entries(Path(path)).items():
        group = [word, *synonyms]
        for member in group:
            merged.setdefault(member.lower(), set()).update(s for s in group if s.lower() != member.lower())
    return {word: tuple(sorted(synonyms)) for word, synonyms in merged.items() if synonyms}


@functools.lru_cache(maxsize=8)
def stop_words(spec: str = "english") -> frozenset[str]:
    """`english` (built in), `none`, or a file with one stop word per line (# starts a comment)."""
    if spec == "english":
        return ENGLISH
    if spec == "none":
        return frozenset()
    try:
        lines = Path(spec).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"cannot read stop words {spec}: {exc}") from None
    return frozenset(line.split("#", 1)[0].strip().lower() for line in lines if line.split("#", 1)[0].strip())
