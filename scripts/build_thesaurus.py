"""Build the shipped English synonym table and its unsafe-word list from the Princeton WordNet 3.0 files.

    apt-get install wordnet-base        # Debian: puts data.noun, data.verb, ... in /usr/share/wordnet
    python scripts/build_thesaurus.py [--wordnet /usr/share/wordnet]

Writes, in augcli/text/data/:
- wordnet_unsafe.tsv: every lemma (multi-word ones with spaces) that one of its senses marks as
  disparagement, ethnic slur or obscenity through a usage-domain pointer (`;u`, synset-wide or for
  one word), or whose definition labels it so ("(ethnic slur)", "obscene terms for", ...), with
  those reasons; sorted.
- unsafe_inflections.tsv: the forms lemminflect's dictionary gives each word of the excluded terms
  (this list, the LDNOOBW list, augcli's own) beyond the regular ones (shit: shat, shitted,
  shitting), so a run reads them instead of loading lemminflect.
- wordnet_synonyms.json.gz: lemma -> sorted list of single-word synonyms (words that share a synset
  with it, any part of speech), without the synonyms the safe vocabulary excludes (augcli.text.safety:
  these lists, their inflected forms, and words that hold a vulgar root).
- wordnet_withheld.json.gz: the synonyms taken out, in the same shape: both tables together are the
  full table (`vocabulary: unfiltered`).
- wordnet_antonyms.json.gz: lemma -> sorted list of its direct antonyms (WordNet's word-to-word `!`
  pointers between single words, any part of speech) that the safe vocabulary allows.
- wordnet_antonyms_withheld.json.gz: the antonyms taken out (precocious -> retarded, oral -> anal),
  in the same shape: both together are WordNet's every direct antonym.
Keys are sorted and the gzip timestamp is 0, so a rebuild from the same files gives the same bytes.
WordNet's license is in augcli/text/data/WORDNET_LICENSE.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from augcli.text import safety  # noqa: E402

DATA = ROOT / "augcli" / "text" / "data"
PARTS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}  # data.<file> -> the pos letter of pointers
WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")  # single words: no spaces, digits or dots
# the usage domains whose members are excluded, by the first lemma of the domain's synset
DOMAINS = {"disparagement": "disparagement", "ethnic_slur": "ethnic slur", "obscenity": "obscenity"}
# a definition that labels its words: "(ethnic slur) ...", "obscene terms for ...", "... now considered offensive"
LABELS = re.compile(
    r"\((?:[\w ]* )?(?:ethnic slur|offensive|derogatory|disparaging|obscene|vulgar)(?: [\w ]*)?\)"
    r"|\b(?:obscene|vulgar|offensive|derogatory|disparaging|insulting)(?: and (?:insulting|disparaging|derogatory))?"
    r" (?:slang|terms?|words?|names?|expressions?) (?:of address |used by |for )"
    r"|\b(?:considered|regarded as) offensive",
    re.IGNORECASE,
)


def lemma(word: str) -> str:
    return re.sub(r"\(.*\)$", "", word).lower()  # adjectives may carry (a), (p), (ip)


def synsets(data_file: Path):
    """(offset, words, pointers, definition) of every synset in one data.<pos> file (license header
    lines start with spaces). A pointer is (symbol, target offset, target pos, source word, target word)."""
    with data_file.open(encoding="latin-1") as handle:
        for line in handle:
            if line.startswith(" "):
                continue
            body, _, gloss = line.partition(" | ")
            fields = body.split(" ")
            count = int(fields[3], 16)
            words = [lemma(w) for w in fields[4 : 4 + 2 * count : 2]]
            at = 4 + 2 * count
            pointers = []
            for _ in range(int(fields[at])):
                symbol, offset, pos, where = fields[at + 1 : at + 5]
                pointers.append((symbol, offset, pos, int(where[:2], 16), int(where[2:], 16)))
                at += 4
            yield fields[0], words, pointers, gloss.split('"', 1)[0]


def read(wordnet: Path) -> dict[tuple[str, str], tuple[list[str], list, str]]:
    found = {}
    for part, pos in PARTS.items():
        for offset, words, pointers, gloss in synsets(wordnet / f"data.{part}"):
            found[(offset, pos)] = (words, pointers, gloss)
    return found


def unsafe_words(found) -> dict[str, set[str]]:
    """lemma -> the reasons WordNet gives to exclude it: a usage domain (a `;u` pointer from the whole
    synset marks its every word, from one word that word only) or a labelling definition."""
    marked: dict[str, set[str]] = defaultdict(set)
    for words, pointers, gloss in found.values():
        for symbol, offset, pos, source, _ in pointers:
            if symbol != ";u":
                continue
            domain = found[(offset, "a" if pos == "s" else pos)][0][0]
            if domain in DOMAINS:
                for word in words if source == 0 else [words[source - 1]]:
                    marked[word].add(DOMAINS[domain])
        if LABELS.search(gloss):
            for word in words:
                marked[word].add("definition")
    return marked


def build(found) -> dict[str, list[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for words, _, _ in found.values():
        single = sorted({w for w in words if WORD.match(w)})
        for word in single:
            table[word].update(w for w in single if w != word)
    return {word: sorted(synonyms) for word, synonyms in sorted(table.items()) if synonyms}


def antonyms(found) -> dict[str, list[str]]:
    """lemma -> its direct antonyms: the `!` pointers, which WordNet sets from one word of a synset to
    one word of another (good -> bad, increase -> decrease); single words only."""
    table: dict[str, set[str]] = defaultdict(set)
    for words, pointers, _ in found.values():
        for symbol, offset, pos, source, target in pointers:
            if symbol != "!" or not source or not target:
                continue
            word, opposite = words[source - 1], found[(offset, "a" if pos == "s" else pos)][0][target - 1]
            if WORD.match(word) and WORD.match(opposite) and word != opposite:
                table[word].add(opposite)
    return {word: sorted(opposites) for word, opposites in sorted(table.items())}


def write_table(table: dict[str, list[str]], name: str) -> Path:
    payload = json.dumps(table, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    path = DATA / name
    path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    found = read(args.wordnet)
    marked = unsafe_words(found)
    order = ("ethnic slur", "disparagement", "obscenity", "definition")
    lines = [
        "# WordNet 3.0 lemmas that a sense marks as disparagement, ethnic slur or obscenity (usage domain)\n",
        "# or whose definition labels them so. Written by scripts/build_thesaurus.py; do not edit.\n",
    ]
    lines += [
        f"{word.replace('_', ' ')}\t{','.join(sorted(reasons, key=order.index))}\n"
        for word, reasons in sorted(marked.items())
    ]
    (DATA / safety.WORDNET_FILE).write_text("".join(lines), encoding="utf-8")
    safety.clear_caches()
    words = sorted({w for term in safety.default_terms() for w in safety.words_of(term) if w.isalpha()})
    forms = {word: sorted(safety.dictionary_inflections(word)) for word in words}
    header = (
        f"# The forms lemminflect {version('lemminflect')} gives each word of the shipped excluded terms beyond the\n"
        "# regular ones (augcli.text.safety.dictionary_inflections). Written by scripts/build_thesaurus.py.\n"
    )
    lines = [f"{word}\t{' '.join(more)}\n" for word, more in forms.items()]
    (DATA / safety.FORMS_FILE).write_text(header + "".join(lines), encoding="utf-8")
    safety.clear_caches()
    unsafe = safety.word_filter()
    kept, withheld = split(build(found), unsafe, "wordnet_synonyms.json.gz", "wordnet_withheld.json.gz")
    opposites, opposites_withheld = split(
        antonyms(found), unsafe, "wordnet_antonyms.json.gz", "wordnet_antonyms_withheld.json.gz"
    )
    print(f"{len(marked)} lemmas marked unsafe by WordNet -> {safety.WORDNET_FILE}")
    print(f"{sum(map(len, forms.values()))} dictionary forms of {len(words)} words -> {safety.FORMS_FILE}")
    print(f"{len(kept)} lemmas, {sum(map(len, kept.values()))} synonym pairs kept; {len(withheld)} words withheld")
    pairs = sum(map(len, opposites.values()))
    print(f"{len(opposites)} lemmas, {pairs} antonym pairs kept; {len(opposites_withheld)} words withheld")


def split(table: dict[str, list[str]], words: safety.WordFilter, kept_name: str, withheld_name: str):
    """Write a table's allowed entries to one file and the withheld ones to another; (kept, withheld words)."""
    kept, withheld = safety.allowed({w: tuple(s) for w, s in table.items()}, words)
    out = {w: [s for s in entries if s in withheld] for w, entries in table.items()}
    write_table({w: list(s) for w, s in kept.items()}, kept_name)
    write_table({w: s for w, s in out.items() if s}, withheld_name)
    return kept, withheld


if __name__ == "__main__":
    main()
