"""Regenerate the references from the declarations: the README's index of transforms, the
transform reference (docs/reference.md, `augcli transforms --markdown`) and every recipe key
(docs/recipe.md, `augcli transforms --keys --markdown`)."""

from __future__ import annotations

from pathlib import Path

from augcli import docs
from augcli.core.modalities import MODALITIES


def _replace(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + body.strip() + "\n" + end + tail


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    modalities = list(MODALITIES)
    for relative, name, body in (
        ("README.md", "index", docs.markdown_index(modalities)),
        ("docs/reference.md", "transforms", docs.markdown_reference(modalities)),
        ("docs/recipe.md", "keys", docs.markdown_keys(modalities)),
    ):
        path = root / relative
        path.write_text(_replace(path.read_text(encoding="utf-8"), name, body), encoding="utf-8")


if __name__ == "__main__":
    main()
