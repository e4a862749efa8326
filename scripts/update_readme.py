"""Regenerate the README's transform reference from the registry (augcli transforms --markdown)."""

from __future__ import annotations

from pathlib import Path

from augcli import docs
from augcli.modalities import MODALITIES

START, END = "<!-- transforms:start -->\n", "<!-- transforms:end -->"


def main() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    reference = docs.markdown_reference(list(MODALITIES)).strip() + "\n"
    readme.write_text(head + START + reference + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
