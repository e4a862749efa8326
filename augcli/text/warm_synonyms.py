"""Imported by the fork server for a text section whose steps re-inflect words (eda,
synonym_replacement, random_insertion, antonym) or that lists its own exclude_words: lemminflect's
lemma and inflection tables are read once there (0.29 s) and every worker forked from it shares
them, instead of each reading them again."""

from augcli.text import inflect

inflect.load_tables()
