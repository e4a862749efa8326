"""Regenerate the README's transform and recipe-key references from the declarations
(augcli transforms --markdown, augcli transforms --keys --markdown)."""

from __future__ import annotations

from pathlib import Path

from augcli import docs
from augcli.modalities import MODALITIES


def _replace(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + body.strip() + "\n" + end + tail


def main() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    text = _replace(text, "transforms", docs.markdown_reference(list(MODALITIES)))
    text = _replace(text, "keys", docs.markdown_keys(list(MODALITIES)))
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
