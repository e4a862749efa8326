"""augcli: an offline dataset augmenter driven by one YAML recipe, and its Python API.

    import augcli
    recipe = augcli.load_recipe("recipe.yaml")
    augment = recipe.pipeline("image")
    image, records = augment(pixels, rng=numpy.random.default_rng(0))

Everything not listed in `__all__` is private and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Augmented",
    "Pipeline",
    "Recipe",
    "RecipeError",
    "ReplayError",
    "load_recipe",
    "parse_recipe",
]

if TYPE_CHECKING:
    from augcli.api import Augmented, Pipeline, Recipe, RecipeError, ReplayError, load_recipe, parse_recipe


def __getattr__(name: str) -> Any:
    """The API is imported on first use, so `augcli` on the command line does not pay for it."""
    if name in __all__:
        from augcli import api

        return getattr(api, name)
    raise AttributeError(f"module 'augcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, though they load on first use (what `dir(augcli)` and completion show),
    and the module's own dunders such as `__version__`; not the helpers it imports."""
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})
