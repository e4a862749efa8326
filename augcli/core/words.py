"""Counted nouns for messages and pages: "1 file", "2 files", never "1 files" or "file(s)"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """The count and its noun, singular for 1 only: "1 file", "0 files", plural(2, "copy", "copies")."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def noun(count: int, word: str, many: str | None = None) -> str:
    """The noun alone, as `plural` would write it for `count`: noun(1, "row") is "row"."""
    return word if count == 1 else many or word + "s"
