"""Word-level differences between a text sample and its copy, named by the operation they look
like: a word replaced, inserted, deleted, or words swapped (the same words in another order)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\w+|[^\w\s]+|\s+")


@dataclass(frozen=True)
class Piece:
    """A run of the copy's text and what happened to it: same, replaced, inserted, swapped; or a
    run of the original's text that was deleted."""

    text: str
    change: str  # same | replaced | inserted | deleted | swapped


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def diff(original: str, copy: str) -> list[Piece]:
    """The copy as pieces, with deleted words of the original in place; whitespace is never a change."""
    before, after = tokens(original), tokens(copy)
    words_before = sorted(t for t in before if not t.isspace())
    words_after = sorted(t for t in after if not t.isspace())
    swapped = words_before == words_after and before != after
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(Piece("".join(after[j0:j1]), "same"))
            continue
        if op in ("delete", "replace") and not swapped:
            removed = "".join(before[i0:i1])
            if removed.strip() and op == "delete":
                pieces.append(Piece(removed, "deleted"))
        if op in ("insert", "replace"):
            change = "swapped" if swapped else "replaced" if op == "replace" else "inserted"
            for token in after[j0:j1]:
                pieces.append(Piece(token, "same" if token.isspace() else change))
    return _merge(pieces)


def _merge(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if merged and merged[-1].change == piece.change:
            merged[-1] = Piece(merged[-1].text + piece.text, piece.change)
        else:
            merged.append(piece)
    return merged


def operations(pieces: list[Piece]) -> list[str]:
    """The operations a diff shows, in a fixed order (empty: the copy equals the original)."""
    seen = {p.change for p in pieces}
    return [name for name in ("replaced", "inserted", "deleted", "swapped") if name in seen]
