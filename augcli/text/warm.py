"""Imported by the fork server for runs with a text section: the WordNet table is parsed once
there (0.1 s) and lemminflect's lemma and inflection tables read once (0.25 s), and every worker
forked from it shares them, instead of each reading them again."""

from augcli.text import inflect, lexicon

lexicon.wordnet()
inflect.load_tables()
