"""Pure text kernels: token lists and explicit edits in, token lists out; no randomness here.

Text is split into alternating word and non-word tokens ("Hello", ", ", "world", "!"), so an edit
moves words while punctuation and spacing stay where they were. Every kernel is one pass over
the tokens, so a very long line costs linear time, never quadratic.
"""

from __future__ import annotations

import re

_FEW = 8  # up to this many insertions are spliced in one by one; more are merged in one pass
_TOKEN = re.compile(r"\w+(?:['’-]\w+)*|\W+")


def tokenize(text: str) -> list[str]:
    """Word and non-word tokens; "".join(tokenize(t)) == t."""
    return _TOKEN.findall(text)


def word_positions(tokens: list[str]) -> range:
    """Indices of the word tokens. The tokenizer's two patterns cannot match back to back, so words
    and separators alternate: every second token from the first word on."""
    if not tokens:
        return range(0)
    first = tokens[0][0]
    return range(0 if first.isalnum() or first == "_" else 1, len(tokens), 2)


def match_case(model: str, word: str) -> str:
    """`word` cased like `model`: UPPER stays upper, Capitalised stays capitalised."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def replace(tokens: list[str], replacements: dict[int, str]) -> list[str]:
    """Tokens with some replaced (token index -> new text)."""
    out = list(tokens)
    for i, token in replacements.items():
        out[i] = token
    return out


def insert(tokens: list[str], words: list[int], insertions: list[tuple[int, str]]) -> list[str]:
    """Insert words at word slots: slot k goes before the k-th word, slot len(words) right after the
    last word (before any closing punctuation)."""
    if len(insertions) <= _FEW:  # the usual case: splice them in (C-level copies)
        out = list(tokens)
        last = words[-1] if words else len(tokens) - 1
        # back to front, so earlier splices do not move later slots; a slot's words keep their order
        for _, (slot, word) in sorted(enumerate(insertions), key=lambda item: (item[1][0], item[0]), reverse=True):
            if slot < len(words):
                out[words[slot] : words[slot]] = [word, " "]
            else:
                out[last + 1 : last + 1] = [" ", word]
        return out
    before: dict[int, list[str]] = {}
    for slot, word in insertions:
        before.setdefault(slot, []).append(word)
    at_token = {words[slot]: added for slot, added in before.items() if slot < len(words)}
    last = words[-1] if words else len(tokens) - 1
    out: list[str] = []
    for i, token in enumerate(tokens):
        for word in at_token.get(i, ()):
            out += [word, " "]
        out.append(token)
        if i == last:
            for word in before.get(len(words), ()):
                out += [" ", word]
    return out


def swap(tokens: list[str], words: list[int], pairs: list[tuple[int, int]]) -> list[str]:
    """Swap words pairwise, in order (word indices); separators stay in place."""
    out = list(tokens)
    for a, b in pairs:
        i, j = words[a], words[b]
        out[i], out[j] = out[j], out[i]
    return out


def delete(tokens: list[str], words: list[int], doomed: set[int]) -> list[str]:
    """Remove words (word indices) and, with each, one neighbouring separator that is only spaces."""
    drop = set()
    for k in doomed:
        i = words[k]
        drop.add(i)
        if i > 0 and tokens[i - 1].isspace() and i - 1 not in drop:
            drop.add(i - 1)
        elif i + 1 < len(tokens) and tokens[i + 1].isspace():
            drop.add(i + 1)
    return [token for i, token in enumerate(tokens) if i not in drop]


def edit_characters(word: str, operation: str, position: int, character: str = "") -> str:
    """One typo: insert / substitute `character` at `position`, swap it with the next, or delete it."""
    if operation == "insert":
        return word[:position] + character + word[position:]
    if operation == "substitute":
        return word[:position] + character + word[position + 1 :]
    if operation == "swap" and position + 1 < len(word):
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if operation == "delete" and len(word) > 1:
        return word[:position] + word[position + 1 :]
    return word


def substitute_spans(word: str, spans: list[tuple[int, int, str]]) -> str:
    """`word` with non-overlapping character spans [start, end) replaced, spans sorted by start."""
    out, at = [], 0
    for start, end, text in spans:
        out += [word[at:start], text]
        at = end
    out.append(word[at:])
    return "".join(out)


def split(tokens: list[str], splits: dict[int, int]) -> list[str]:
    """Tokens with some words split in two by a space (token index -> where in the word), so words and
    separators still alternate."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        at = splits.get(i)
        if at is None:
            out.append(token)
        else:
            out += [token[:at], " ", token[at:]]
    return out
