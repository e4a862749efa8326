"""Which files a section claims: case-insensitive globs against a name or a relative path."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from augcli.core.recipe import Section


def matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """Case-insensitive glob match: a pattern with '/' matches the relative path, else the name."""
    name = relative.rsplit("/", 1)[-1].lower()
    lowered = relative.lower()
    return any(fnmatch.fnmatchcase(lowered if "/" in p else name, p.lower()) for p in patterns)


def claims(section: Section, relative: str) -> bool:
    return matches(relative, section.include) and not matches(relative, section.exclude)


def tail_matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """A glob matches the path or any tail of it that starts a folder: val/** matches images/val/a.jpg."""
    parts = relative.split("/")
    return any(matches("/".join(parts[i:]), patterns) for i in range(len(parts)))
