"""Build the shipped table of real English misspellings from codespell's dictionary.

    python3 -m venv /tmp/venv-cs && /tmp/venv-cs/bin/pip install codespell==2.4.3
    CODESPELL=/tmp/venv-cs/lib/python3.11/site-packages/codespell_lib
    python scripts/build_misspellings.py --dictionary $CODESPELL/data/dictionary.txt

codespell's dictionary.txt (CC BY-SA 3.0, derived from English Wikipedia's lists of common
misspellings) has lines `misspelling->correction[, correction...]`. This reverses it into
augcli/text/data/codespell_misspellings.tsv.gz: one line per correct word, `word<TAB>misspelling
misspelling ...`, sorted, for the words a text is likely to hold: a lemma of the shipped thesaurus, a
built-in stop word, or an inflected form of a thesaurus lemma (lemminflect). Kept misspellings are
lower-case letters (one inner apostrophe allowed), are not themselves such a word (`instal`,
`despatch`: variants, not errors), and hold no word the safe vocabulary excludes (augcli.text.safety).
The gzip timestamp is 0, so a rebuild from the same dictionary gives the same bytes. Attribution in
augcli/text/data/NOTICE.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lemminflect import getAllLemmas  # noqa: E402

from augcli.text import lexicon, safety  # noqa: E402
from augcli.text.stopwords import ENGLISH  # noqa: E402

OUT = ROOT / "augcli" / "text" / "data" / lexicon.MISSPELLINGS
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def reverse(dictionary: Path) -> dict[str, set[str]]:
    """correction -> its misspellings, from `misspelling->correction, correction,` lines."""
    found: dict[str, set[str]] = defaultdict(set)
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        wrong, arrow, right = line.strip().partition("->")
        if not arrow:
            continue
        for correction in (c.strip() for c in right.split(",")):
            if correction:
                found[correction].add(wrong.strip())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionary", type=Path, required=True, help="codespell_lib/data/dictionary.txt")
    parser.add_argument("--version", default="2.4.3", help="the codespell version it comes from (for the header)")
    args = parser.parse_args()
    lemmas = lexicon.wordnet()

    def known(word: str) -> bool:
        forms = [lemma for lemmas_of in getAllLemmas(word).values() for lemma in lemmas_of]
        return word in lemmas or word in ENGLISH or any(lemma in lemmas for lemma in forms)

    unsafe = safety.word_filter()
    rows = []
    for word, wrong in sorted(reverse(args.dictionary).items()):
        if not WORD.fullmatch(word) or not known(word):
            continue
        kept = sorted(w for w in wrong if WORD.fullmatch(w) and not known(w) and not unsafe.in_text(w))
        if kept:
            rows.append(f"{word}\t{' '.join(kept)}\n")
    header = (
        f"# Real misspellings of common English words, reversed from codespell {args.version}'s dictionary.txt\n"
        "# (CC BY-SA 3.0, from English Wikipedia). Written by scripts/build_misspellings.py; do not edit.\n"
    )
    OUT.write_bytes(gzip.compress((header + "".join(rows)).encode("utf-8"), compresslevel=9, mtime=0))
    pairs = sum(row.count(" ") + 1 for row in rows)
    print(f"{len(rows)} words, {pairs} misspellings -> {OUT.name} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
