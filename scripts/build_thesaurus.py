"""Build the shipped English synonym table from the Princeton WordNet 3.0 database files.

    apt-get install wordnet-base        # Debian: puts data.noun, data.verb, ... in /usr/share/wordnet
    python scripts/build_thesaurus.py [--wordnet /usr/share/wordnet]

Writes augcli/text/data/wordnet_synonyms.json.gz: a gzipped JSON object, lemma -> sorted list of
single-word synonyms (words that share a synset with it, any part of speech), keys sorted, gzip
timestamp 0, so a rebuild from the same files gives the same bytes. WordNet's license is in
augcli/text/data/WORDNET_LICENSE.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import defaultdict
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "augcli" / "text" / "data" / "wordnet_synonyms.json.gz"
PARTS = ("noun", "verb", "adj", "adv")
WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")  # single words: no spaces, digits or dots


def synsets(data_file: Path):
    """The words of every synset in one data.<pos> file (license header lines start with spaces)."""
    with data_file.open(encoding="latin-1") as handle:
        for line in handle:
            if line.startswith(" "):
                continue
            fields = line.split(" ")
            count = int(fields[3], 16)
            words = fields[4 : 4 + 2 * count : 2]
            yield [re.sub(r"\(.*\)$", "", w).lower() for w in words]  # adjectives may carry (a), (p), (ip)


def build(wordnet: Path) -> dict[str, list[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for part in PARTS:
        for words in synsets(wordnet / f"data.{part}"):
            single = sorted({w for w in words if WORD.match(w)})
            for word in single:
                table[word].update(w for w in single if w != word)
    return {word: sorted(synonyms) for word, synonyms in sorted(table.items()) if synonyms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    table = build(args.wordnet)
    payload = json.dumps(table, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    pairs = sum(map(len, table.values()))
    print(f"{len(table)} lemmas, {pairs} synonym pairs -> {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
