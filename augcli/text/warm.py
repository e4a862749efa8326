"""Imported by the fork server for runs with a text section: the WordNet table is parsed once
there (0.1 s) and every worker forked from it shares it, instead of each parsing it again."""

from augcli.text import lexicon

lexicon.wordnet()
