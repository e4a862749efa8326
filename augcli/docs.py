"""The transform reference, read from the registry so it cannot drift from the code."""

from __future__ import annotations

from augcli.transforms import Composition, transforms_for


def _rows(modality: str) -> list[tuple[str, str, list[tuple[str, str, str, str]]]]:
    rows = []
    for name, cls in sorted(transforms_for(modality).items()):
        params = [(key, p.kind, p.show_default(), p.doc) for key, p in cls.params.items()]
        if issubclass(cls, Composition):
            params.insert(1, ("transforms", "list of transforms", "required", "the transforms to choose from"))
        rows.append((name, cls.describe(), params))
    return rows


def text_reference(modalities: list[str]) -> str:
    """Plain text for the terminal: one block per transform."""
    out = []
    for modality in modalities:
        out.append(f"{modality} transforms")
        for name, description, params in _rows(modality):
            out.append(f"\n  {name}: {description}")
            for key, kind, default, doc in params:
                out.append(f"      {key} = {default}  ({kind}) {doc}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_reference(modalities: list[str]) -> str:
    """The README's reference tables: one row per transform, its parameters in one cell."""
    out = []
    for modality in modalities:
        out += [f"### {modality}", "", "| transform | what it does | parameters (default) |", "|---|---|---|"]
        for name, description, params in _rows(modality):
            cell = "<br>".join(f"`{key}` = `{default}`: {doc} ({kind})" for key, kind, default, doc in params)
            out.append(f"| `{name}` | {_cell(description)} | {_cell(cell)} |")
        out.append("")
    return "\n".join(out)
