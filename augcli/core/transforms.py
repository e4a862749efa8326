"""The transform base class, the registry and the compositions `one_of` / `some_of`.

A transform first samples its parameters from the rng it is given (`sample`), then a modality
applies them with a pure kernel. `plan` walks a pipeline, deciding what fires and with which
parameters, without touching any data; the result is what the manifest records.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from augcli.core.params import Number, Param, ParamError, Probability, Span

REGISTRY: dict[str, dict[str, type[Transform]]] = {}
ANY_MODALITY = "*"


@dataclass(frozen=True)
class Applied:
    """One transform that fired for one output: the parameters it drew and the input it saw."""

    transform: Transform
    params: dict[str, Any]
    info: Any

    def record(self, step: int | None = None) -> dict[str, Any]:
        """The manifest's record; `step` (the transform's place among the recipe's leaves) is added
        when the recipe lists a transform of this name more than once, so replay finds the right one."""
        record = {"name": self.transform.name, "params": self.params}
        if step is not None:
            record["step"] = step
        return record


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Transform:
    """Base class. Subclasses declare `Param` class attributes; they become the recipe keys."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    # Bumped when a transform's output bytes change for the same parameters (a new kernel): part of
    # the up-to-date key of the outputs it makes, so a rerun remakes those and nothing else.
    output_version: ClassVar[int] = 1
    mixes: ClassVar[bool] = False  # takes other inputs (mosaic, mixup, ...): not lent to other modalities
    added_later: ClassVar[tuple[str, ...]] = ()  # parameters added after release: see settings()
    recorded_notes: ClassVar[tuple[str, ...]] = ()  # recorded for the reader, not drawn from their setting

    p = Probability()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param] = {}
        for klass in cls.__mro__:  # the class's own parameters first, then inherited ones
            for key, value in vars(klass).items():
                if isinstance(value, Param) and key not in declared:
                    declared[key] = value
        cls.params = {"p": declared.pop("p"), **declared}

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.params)
        if unknown:
            raise TypeError(f"{self.name}: unknown parameters {sorted(unknown)}")
        for key, param in self.params.items():
            value = param.read(values[key]) if key in values else param.default_value()
            setattr(self, key, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.params)
        return f"{type(self).__name__}({args})"

    @classmethod
    def describe(cls) -> str:
        """The first line of the docstring: the one-line description shown to users."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    def settings(self) -> dict[str, Any]:
        """The parsed recipe values, JSON-friendly: what a table's manifest records of a transform
        (its per-row draws are too many to list) and what its outputs' up-to-date keys hash. A
        parameter added after release is left out while it holds its default, so a recipe that
        does not use it keeps its keys (no rebuild) and its records."""
        return {
            key: list(v) if isinstance(v, tuple) else v
            for key, v in vars(self).items()
            if key in self.params and not (key in self.added_later and v == self.params[key].default_value())
        }

    def check(self) -> list[tuple[str, str]]:
        """Cross-parameter checks: (key, message) pairs; empty when the settings make sense."""
        return []

    def check_files(self, base_dir: Path) -> list[tuple[str, str]]:
        """Resolve and check the files a transform reads (relative paths start at the recipe's folder)."""
        return []

    def dependencies(self) -> list[str]:
        """Files or folders this transform reads (resolved by check_files): their content is part of
        every output's up-to-date key."""
        return []

    def partner_slots(self) -> int:
        """How many other inputs this step mixes in (mosaic, mixup, ...): drawn for every output
        before it is made (see core/partners.py); 0 for a step that sees one input."""
        return 0

    def sample(self, rng: np.random.Generator, info: Any) -> dict[str, Any]:
        """Draw this output's parameters; JSON-friendly values only (they go into the manifest)."""
        return {}

    def replay_problem(self, params: dict[str, Any], info: Any) -> str | None:
        """Why recorded parameters (read back from a manifest: untrusted) are not ones this step
        could have drawn from its recipe, or None. Each value named like one of the step's number
        or range parameters must be a finite number inside it (an edited rate of 1e-6 would
        stretch a second of audio into hours); a step that records derived values (boxes,
        counts, files) checks them in its own override, and this for the rest where it applies."""
        return _outside_settings(self, params)

    def output_info(self, info: Any, params: dict[str, Any]) -> Any:
        """What the data looks like after this transform (e.g. a new image size)."""
        return info

    def plan(self, rng: np.random.Generator, info: Any) -> tuple[list[Applied], Any]:
        """Decide whether this transform fires (p=1 draws nothing) and, if so, plan it."""
        if self.p < 1.0 and not rng.random() < self.p:
            return [], info
        return self.plan_fired(rng, info)

    def plan_fired(self, rng: np.random.Generator, info: Any) -> tuple[list[Applied], Any]:
        """Draw the parameters of a transform that fires."""
        params = self.sample(rng, info)
        return [Applied(self, params, info)], self.output_info(info, params)


_SLACK = 1e-9  # relative: a draw of [lo, hi] written as JSON and read back is still inside


def _outside_settings(transform: Transform, params: dict[str, Any]) -> str | None:
    """Why a recorded value lies outside its own parameter's setting (see replay_problem), or None."""
    for key, value in params.items():
        param = transform.params.get(key)
        if not isinstance(param, Number) or isinstance(param, Probability) or key in transform.recorded_notes:
            continue
        why = range_problem(key, value, getattr(transform, key, None), param.integer)
        if why is not None:
            return why
    return None


def range_problem(key: str, value: Any, setting: Any, integer: bool = False) -> str | None:
    """Why a recorded `value` is not a finite number (a whole one, with `integer`) within `setting`
    (a (lo, hi) range or one number; None sets no bound), or None. numpy's numbers count (records
    a training loop kept in an array)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return f"{key} is {value!r}, not a finite number"
    if integer and not is_whole(value):
        return f"{key} is {value!r}, not a whole number"
    if isinstance(setting, tuple) and len(setting) == 2:
        lo, hi = setting
    elif isinstance(setting, (int, float)) and not isinstance(setting, bool):
        lo = hi = setting
    else:
        return None  # not set: the step draws it some other way
    slack = 0 if integer else _SLACK * max(1.0, abs(lo), abs(hi))
    if not lo - slack <= value <= hi + slack:
        return f"{key} {value!r} is outside the recipe's {_show(lo, hi)}"
    return None


def is_whole(value: Any) -> bool:
    """An integer of Python's or numpy's, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def first_problem(problems: Iterable[str | None]) -> str | None:
    """The first of some checks' answers that names a problem (checks after it are not run)."""
    return next((why for why in problems if why is not None), None)


def list_problem(key: str, value: Any, most: int) -> str | None:
    """Why a recorded list is not a list of at most `most` entries, the most the recipe draws."""
    if not isinstance(value, list) or len(value) > most:
        return f"{key} must be a list of at most {most}, the most this recipe draws"
    return None


def _show(lo: float, hi: float) -> str:
    return f"{lo:g}" if lo == hi else f"[{lo:g}, {hi:g}]"


SEED_LIMIT = 2**63  # seeds handed to kernels that draw their own noise are below this


def uniform(rng: np.random.Generator, span: tuple[float, float]) -> float:
    """A value drawn from [lo, hi]; a fixed range draws nothing (so adding `p` cannot shift other draws)."""
    lo, hi = span
    return float(lo) if lo == hi else float(rng.uniform(lo, hi))


def draw_seed(rng: np.random.Generator) -> int:
    """A seed for a kernel's own generator, recorded in the manifest so its noise replays."""
    return int(rng.integers(SEED_LIMIT))


def register(modality: str):
    """Class decorator: add a transform to the registry under its recipe key."""

    def add(cls: type[Transform]) -> type[Transform]:
        cls.name = cls.name or _snake(cls.__name__)
        cls.modality = modality
        REGISTRY.setdefault(modality, {})[cls.name] = cls
        return cls

    return add


BORROWS = {"video": ("image",)}  # a video section also takes every picture transform


def transforms_for(modality: str) -> dict[str, type[Transform]]:
    """Every transform a section of `modality` may use, compositions included."""
    from augcli.core.modalities import MODALITIES

    if modality in MODALITIES:
        MODALITIES[modality]  # modalities load on first use; their transforms register then
    found: dict[str, type[Transform]] = {}
    for lender in BORROWS.get(modality, ()):  # its single-picture steps: mixing needs partners of one kind
        found.update({name: cls for name, cls in REGISTRY.get(lender, {}).items() if not cls.mixes})
    for name in (modality, ANY_MODALITY):
        found.update(REGISTRY.get(name, {}))
    return found


def leaves(transforms: Sequence[Transform]) -> list[Transform]:
    """Every transform that does work, compositions opened up, in recipe order."""
    out: list[Transform] = []
    for transform in transforms:
        out += leaves(transform.children) if isinstance(transform, Composition) else [transform]
    return out


def plan_pipeline(transforms: Sequence[Transform], rng: np.random.Generator, info: Any) -> tuple[list[Applied], Any]:
    """Plan a list of transforms in order, threading the data description through."""
    applied: list[Applied] = []
    for transform in transforms:
        fired, info = transform.plan(rng, info)
        applied.extend(fired)
    return applied, info


class ReplayError(ValueError):
    """Recorded parameters that do not fit the recipe's transforms (another recipe, an edited record)."""


def records_of(transforms: Sequence[Transform], applied: Sequence[Applied]) -> list[dict[str, Any]]:
    """The records of a copy's steps, each with its `step` when its name is not unique in the recipe."""
    places = _repeated_places(transforms)
    return [a.record(places.get(id(a.transform))) for a in applied]


def _repeated_places(transforms: Sequence[Transform]) -> dict[int, int]:
    """id -> place among the recipe's leaves of every transform whose name the recipe lists more
    than once. Kept for the last leaves seen: a training loop asks for the same section's on every
    call, and counting names again cost more than the records themselves."""
    steps = tuple(leaves(transforms))  # compared by identity: a changed list or composition misses
    kept = _PLACES.get(id(transforms))
    if kept is not None and kept[0] == steps:
        return kept[1]
    names = [t.name for t in steps]
    places = {id(t): i for i, t in enumerate(steps) if names.count(t.name) > 1}
    if len(_PLACES) >= 8:
        _PLACES.clear()
    _PLACES[id(transforms)] = (steps, places)
    return places


_PLACES: dict[int, tuple[tuple, dict[int, int]]] = {}


def replay_pipeline(transforms: Sequence[Transform], records: Sequence[dict[str, Any]], info: Any) -> list[Applied]:
    """The steps a copy took, rebuilt from its manifest records with no randomness: each record is
    matched, in order, to the next transform of the recipe with its name (a one_of's pick, some_of's
    subset), and its recorded parameters are used as they are once the step finds them ones it
    could have drawn (records are read back from OUTPUT: untrusted). Records of no transform
    (notes such as `boxes` or `unique`) are passed over."""
    steps = leaves(transforms)
    names = {t.name for t in steps}
    applied: list[Applied] = []
    position = 0
    for record in records:
        name = record.get("name") if isinstance(record, dict) else None
        if name not in names:
            continue
        params = record.get("params", {})
        if not isinstance(params, dict):
            raise ReplayError(f"the record of {name} has no parameters object")
        position = _step_of(steps, position, record, params, info)
        transform = steps[position]
        position += 1
        applied.append(Applied(transform, dict(params), info))
        info = transform.output_info(info, params)
    return applied


def _step_of(steps: list[Transform], position: int, record: dict[str, Any], params: dict[str, Any], info: Any) -> int:
    """The place of the step that made a record: its `step` when recorded (a recipe that lists the
    name more than once), else the next step of its name from `position` that finds the parameters
    its own; a record without `step` (written before steps were numbered) that its first match
    refuses is tried on the later steps of its name. ReplayError when none takes it."""
    name, step = record["name"], record.get("step")
    if type(step) is int and position <= step < len(steps):
        position = step
    candidates = [k for k in range(position, len(steps)) if steps[k].name == name]
    if not candidates:
        raise ReplayError(f"the record of {name} does not follow the recipe's order of transforms")
    first_refusal = None
    for k in candidates if step is None else candidates[:1]:
        why = steps[k].replay_problem(params, info)
        if why is None:
            return k
        first_refusal = first_refusal or why
    raise ReplayError(f"the record of {name} is not one this recipe could have drawn: {first_refusal}")


class Composition(Transform):
    """A transform made of child transforms; the recipe builder fills `children`."""

    children: list[Transform]

    def __init__(self, children: Sequence[Transform] = (), **values: Any) -> None:
        super().__init__(**values)
        self.children = list(children)


class _Weights(Param):
    kind = "list of numbers >= 0"

    def parse(self, value: Any) -> tuple[float, ...] | None:
        if value is None:
            return None
        number = Number(lo=0.0)
        if not isinstance(value, list) or not value:
            raise ParamError(f"expected a list of numbers, got {value!r}")
        weights = tuple(number.parse(v) for v in value)
        if sum(weights) <= 0:
            raise ParamError("weights must not all be zero")
        return weights


@register(ANY_MODALITY)
class OneOf(Composition):
    """Apply exactly one of the listed transforms, chosen at random (optionally weighted)."""

    weights = _Weights(None, "relative weight per listed transform; equal when omitted")

    def check(self) -> list[tuple[str, str]]:
        if not self.children:
            return [("transforms", "one_of needs at least one transform")]
        if self.weights is not None and len(self.weights) != len(self.children):
            return [("weights", f"{len(self.weights)} weights for {len(self.children)} transforms: give one each")]
        return []

    def plan_fired(self, rng: np.random.Generator, info: Any) -> tuple[list[Applied], Any]:
        if self.weights is None:
            index = int(rng.integers(len(self.children)))
        else:
            total = np.cumsum(self.weights)
            index = int(np.searchsorted(total, rng.random() * total[-1], side="right"))
        return self.children[min(index, len(self.children) - 1)].plan(rng, info)


@register(ANY_MODALITY)
class SomeOf(Composition):
    """Apply n distinct transforms chosen at random from the list, in the listed order."""

    n = Span(None, "how many to apply: a number or [lo, hi]; default [1, all]", integer=True, lo=0)

    def check(self) -> list[tuple[str, str]]:
        if not self.children:
            return [("transforms", "some_of needs at least one transform")]
        if self.n is not None and self.n[1] > len(self.children):
            return [("n", f"n goes up to {self.n[1]} but only {len(self.children)} transforms are listed")]
        return []

    def plan_fired(self, rng: np.random.Generator, info: Any) -> tuple[list[Applied], Any]:
        lo, hi = self.n if self.n is not None else (1, len(self.children))
        count = int(rng.integers(lo, hi + 1))
        chosen = sorted(rng.choice(len(self.children), size=count, replace=False).tolist())
        return plan_pipeline([self.children[i] for i in chosen], rng, info)
