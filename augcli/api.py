"""The public Python API: one recipe offline and online.

`load_recipe` validates a recipe as the CLI does; `Recipe.pipeline(modality)` gives a callable that
augments one sample (a numpy array, a PIL image, a string, a DataFrame) the way `augcli run` makes
a copy, by the same code: the modality functions the runner calls for files are the ones these
call for samples. `Pipeline.for_output` is the generator the offline run uses for an output, and
`Pipeline.replay` applies a manifest row's recorded parameters with no randomness.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from augcli import online as _online
from augcli.core import recipe as _recipe
from augcli.core.recipe import RecipeError as RecipeError  # re-exported: augcli.RecipeError
from augcli.core.seeding import FileRngs, rng_for
from augcli.core.transforms import ReplayError as ReplayError  # re-exported: augcli.ReplayError
from augcli.online import BOX_FORMATS as BOX_FORMATS  # re-exported
from augcli.online import Augmented as Augmented  # re-exported: augcli.Augmented


class Recipe:
    """A validated recipe: its seed, copies and one section per modality."""

    def __init__(self, inner: _recipe.Recipe) -> None:
        self._inner = inner

    @property
    def seed(self) -> int:
        """The recipe's seed (every output's generator derives from it)."""
        return self._inner.seed

    @property
    def copies(self) -> int:
        """How many augmented copies `augcli run` makes of each input."""
        return self._inner.copies

    @property
    def modalities(self) -> list[str]:
        """The modalities the recipe has a section for."""
        return list(self._inner.sections)

    def pipeline(self, modality: str) -> Pipeline:
        """The section of `modality` as a callable: image, audio, text or tabular (video: render only)."""
        if modality not in self._inner.sections:
            have = ", ".join(self._inner.sections) or "none"
            raise KeyError(f"the recipe has no {modality} section (it has: {have})")
        return Pipeline(self._inner, modality)


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; raise RecipeError with every located problem."""
    return Recipe(_recipe.load_recipe(path))


def parse_recipe(text: str, base_dir: str | Path | None = None) -> Recipe:
    """Validate recipe text; relative paths in it start at `base_dir` (default: the working folder)."""
    return Recipe(_recipe.parse_recipe(text, "recipe", Path(base_dir) if base_dir is not None else None))


class Pipeline:
    """One section of a recipe as a callable. `pipeline(sample, rng)` returns an `Augmented`."""

    def __init__(self, recipe: _recipe.Recipe, modality: str) -> None:
        from augcli.core.modalities import MODALITIES

        self._recipe = recipe
        self.modality = modality
        self._section = recipe.sections[modality]
        self._modality = MODALITIES[modality]
        self._bound_to: dict[Path, _recipe.Section] = {}

    def __repr__(self) -> str:
        return f"Pipeline({self.modality}, {len(self._section.transforms)} transforms, seed {self._recipe.seed})"

    def for_output(self, relative_path: str, copy: int) -> np.random.Generator:
        """The generator `augcli run` uses for copy `copy` of the input at `relative_path` (POSIX,
        relative to INPUT): rendering that file with it gives the run's bytes."""
        return rng_for(self._recipe.seed, relative_path, copy)

    def partner_slots(self) -> int:
        """How many other samples one call may mix in (mosaic, mixup, ...): pass that many as
        `partners=` (fewer are used round the list); 0 when the recipe mixes nothing."""
        from augcli.build.plan import partner_slots

        return partner_slots(self._section.transforms)

    def claims(self, relative_path: str) -> bool:
        """Whether the section's include / exclude globs take the file at `relative_path`."""
        from augcli.core.globs import claims

        return claims(self._section, relative_path)

    def __call__(self, sample: Any, rng: np.random.Generator | None = None, **targets: Any) -> Augmented:
        """Augment one sample. Images: a HxW or HxWxC uint8/uint16 array or a PIL image, with
        optional `boxes=` (N x 4, in `box_format=` xyxy, xywh or yolo) and `labels=`, `mask=` (HxW)
        and `keypoints=` (K x 2|3, or N x K x 2|3 with boxes). Audio: float32 samples, (frames,) or
        (channels, frames), with `sample_rate=`. Text: a string or a list of strings. Tabular: a
        DataFrame (one augmented variant of every row). Without `rng`, fresh entropy is used."""
        rng = rng if rng is not None else np.random.default_rng()
        return self._run(sample, rng, None, targets)

    def replay(self, sample: Any, records: Sequence[dict[str, Any]], **targets: Any) -> Augmented:
        """Apply recorded parameters (an `Augmented.records`, or a manifest row's `transforms`
        parsed from JSON) to `sample` with no randomness; takes the same targets as a call."""
        return self._run(sample, None, list(records), targets)

    def render(self, path: str | Path, copy: int = 0, *, input_root: str | Path | None = None) -> bytes:
        """The bytes `augcli run` writes for copy `copy` of the file at `path` (for a table: the
        whole output table). With `input_root` (the INPUT of the run), `path` is relative to it or
        absolute inside it, and annotations pair as they do in the run. Without it, the working
        folder stands for INPUT: a path relative to it (`circle/circle_00.jpg`), or absolute inside
        it, names the file as a run over the working folder does; a file outside it renders as in a
        run over its own folder. A section that reads more of INPUT than the file (an image
        section's annotations, masks or data.yaml) raises ValueError asking for `input_root`."""
        if input_root is None:
            needs = _reads_input(self._section)
            if needs:
                raise ValueError(
                    f"the {self.modality} section reads {needs} under INPUT: pass input_root= (the folder "
                    f"`augcli run` reads) so {Path(path).name} renders with them as in the run"
                )
            source = Path(path)
            relative, section = _named_from_cwd(source), self._section
        else:
            if not Path(input_root).is_dir():
                raise ValueError(f"input_root {input_root} is not a folder")
            relative = _inside(Path(input_root), Path(path))
            source = Path(input_root).resolve() / relative  # the run reads INPUT resolved
            section = self._bound(Path(input_root).resolve())
        if not source.is_file():
            where = f" under input_root {input_root}" if input_root is not None else ""
            raise FileNotFoundError(f"{path}: no such file{where}")
        if self._modality.layout(relative, section) == "table":
            rngs = FileRngs(self._recipe.seed, relative)
            data = self._modality.render_table(source, section, self._recipe.copies, rngs).data
            return data if isinstance(data, bytes) else b"".join(data)  # a large table is made in chunks
        mixing = self._partners(Path(input_root), relative, copy) if input_root is not None else {}
        (rendered,) = list(self._modality.render(source, section, [self.for_output(relative, copy)], **mixing))
        return rendered.data if isinstance(rendered.data, bytes) else b"".join(rendered.data)  # a video's chunks

    def _partners(self, root: Path, relative: str, copy: int) -> dict[str, Any]:
        """The partners `augcli run` draws for copy `copy` of `relative` (its plan of INPUT), for a
        section that mixes pictures; none otherwise."""
        from augcli.build.plan import build_plan, partner_slots

        section = self._section
        if not partner_slots(section.transforms) and not isinstance(section.balance, dict):
            return {}
        plan = build_plan(self._recipe, root.resolve())
        job = next((job for job in plan.jobs if job.relative == relative), None)
        drawer = plan.drawers.get(self.modality)
        if job is None or drawer is None:
            return {}
        paste = next((o.paste for o in job.outputs if o.copy == copy), ())
        mixing: dict[str, Any] = {"partners": [drawer.draw(relative, copy, paste)]}
        if paste:
            mixing["paste"] = [paste]
        return mixing

    def _bound(self, root: Path) -> _recipe.Section:
        """The section bound to INPUT `root` as a run binds it (its annotations read once per root);
        a copy, so calls on samples and renders with other roots are not affected."""
        bound = self._bound_to.get(root)
        if bound is None:
            bound = dataclasses.replace(self._section, bound={})
            self._modality.prepare(bound, root)
            self._bound_to = {root: bound}  # the last root only: a COCO json may be large
        return bound

    def _run(self, sample: Any, rng: np.random.Generator | None, records: list | None, targets: dict) -> Augmented:
        run = getattr(_online, self.modality, None) if self.modality in _IN_MEMORY else None
        if run is None:
            raise TypeError(f"a {self.modality} pipeline augments files: call pipeline.render(path, copy)")
        return run(self._section, sample, rng, records, targets)


_IN_MEMORY = ("image", "audio", "text", "tabular")  # the modalities whose samples a call takes (augcli.online)


def _reads_input(section: _recipe.Section) -> str:
    """What a section reads of INPUT beyond the file it augments, '' when nothing: an image
    section's annotations (and their data.yaml or classes file) and masks change its copies."""
    options = section.options
    annotations, masks = options.get("annotations") or {}, options.get("masks") or {}
    found = []
    if annotations.get("format", "none") != "none":
        found.append(f"{annotations['format']} annotations")
    if annotations.get("classes"):
        found.append(annotations["classes"])
    if masks.get("path"):
        found.append("masks")
    from augcli.build.plan import partner_slots

    if partner_slots(section.transforms) or isinstance(section.balance, dict):
        found.append("the other pictures it mixes in")
    return " and ".join(found)


def _named_from_cwd(path: Path) -> str:
    """`path` as a run over the working folder names it (the seed follows the name); the file's
    own name when it lies outside the working folder (a run over its own folder)."""
    try:
        return _inside(Path.cwd(), path)
    except ValueError:
        return path.name


def _inside(root: Path, path: Path) -> str:
    """`path` (relative to `root`, or absolute inside it) as the POSIX path a run over `root` names
    it by; links along the way are followed only when the path does not lie under `root` as written."""
    written = Path(os.path.abspath(root / path))  # `..` folded, links kept: the run's own spelling
    for base, candidate in ((Path(os.path.abspath(root)), written), (root.resolve(), written.resolve())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    raise ValueError(f"{path} is not inside input_root {root} (give a path relative to it, or absolute inside it)")
