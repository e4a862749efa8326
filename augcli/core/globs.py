"""Which files a section claims: case-insensitive globs against a name or a relative path."""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from augcli.core.recipe import Section


@functools.lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """The patterns as two regular expressions, fnmatch's own translation of each lowered pattern:
    one for the patterns matched against the name, one for those with '/' (the relative path)."""

    def either(group: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{fnmatch.translate(p.lower())})" for p in group)) if group else None

    return either([p for p in patterns if "/" not in p]), either([p for p in patterns if "/" in p])


def matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """Case-insensitive glob match: a pattern with '/' matches the relative path, else the name."""
    by_name, by_path = _compiled(tuple(patterns))
    if by_name is not None and by_name.match(relative.rsplit("/", 1)[-1].lower()):
        return True
    return by_path is not None and by_path.match(relative.lower()) is not None


def claims(section: Section, relative: str) -> bool:
    return matches(relative, section.include) and not matches(relative, section.exclude)


def tail_matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """A glob matches the path or any tail of it that starts a folder: val/** matches images/val/a.jpg."""
    if not patterns:
        return False  # (a section without passthrough globs asks this of every input)
    parts = relative.split("/")
    return any(matches("/".join(parts[i:]), patterns) for i in range(len(parts)))
