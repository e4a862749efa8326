"""See what a recipe does: `augcli preview` (copies of a few inputs, before a run) and the run
report (what a run made), as one self-contained HTML page or a PNG contact sheet.

Owns the preview, the run report, their plots, drawings and page template. Copies are rendered by
the modality functions `augcli run` uses, so a preview shows the bytes a run writes. Plots are
drawn by matplotlib (Agg) and the page comes from one Jinja2 template; both are the `report`
extra: augcli is installed from a clone, so `pip install -e '.[report]'` in it (or `pip install
matplotlib jinja2`). Imports core, storage, the build engine (plan, manifest, state; replay's
check of a recorded recipe) and every modality, as a face may; only the command line imports it.
"""

MISSING = (
    "augcli preview and reports need matplotlib and Jinja2: in augcli's clone, pip install -e '.[report]' "
    "(or pip install matplotlib jinja2)"
)


def require() -> None:
    """Fail with the install line when the report extra is missing."""
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(MISSING) from None
