"""A safe vocabulary: the words a text transform may not bring into a sample that did not have them.

By default (`vocabulary: safe`) these are excluded, with their inflected forms (shipped in
augcli/text/data/, sources and licences in NOTICE there):

- wordnet_unsafe.tsv: every WordNet 3.0 lemma that one of its senses marks as disparagement, ethnic
  slur or obscenity (vulgarism) through a usage-domain relation, or whose definition labels it so
  ("(ethnic slur)", "obscene terms for", "offensive term for", ...); scripts/build_thesaurus.py
  writes it. Slang and colloquialism are not excluded: they mark hundreds of everyday words.
- ldnoobw_en.txt: the English List of Dirty, Naughty, Obscene, and Otherwise Bad Words
  (Shutterstock, CC BY 4.0), as the npm package naughty-words 1.2.0 ships it.
- augcli_unsafe.txt: the words neither source has that were found in copies (issue #21).
- any word that holds one of ROOTS (fuckhead, shitter, crappy, whorehouse), except the everyday
  words in INNOCENT that happen to hold one (scrappy, snigger, inspissate, swanky).

A section's `exclude_words:` file adds to these; `vocabulary: unfiltered` drops them (the user's
own words still count). Words are matched as runs of letters and digits, read through Unicode
(NFKC, case folded, accents stripped, and a word of Cyrillic, Greek or Armenian look-alike letters
read as the Latin word it shows: ＦＵＣＫ, Fück, fսck): a phrase matches a run of words, a
hyphenated or possessive word also by its parts. An entry with no letters at all (an emoji) is
matched as it is. A copy's new words are also read with their disguises undone (5h1t, fvck,
c0ck: digits and symbols that look like letters, rn/m, vv/w, u/v), so stacked noise cannot spell
an excluded word in look-alike glyphs.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from augcli.core.files import read_input

SAFE_TRIES = 3  # a sample whose copy gained an excluded word is drawn again this often, then left as it was
EXCLUDE_LIMIT = 16 << 20  # an exclude_words file larger than this is refused
WORDNET_FILE, PROFANITY_FILE, AUGCLI_FILE = "wordnet_unsafe.tsv", "ldnoobw_en.txt", "augcli_unsafe.txt"
FORMS_FILE = "unsafe_inflections.tsv"  # lemminflect's irregular forms of the shipped words, so a run need not load it
# every reason a word is withheld for, in the order a word is counted under (its first)
REASONS = (
    "WordNet ethnic slur",
    "WordNet disparagement",
    "WordNet obscenity",
    "WordNet definition",
    "LDNOOBW list",
    "augcli list",
    "augcli root",
    "exclude_words",
)
ROOT_REASON = "augcli root"
# Vulgar roots: a word that holds one is excluded, whatever its prefix or ending (fuckup, shithead,
# diddlyshit, crappy, crapper, pisser, wanker, whoremonger, faggy), unless INNOCENT lists it. Each is
# vulgar wherever it appears in an English word but in those few; short or ambiguous roots (ass,
# cock, dick, tit, cum, fag, homo) are not here: they hold hundreds of everyday words.
ROOTS = (
    "fuck",
    "shit",
    "cunt",
    "piss",
    "wank",
    "whore",
    "crapp",
    "nigg",
    "fagg",
    "bitch",
    "slut",
    "jizz",
    "cocksuck",
    "asshole",
    "arsehole",
)
# The everyday words that hold a root: every one of WordNet 3.0's 87,000 lemma words (and their
# inflections and derived forms), and the town that named the problem.
INNOCENT = re.compile(
    r"cushitic|shittahs?|shittim(?:s|wood|woods)?"
    r"|inspissat(?:e|es|ed|ing|ion|ions|or|ors)|pissabas?|pissis"
    r"|swank(?:s|ed|ing|er|est|y|ier|iest|ily|iness)?|wankels?"
    r"|crappies?|scrapp(?:ed|ing|ings|er|ers|y|ier|iest|ily|iness|le|les)"
    r"|niggard(?:s|ly|liness|ness)?|niggl(?:e|es|ed|er|ers|ing|ingly|y)|snigger(?:s|ed|ing|er|ers)?"
    r"|scunthorpe"
)
_ROOT = re.compile("|".join(ROOTS))
# Inflected forms of excluded words that are everyday words of their own (nip: nipping, sob: sobbing,
# slit: slitting, scat: scatting; lesbo: Lesbos, the island): an excluded word does not exclude them
# (list one in exclude_words to exclude it).
INNOCENT_FORMS = frozenset({"nipped", "nipping", "sobbed", "sobbing", "slitting", "scatted", "scatting", "lesbos"})
_VOWELS = set("aeiou")
_RUN = re.compile(r"[^\W_]+")
# Cyrillic, Greek and Armenian letters that look like Latin ones (after case folding): a word made of
# Latin letters and these only is read as the Latin word it shows (fսck, раypal).
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авеіјкмнорстухѕһԁԛԝӏ", "abeijkmhopctyxshdqwl", strict=True)),
        **dict(zip("αβεικνορτυχ", "abeikvoptux", strict=True)),
        **dict(zip("սօոհցզ", "uonhgq", strict=True)),
    }
)
# Glyphs a disguised or misread word shows for a letter: digits and symbols (5h1t, @ss), OCR's
# confusions (rn/m, vv/w) and u/v. A letter may stand for itself.
_DISGUISES = {"0": "o", "1": "il", "2": "z", "3": "e", "4": "a", "5": "s", "6": "bg", "7": "t", "8": "b", "9": "g"}
_DISGUISES |= {"@": "a", "$": "s", "u": "uv", "v": "vu"}
_DISGUISED_PAIRS = {"rn": ("rn", "m"), "vv": ("vv", "w")}
_DISGUISED = re.compile(r"[0-9@$uv]|rn")
_LETTER = re.compile(r"[^\W\d_]")
_TOKEN = re.compile(r"[\w@$]+")  # a word with its symbols, as a disguise is read (underscores made spaces)
_SPELLED = re.compile(r"(?<![^ ])[^ ](?: [^ ]){2,}(?![^ ])")  # three or more one-letter words in a row
# Each glyph's class: a glyph and every letter it may be read as fall in one (1/i/l, u/v, 6/8/9/b/g, ...).
# A token whose classes no excluded form or root has (folded the same way) has no reading worth trying.
_CLASSES = str.maketrans(dict(zip("1l0234567v89g@$", "iiozeasbtubbbas", strict=True)))
_ASCII_CLASSES = bytes.maketrans(b"1l0234567v89g@$", b"iiozeasbtubbbas")  # the same, ten times faster
READINGS = 64  # at most this many readings of one disguised word are tried
# English words that one of their readings would turn into an excluded word (torn: tom, Cushitic:
# cvshitic); found by reading every WordNet 3.0 word and inflection: they are read as they are.
PLAIN_WORDS = frozenset({"torn", "cushitic"})


class ExcludeWordsError(ValueError):
    """An exclude_words file that cannot be used; the message says why."""


def regular_inflections(word: str) -> set[str]:
    """The word and its regular English inflections: -s/-es, -ed, -ing, with the usual spelling
    rules (piss: pisses, pissed, pissing; rape: rapes, raped, raping; bully: bullies, bullied)."""
    forms = {word}
    if not word.isalpha() or len(word) < 2:
        return forms
    if word[-1] == "e":
        return forms | {word + "s", word + "d", word[:-1] + "ing"}
    if word[-1] == "y" and word[-2] not in _VOWELS:
        return forms | {word[:-1] + "ies", word[:-1] + "ied", word + "ing"}
    plural = word + "es" if word.endswith(("s", "x", "z", "ch", "sh")) else word + "s"
    return forms | {plural, word + "ed", word + "ing"}


def dictionary_inflections(word: str) -> frozenset[str]:
    """The forms lemminflect's dictionary gives a word, any part of speech, beyond the regular ones:
    doubled consonants and irregular forms (rob: robbing, robbed; steal: stole, stolen; shit: shat,
    shitted, shitting). Empty for a word it does not know."""
    from lemminflect import getAllInflections

    from augcli.text.inflect import load_tables

    load_tables()  # (indexed, not read whole: a user's exclude_words asks for a few words)
    found = {form.lower() for forms in getAllInflections(word).values() for form in forms}
    return frozenset(found - regular_inflections(word))


@functools.lru_cache(maxsize=1)
def _shipped_inflections() -> dict[str, frozenset[str]]:
    """dictionary_inflections of every word of the shipped terms, as scripts/build_thesaurus.py wrote them."""
    forms: dict[str, frozenset[str]] = {}
    try:
        text = _data(FORMS_FILE)
    except FileNotFoundError:  # not built yet: lemminflect is asked
        return forms
    for line in _lines(text):
        word, _, rest = line.partition("\t")
        forms[word.strip()] = frozenset(rest.split())
    return forms


@functools.lru_cache(maxsize=1 << 12)
def _irregular(word: str) -> frozenset[str]:
    if not word.isalpha():
        return frozenset()
    shipped = _shipped_inflections().get(word)
    return shipped if shipped is not None else dictionary_inflections(word)


def inflections(word: str) -> set[str]:
    """The word and its inflected forms: the regular ones (regular_inflections) and those lemminflect's
    dictionary gives (dictionary_inflections: robbing, stole, shat, fagging), without INNOCENT_FORMS.

    Agent nouns (-er) and guessed forms are left out on purpose: they turn short excluded words into
    common innocent ones (pee: peer, sob: sober, butt: butter); list such a form yourself in
    exclude_words when you want it out. (The shipped lists' vulgar -er words are caught by ROOTS.)"""
    forms = regular_inflections(word) | _irregular(word)
    return forms - (INNOCENT_FORMS - {word})


def normalise(text: str) -> str:
    """Text as it is matched: NFKC-compatible forms, case folded, combining accents stripped (ＦＵＣＫ, Fück: fuck)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _latin(word: str) -> str:
    """A word of Latin letters and look-alikes only, read as the Latin word it shows; other words as they are."""
    if word.isascii():
        return word
    read = word.translate(_LOOKALIKES)
    return read if read.isascii() else word


def words_of(text: str) -> list[str]:
    """The words of a text for matching: runs of letters and digits, normalised (normalise, _latin),
    so a hyphenated or possessive word is matched by its parts too (bitch's, ass-kisser) and a phrase
    by its words."""
    if text.isascii():
        return _RUN.findall(text.lower())
    return [_latin(word) for word in _RUN.findall(normalise(text))]


def _tokens(text: str) -> list[str]:
    """The words of a text with the symbols a disguise uses (sh1t, @ss, $hit), normalised as words_of does."""
    if text.isascii():
        return _TOKEN.findall(text.lower().replace("_", " "))
    return [_latin(word) for word in _TOKEN.findall(normalise(text).replace("_", " "))]


def _classes(text: str) -> str:
    """Each glyph of a text as its class (_CLASSES)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_CLASSES).decode("ascii")
    return text.translate(_CLASSES)


def readings(token: str) -> list[str]:
    """The words a disguised token may stand for (5h1t: shit, shlt; fvck: fvck, fuck), at most READINGS."""
    options: list[Sequence[str]] = []
    at = 0
    while at < len(token):
        pair = _DISGUISED_PAIRS.get(token[at : at + 2])
        if pair:
            options.append(pair)
            at += 2
        else:
            options.append(_DISGUISES.get(token[at], token[at]))
            at += 1
    return ["".join(letters) for letters in itertools.islice(itertools.product(*options), READINGS)]


_REMEMBERED = 1 << 17  # words a filter remembers its answers for, then starts again
_LONGEST_REMEMBERED = 48  # characters: a longer token (a hash, a URL) is read each time, never kept
_HIT, _FIRST, _SECOND, _GLYPH = 1, 2, 4, 8  # what a word may do in a match (WordFilter._part)


class WordFilter:
    """Excluded terms (a word or a phrase, each with the reasons it is excluded for) and a matcher
    for them and their inflected forms; with `safe`, also any word that holds a vulgar root (ROOTS)."""

    def __init__(self, terms: dict[str, tuple[str, ...]], safe: bool = False) -> None:
        self.terms = terms
        self.safe = safe  # the shipped lists are in (vocabulary: safe), and with them ROOTS
        self.roots = _ROOT if safe else None
        self.single: dict[str, str] = {}  # a word form -> the term it is a form of
        self.phrases: dict[str, list[tuple[str, list[set[str]]]]] = {}  # first word form -> (term, forms)
        self.symbols: set[str] = set()  # terms with no letter or digit (an emoji): matched as they are
        for term in sorted(terms):
            words = words_of(term)
            if len(words) == 1:
                for form in inflections(words[0]):
                    self.single.setdefault(form, term)
            elif words:
                forms = [inflections(w) for w in words]
                for first in forms[0]:
                    self.phrases.setdefault(first, []).append((term, forms))
            elif term.strip():
                self.symbols.add(" ".join(normalise(term).split()))
        self.starts = frozenset(self.single) | frozenset(self.phrases)  # a word no match can start without
        self.seconds = frozenset(form for entries in self.phrases.values() for _, forms in entries for form in forms[1])
        self._inert: dict[str, int] = {}  # word -> what it may do in a match of found() (_part)
        self._spells: dict[str, bool] = {}  # token -> a reading of it may be excluded (_may_spell)

    def __bool__(self) -> bool:
        return bool(self.terms) or self.safe

    def found(self, words: Sequence[str]) -> set[str]:
        """The excluded terms in a sequence of words (as words_of gives them); a word that holds a
        vulgar root is its own term."""
        if self._all_inert(words):
            return set()
        hits = set()
        present = self.starts.intersection(words)
        if present:
            for i, word in enumerate(words):
                if word not in present:
                    continue
                term = self.single.get(word)
                if term is not None:
                    hits.add(term)
                for term, forms in self.phrases.get(word, ()):
                    end = i + len(forms)
                    if (
                        end <= len(words)
                        and words[i + 1] in forms[1]
                        and all(map(set.__contains__, forms, words[i:end]))
                    ):
                        hits.add(term)
        joined = " ".join(words)
        if self.roots is not None and self.roots.search(joined):
            hits.update(w for w in words if w not in self.single and self.roots.search(w) and not INNOCENT.fullmatch(w))
        for spelled in _SPELLED.findall(joined):  # f-u-c-k, s h i t: a word spelt out letter by letter
            hits |= self.found([spelled.replace(" ", "")])
        return hits

    def _all_inert(self, words: Sequence[str]) -> bool:
        """Whether no word can take part in a match: none is an excluded form or holds a root (a
        root has no space, so it never spans two words), no three single glyphs stand in a row
        (they spell a word out), and no phrase's first word is followed by a word some phrase has
        second. Each word's part is remembered: a copy's words are mostly words every other copy
        has, and this is most of what a safe copy costs."""
        parts = self._inert
        before = glyphs = 0
        for word in words:
            part = parts.get(word)
            if part is None:
                part = self._part(word)
                if len(word) <= _LONGEST_REMEMBERED:
                    if len(parts) >= _REMEMBERED:
                        parts.clear()
                    parts[word] = part
            glyphs = glyphs + 1 if part & _GLYPH else 0
            if part & _HIT or (before & _FIRST and part & _SECOND) or glyphs >= 3:
                return False
            before = part
        return True

    def _part(self, word: str) -> int:
        """What a word may do in a match (bits: _HIT on its own, _FIRST and _SECOND in a phrase,
        _GLYPH a single glyph, three of which in a row spell a word out; 0: nothing)."""
        if word in self.single or " " in word or not word:
            return _HIT
        if self.roots is not None and self.roots.search(word):
            return _HIT
        part = (_FIRST if word in self.phrases else 0) | (_SECOND if word in self.seconds else 0)
        return part | _GLYPH if len(word) == 1 else part

    def in_text(self, text: str, tokens: list[str] | None = None) -> set[str]:
        """The excluded terms in a text (`tokens`: its _tokens, when they are at hand)."""
        if not self:
            return set()
        if tokens is None or "@" in text or "$" in text or not text.isascii():
            tokens = words_of(text)  # else its tokens are its words
        hits = self.found(tokens)
        if self.symbols and not text.isascii():
            folded = normalise(text)
            hits.update(symbol for symbol in self.symbols if symbol in folded)
        return hits

    @functools.cached_property
    def _classed(self) -> tuple[frozenset[str], re.Pattern[str] | None]:
        """The excluded word forms and the roots, each glyph as its class (_CLASSES)."""
        forms = frozenset(form.translate(_CLASSES) for form in self.single)
        roots = re.compile("|".join(root.translate(_CLASSES) for root in ROOTS)) if self.roots else None
        return forms, roots

    def _may_spell(self, tokens: Sequence[str]) -> bool:
        """Whether a reading of any of the tokens may be excluded: its glyph classes are an excluded
        form's or hold a root's (false for almost every sentence). Decided token by token and
        remembered: no reading, form or root spans a space, so the text's answer is any token's."""
        spells = self._spells
        for token in tokens:
            known = spells.get(token)
            if known is None:
                if any(glyph.isspace() for glyph in token):
                    return self._text_may_spell(tokens)
                known = self._text_may_spell([token])
                if len(token) <= _LONGEST_REMEMBERED:
                    if len(spells) >= _REMEMBERED:
                        spells.clear()
                    spells[token] = known
            if known:
                return True
        return False

    def _text_may_spell(self, tokens: Sequence[str]) -> bool:
        """_may_spell in one pass over the joined tokens."""
        forms, roots = self._classed
        joined = " ".join(tokens)
        readings = [joined] if "rn" not in joined and "vv" not in joined else [joined, joined.replace("rn", "m")]
        if len(readings) > 1:
            readings[1] = readings[1].replace("vv", "w")
        for reading in readings:
            classed = _classes(reading)
            if not forms.isdisjoint(classed.split()) or (roots and roots.search(classed)):
                return True
        return False

    def disguised(self, tokens: Iterable[str]) -> set[str]:
        """The excluded terms that tokens (as _tokens gives them) spell once their look-alike glyphs
        are read as letters: 5h1t, fvck, c0ck, sh1thead. Only tokens with such a glyph are read."""
        hits: set[str] = set()
        for token in tokens:
            if (
                _DISGUISED.search(token)
                and _LETTER.search(token)
                and token not in PLAIN_WORDS
                and self._may_spell([token])
            ):
                for reading in readings(token):
                    hits |= self.found([reading])
        return hits

    def gained(self, before: str, after: str) -> set[str]:
        """The excluded terms `after` has that `before` had not (a word already there may stay): as
        written, or spelt in look-alike glyphs by a word `before` did not have (one it had, read the
        same way, may stay)."""
        if not self or before == after:
            return set()
        tokens = _tokens(after)
        new = self.in_text(after, tokens)
        if new:
            new -= self.in_text(before)
        if self._may_spell(tokens):
            known = set(_tokens(before))
            disguised = self.disguised(token for token in tokens if token not in known)
            if disguised:
                new |= disguised - self.in_text(before) - self.disguised(known)
        return new

    def reason(self, term: str) -> str:
        return self.terms[term][0] if term in self.terms else ROOT_REASON


def _data(name: str) -> str:
    return resources.files("augcli.text").joinpath("data", name).read_text(encoding="utf-8")


def _lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            yield line


def term_of(line: str) -> str:
    """A list entry as a term: its words (words_of) joined by spaces, or, when it has none (an
    emoji), the entry itself, normalised."""
    return " ".join(words_of(line)) or " ".join(normalise(line).split())


def clear_caches() -> None:
    """Forget the shipped lists read so far (scripts/build_thesaurus.py rewrites them)."""
    for cached in (default_terms, word_filter, _shipped_inflections, _irregular):
        cached.cache_clear()


@functools.lru_cache(maxsize=1)
def default_terms() -> dict[str, tuple[str, ...]]:
    """The shipped excluded terms and their reasons (in REASONS order)."""
    terms: dict[str, list[str]] = {}
    for line in _lines(_data(WORDNET_FILE)):
        term, _, reasons = line.partition("\t")
        terms.setdefault(term_of(term), []).extend(f"WordNet {r}" for r in reasons.split(","))
    for name, reason in ((PROFANITY_FILE, "LDNOOBW list"), (AUGCLI_FILE, "augcli list")):
        for line in _lines(_data(name)):
            if term_of(line):
                terms.setdefault(term_of(line), []).append(reason)
    return {term: tuple(sorted(set(r), key=REASONS.index)) for term, r in terms.items()}


def read_exclude_words(path: str) -> list[str]:
    """The terms of an exclude_words file: one word or phrase per line, # starts a comment. A FIFO,
    a device or a file over EXCLUDE_LIMIT is refused."""
    try:
        raw = read_input(Path(path), EXCLUDE_LIMIT)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExcludeWordsError(f"cannot read exclude_words {path}: {exc}") from None
    terms = [term_of(line) for line in _lines(text)]
    return [term for term in terms if term]


@functools.lru_cache(maxsize=8)
def word_filter(vocabulary: str = "safe", exclude_words: str | None = None) -> WordFilter:
    """What a section's copies may not gain: the shipped terms and vulgar roots (unless unfiltered) and the user's."""
    terms = {term: reasons for term, reasons in default_terms().items()} if vocabulary == "safe" else {}
    for term in read_exclude_words(exclude_words) if exclude_words else ():
        terms[term] = (*terms.get(term, ()), "exclude_words")
    return WordFilter(terms, safe=vocabulary == "safe")


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
            hits = words.in_text(candidate)
            if hits:
                withheld[candidate] = min((words.reason(t) for t in hits), key=REASONS.index)
            else:
                keep.append(candidate)
        if keep:
            kept[word] = tuple(keep)
    return kept, withheld


def summary_line(
    vocabulary: str,
    withheld: dict[str, str],
    records: Iterable[dict[str, Any]] = (),
    tables: str = "the synonyms",
) -> str:
    """How many words were withheld (from `tables`) and why, and how many samples were drawn again for
    gaining an excluded word (from the manifest's `vocabulary` records): one line for the preview and
    the report."""
    counts = Counter(withheld.values())
    why = ", ".join(f"{reason} {counts[reason]:,}" for reason in REASONS if counts[reason])
    if vocabulary == "unfiltered":
        line = "unfiltered (vocabulary: unfiltered): the shipped word lists are off"
        line += f"; {len(withheld):,} words withheld from {tables} ({why})" if withheld else "; no word withheld"
    else:
        line = f"safe: {len(withheld):,} words withheld from {tables} ({why})"
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
