"""The transform and recipe-key references, read from the declarations so they cannot drift from
the code."""

from __future__ import annotations

from augcli.core.transforms import Composition, transforms_for


def _own(modality: str) -> dict:
    """The transforms a section lists under its own name: those it borrows (a video section's
    picture steps) are the lending modality's, documented there."""
    from augcli.core.transforms import BORROWS, REGISTRY

    borrowed = {name for lender in BORROWS.get(modality, ()) for name in REGISTRY.get(lender, {})}
    return {name: cls for name, cls in transforms_for(modality).items() if name not in borrowed}


def _borrowed_note(modality: str) -> str:
    from augcli.core.transforms import BORROWS

    lenders = BORROWS.get(modality, ())
    return "".join(f", and every {lender} transform that does not mix pictures" for lender in lenders)


def _rows(modality: str) -> list[tuple[str, str, list[tuple[str, str, str, str]]]]:
    rows = []
    for name, cls in sorted(_own(modality).items()):
        params = [(key, p.kind, p.show_default(), p.doc) for key, p in cls.params.items()]
        if issubclass(cls, Composition):
            params.insert(1, ("transforms", "list of transforms", "required", "the transforms to choose from"))
        rows.append((name, cls.describe(), params))
    return rows


def text_reference(modalities: list[str]) -> str:
    """Plain text for the terminal: one block per transform."""
    out = []
    for modality in modalities:
        out.append(f"{modality} transforms{_borrowed_note(modality)}")
        for name, description, params in _rows(modality):
            out.append(f"\n  {name}: {description}")
            for key, kind, default, doc in params:
                out.append(f"      {key} = {default}  ({kind}) {doc}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def markdown_index(modalities: list[str], reference: str = "docs/reference.md") -> str:
    """The README's index: every transform name of each modality, linking to its reference."""
    out = ["| section | transforms |", "|---|---|"]
    for modality in modalities:
        names = ", ".join(f"`{name}`" for name, _, _ in _rows(modality)) + _borrowed_note(modality)
        out.append(f"| [{modality}]({reference}#{modality}) | {names} |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_reference(modalities: list[str]) -> str:
    """docs/reference.md's tables: a transform's first row says what it does, then one short row
    per parameter (no row runs past a screen)."""
    out = []
    for modality in modalities:
        out += [f"### {modality}", ""]
        if _borrowed_note(modality):
            out += [f"A {modality} section also takes{_borrowed_note(modality)[5:]}, applied to every frame alike.", ""]
        out += ["| transform | parameter | default | meaning |", "|---|---|---|---|"]
        for name, description, params in _rows(modality):
            out.append(f"| `{name}` | | | {_cell(description)} |")
            out += [
                f"| | `{key}` | `{_cell(default)}` | {_cell(doc)} ({_cell(kind)}) |"
                for key, kind, default, doc in params
            ]
        out.append("")
    return "\n".join(out)


def _key_rows(params: dict, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, kind, default, meaning) for declared keys, nested mappings flattened as a.b."""
    from augcli.core.params import Options

    rows = []
    for key, param in params.items():
        if isinstance(param, Options):
            rows.append((prefix + key, "mapping", "", param.doc))
            rows += _key_rows(param.fields, prefix + key + ".")
        else:
            default = "" if key == "transforms" else param.show_default()
            rows.append((prefix + key, param.kind, default, param.doc))
    return rows


def _key_groups(modalities: list[str]) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    from augcli.core.modalities import MODALITIES
    from augcli.core.recipe import BALANCED, GLOBAL_KEYS, SECTION_KEYS

    groups = [("top level", _key_rows(GLOBAL_KEYS))]
    for name in modalities:
        common = {k: p for k, p in SECTION_KEYS.items() if k != "balance" or name in BALANCED}
        groups.append((f"{name} section", _key_rows({**common, **MODALITIES[name].options})))
    return groups


def text_keys(modalities: list[str]) -> str:
    """The recipe's keys for the terminal."""
    out = []
    for title, rows in _key_groups(modalities):
        out.append(f"{title} keys")
        for key, kind, default, doc in rows:
            shown = f" = {default}" if default else ""
            out.append(f"  {key}{shown}  ({kind}) {doc}")
        out.append("")
    return "\n".join(out)


def markdown_keys(modalities: list[str]) -> str:
    """The README's recipe-key tables."""
    out = []
    for title, rows in _key_groups(modalities):
        out += [f"#### {title}", "", "| key | kind | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{key}` | {_cell(kind)} | {_cell(default)} | {_cell(doc)} |" for key, kind, default, doc in rows]
        out.append("")
    return "\n".join(out)
