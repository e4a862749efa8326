"""Inflection-aware synonyms: lemmatise a word, look its lemma up, re-inflect each synonym to the word's form.

'running' is the -ing form (VBG) of the verb 'run', so it gets the -ing forms of run's verb synonyms
('racing', 'operating'), never their base forms; 'cities' is the plural (NNS) of 'city' and gets
plural nouns ('metropolises'). A synonym is re-inflected only if lemminflect's dictionary knows it
as the same part of speech, so a verb form gets verbs and a plural gets nouns. lemminflect (MIT)
ships its tables in its wheel and reads them from the installed package: nothing is downloaded.
"""

from __future__ import annotations

import functools

# Penn tags of inflected forms (a base form's own table entry already holds its synonyms).
INFLECTED_TAGS = frozenset({"VBD", "VBG", "VBN", "VBZ", "NNS", "JJR", "JJS", "RBR", "RBS"})


@functools.lru_cache(maxsize=1 << 16)
def readings(word: str) -> tuple[tuple[str, str, str], ...]:
    """The inflected readings of a lower-case word: sorted (part of speech, Penn tag, lemma), lemma != word."""
    from lemminflect import getAllInflections, getAllLemmas

    _tables_ready()
    found = set()
    for upos, lemmas in getAllLemmas(word).items():
        for lemma in lemmas:
            if lemma == word:
                continue
            for tag, forms in getAllInflections(lemma, upos).items():
                if tag in INFLECTED_TAGS and word in forms:
                    found.add((upos, tag, lemma))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=1 << 16)
def form(word: str, upos: str, tag: str) -> str | None:
    """`word` inflected to `tag` as a `upos` (the dictionary's first spelling); None if the dictionary
    does not know it as that part of speech (no rules-based guessing: no 'goed', no verbs from nouns)."""
    from lemminflect import getAllInflections

    _tables_ready()
    forms = getAllInflections(word, upos).get(tag)
    return forms[0] if forms else None


def load_tables() -> None:
    """Ready lemminflect's lemma and inflection tables now, once for every worker the pool's fork
    server forks: indexed by word and parsed a word at a time (lemma_tables.py; 0.07 s), or, where
    that cannot be installed, read whole by lemminflect (0.22 s)."""
    if not _tables_ready():
        from lemminflect import getAllInflections, getAllLemmas

        getAllLemmas("tables")
        getAllInflections("table", "NOUN")


@functools.cache
def _tables_ready() -> bool:
    from augcli.text import lemma_tables

    return lemma_tables.install()


def tags_of(word: str) -> set[tuple[str, str]]:
    """(part of speech, tag) of each inflected reading of a lower-case word."""
    return {(upos, tag) for upos, tag, _ in readings(word)}


def candidates(word: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The synonyms of a lower-case word, inflected like it; sorted, so a seed picks the same one anywhere.

    A base form (or a word lemminflect does not know) gets its table entry as it is. An inflected
    form gets its lemmas' synonyms re-inflected to its tag, plus those of its own table entries that
    are forms of the same tag ('running' keeps 'working', not the noun 'track')."""
    own = table.get(word, ())
    if not word.isalpha():
        return own
    wanted = readings(word)
    if not wanted:
        return own
    tags = {(upos, tag) for upos, tag, _ in wanted}
    found = {synonym for synonym in own if tags_of(synonym.lower()) & tags}
    for upos, tag, lemma in wanted:
        for synonym in table.get(lemma, ()):
            if not synonym.isalpha():
                continue
            inflected = form(synonym, upos, tag)
            if inflected and inflected != word:
                found.add(inflected)
    return tuple(sorted(found))
