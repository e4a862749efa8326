"""Errors shared across modules."""

from __future__ import annotations


class RecipeError(Exception):
    """An invalid recipe; `problems` holds one located, self-explaining message per problem. (Here,
    where nothing heavy is imported: the command line catches it before numpy is loaded.)"""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InputError(ValueError):
    """One input file cannot be used (undecodable, unsupported, too large); the run goes on.

    Modalities raise subclasses with a message that says what is wrong with the file.
    """


def install_hint(extra: str, packages: str) -> str:
    """How to install an optional extra: augcli is installed from its clone (it is not on PyPI),
    so installing `augcli[x]` by name would fail; the extra's own packages are named for a plain pip."""
    return f"in augcli's clone, pip install -e '.[{extra}]' (or pip install {packages})"
