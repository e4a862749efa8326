"""lemminflect's lookup tables, parsed a word at a time.

lemminflect reads its whole lemma and inflection tables the first time either is asked (0.22 s,
on every run that re-inflects a synonym); a copy asks for a few thousand words of their 100,000.
`install` hands lemminflect tables that hold each word's lines as text and parse them with
lemminflect's own line codecs when the word is first asked for, merged as its loader merges them,
with its auxiliary and modal verbs set as it sets them: the same entries (a test compares every
word of both tables), for 0.07 s. Where lemminflect's internals are not the ones this was
written against, nothing is installed and lemminflect loads its tables itself.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_INSTALLED = threading.Lock()


class LazyTable(dict):
    """A dict of word -> entry whose entries are parsed from their lines when first read. Reads
    (get, [], in) parse one word; anything that needs the whole table (iteration, len, ==,
    copies, removals) parses every word first, in the file's order, and from then on it is a
    plain dict: what the eager table would be after the same operations."""

    def __init__(self, lines: dict[str, str], parse: Callable[[str], Any]) -> None:
        super().__init__()
        self._lines = lines  # word -> its lines joined by newlines (kept: two threads may parse one)
        self._parse = parse
        self._whole = False

    def get(self, word: Any, default: Any = None) -> Any:
        if dict.__contains__(self, word):
            return dict.__getitem__(self, word)
        lines = None if self._whole else self._lines.get(word)
        if lines is None:
            return default
        entry = self._parse(lines)
        dict.__setitem__(self, word, entry)
        return entry

    def __getitem__(self, word: Any) -> Any:
        entry = self.get(word, _ABSENT)
        if entry is _ABSENT:
            raise KeyError(word)
        return entry

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or (not self._whole and word in self._lines)

    def whole(self) -> LazyTable:
        """Parse every word not read yet, keeping the eager table's order: the file's, then the
        words set that it does not hold, in the order they were set."""
        if not self._whole:
            ordered = {
                word: dict.__getitem__(self, word) if dict.__contains__(self, word) else self._parse(lines)
                for word, lines in self._lines.items()
            }
            ordered.update((word, entry) for word, entry in dict.items(self) if word not in ordered)
            dict.clear(self)
            dict.update(self, ordered)
            self._whole, self._lines = True, {}
        return self

    @classmethod
    def fromkeys(cls, keys: Any, value: Any = None) -> dict:  # type: ignore[override]
        return dict.fromkeys(keys, value)


def _reading_whole(name: str) -> Callable[..., Any]:
    method = getattr(dict, name)

    def whole_first(self: LazyTable, *args: Any, **kwargs: Any) -> Any:
        return method(self.whole(), *args, **kwargs)

    whole_first.__name__ = name
    return whole_first


for _name in (
    "__iter__", "__len__", "__reversed__", "__eq__", "__ne__", "__repr__", "__or__", "__ior__", "__delitem__",
    "__reduce_ex__", "keys", "values", "items", "copy", "pop", "popitem", "setdefault", "clear",
):  # fmt: skip
    setattr(LazyTable, _name, _reading_whole(_name))


_ABSENT = object()


def lines_by_word(path: str) -> dict[str, str]:
    """A gzipped lemminflect table's lines grouped by their first field (the word), in file order."""
    grouped: dict[str, str] = {}
    for line in gzip.decompress(Path(path).read_bytes()).decode().splitlines():
        word = line[: line.find(",")]
        grouped[word] = grouped[word] + "\n" + line if word in grouped else line
    return grouped


def _inflection_entry(lines: str) -> dict[str, tuple[str, ...]]:
    from lemminflect.codecs.InflectionLUCodec import InflectionLUCodec

    entry: dict[str, tuple[str, ...]] = {}
    for line in lines.split("\n"):
        entry.update(InflectionLUCodec.fromString(line)[2])  # as InflectionLUCodec.load merges a word's lines
    return entry


def _lemma_entry(lines: str) -> dict[str, tuple[str, ...]]:
    from lemminflect.codecs.LemmaLUCodec import LemmaLUCodec
    from lemminflect.core.LexicalUtils import categoryToUPos

    entry: dict[str, tuple[str, ...]] = {}
    for line in lines.split("\n"):
        _, category, forms = LemmaLUCodec.fromString(line)
        entry.update({categoryToUPos(category): forms})  # as LemmaLUCodec.load merges a word's lines
    return entry


def install() -> bool:
    """Give lemminflect's lemmatiser and inflector lazily parsed tables, unless they hold tables
    already; False where its internals differ from those this was written against."""
    try:
        from lemminflect.codecs.InflectionLUCodec import InflectionLUCodec
        from lemminflect.codecs.LemmaLUCodec import LemmaLUCodec
        from lemminflect.core.Inflections import Inflections
        from lemminflect.core.Lemmatizer import Lemmatizer
        from lemminflect.core.LexicalUtils import categoryToUPos

        inflector, lemmatiser = Inflections(), Lemmatizer()
        paths = (inflector.infl_lu_fn, lemmatiser.lemma_lu_fn)
        add_aux_and_modals = InflectionLUCodec.updateForAuxMod
        del LemmaLUCodec, categoryToUPos  # (the entry parsers import them again)
    except (ImportError, AttributeError):
        return False
    with _INSTALLED:
        if not hasattr(inflector, "infl_dict"):
            inflector.infl_dict = add_aux_and_modals(LazyTable(lines_by_word(paths[0]), _inflection_entry))
        if not hasattr(lemmatiser, "lemma_dict"):
            lemmatiser.lemma_dict = LazyTable(lines_by_word(paths[1]), _lemma_entry)
    return True
