"""The one HTML template both pages are made from (Jinja2, autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(**context: Any) -> str:
    """page.html filled with `context` (`kind` is "preview" or "report")."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template("page.html").render(**context)
