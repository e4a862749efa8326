"""The documentation a user reads: a short README whose links all resolve, and references that are
generated from the declarations and current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from augcli import docs
from augcli.core.modalities import MODALITIES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def embedded(page: Path, name: str) -> str:
    text = page.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    return text[text.index(start) + len(start) : text.index(end)].strip()


def test_the_readme_reads_in_ten_minutes():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_the_generated_references_are_current():
    modalities = list(MODALITIES)
    stale = "stale: run python scripts/update_readme.py"
    assert embedded(ROOT / "README.md", "index") == docs.markdown_index(modalities).strip(), stale
    assert embedded(ROOT / "docs" / "reference.md", "transforms") == docs.markdown_reference(modalities).strip(), stale
    assert embedded(ROOT / "docs" / "recipe.md", "keys") == docs.markdown_keys(modalities).strip(), stale
