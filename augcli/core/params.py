"""Declared transform parameters: each parses a recipe value, documents itself and its default.

A transform lists its parameters as class attributes; validation, defaults, `augcli transforms`
and the README table all read these declarations, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


class ParamError(ValueError):
    """A recipe value that a parameter cannot accept; the message says what would be accepted.

    `key` names a sub-key when the error lies inside a nested mapping (see `Options`).
    """

    def __init__(self, message: str, key: str | None = None, problems: list[tuple[tuple, str]] | None = None):
        super().__init__(message)
        self.key = key
        self.problems = problems  # every problem of a nested mapping: (key path inside it, message)

    def all(self) -> list[tuple[tuple, str]]:
        """(key path, message) for each problem, so validation can report them all at once."""
        return self.problems or [((self.key,) if self.key else (), str(self))]


_MISSING = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Param:
    """One recipe parameter: its default, the values it accepts and a one-line meaning."""

    kind = "value"

    def __init__(self, default: Any = _MISSING, doc: str = "") -> None:
        self.default = default
        self.doc = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def read(self, value: Any) -> Any:
        """`parse`, where null means "not set" for a parameter whose default is none, as leaving
        the key out does (`size: null` is the default kernel, not an error)."""
        return None if value is None and self.default is None else self.parse(value)

    def default_value(self) -> Any:
        """The parsed default (parsing it once keeps defaults and recipe values in one form)."""
        return None if self.default is None or self.required else self.parse(self.default)

    def show_default(self) -> str:
        return "required" if self.required else _fmt(self.default)


class Number(Param):
    """A single number within [lo, hi]; `integer` demands a whole number."""

    def __init__(
        self,
        default: Any = _MISSING,
        doc: str = "",
        *,
        lo: float | None = None,
        hi: float | None = None,
        integer: bool = False,
        lo_open: bool = False,
    ) -> None:
        super().__init__(default, doc)
        self.lo, self.hi, self.integer, self.lo_open = lo, hi, integer, lo_open

    @property
    def kind(self) -> str:  # type: ignore[override]
        return ("int" if self.integer else "number") + self.bounds()

    def bounds(self) -> str:
        """The accepted range as the reference shows it: ' in [lo, hi]', ' > lo', ' <= hi' or ''."""
        lo = None if self.lo is None else f"{'(' if self.lo_open else '['}{_fmt(self.lo)}"
        if lo is not None and self.hi is not None:
            return f" in {lo}, {_fmt(self.hi)}]"
        if lo is not None:
            return f" {'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        return "" if self.hi is None else f" <= {_fmt(self.hi)}"

    def _check(self, value: Any) -> float | int:
        if not _is_number(value):
            raise ParamError(f"expected a {'whole number' if self.integer else 'number'}, got {value!r}")
        if self.integer and not float(value).is_integer():
            raise ParamError(f"expected a whole number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"expected a finite number, got {value!r}")
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            raise ParamError(f"{_fmt(value)} is out of range: must be {'>' if self.lo_open else '>='} {_fmt(self.lo)}")
        if self.hi is not None and value > self.hi:
            raise ParamError(f"{_fmt(value)} is out of range: must be <= {_fmt(self.hi)}")
        return int(value) if self.integer else float(value)

    def parse(self, value: Any) -> float | int:
        return self._check(value)


class Probability(Number):
    def __init__(self, default: float = 1.0, doc: str = "chance that the transform fires") -> None:
        super().__init__(default, doc, lo=0.0, hi=1.0)


class Span(Number):
    """A range [lo, hi] to draw from. A scalar is shorthand, defined by `scalar`:

    - "symmetric": x -> [-x, x]     - "around_one": x -> [1 - x, 1 + x]
    - "fixed": x -> [x, x]          - "upto": x -> [0, x]
    """

    _SHORTHAND = {
        "symmetric": lambda x: (-x, x),
        "around_one": lambda x: (1.0 - x, 1.0 + x),
        "fixed": lambda x: (x, x),
        "upto": lambda x: (0, x),
    }
    _SHORTHAND_DOC = {
        "symmetric": "x means [-x, x]",
        "around_one": "x means [1-x, 1+x]",
        "fixed": "x means [x, x]",
        "upto": "x means [0, x]",
    }

    def __init__(self, default: Any = _MISSING, doc: str = "", *, scalar: str = "fixed", **bounds: Any) -> None:
        super().__init__(default, doc, **bounds)
        if scalar not in self._SHORTHAND:
            raise ValueError(f"unknown scalar shorthand {scalar!r}")
        self.scalar = scalar

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"{'int' if self.integer else 'number'} range{self.bounds()} ({self._SHORTHAND_DOC[self.scalar]})"

    def parse(self, value: Any) -> tuple[float, float]:
        if _is_number(value):
            if self.scalar in ("symmetric", "around_one", "upto") and value < 0:
                raise ParamError(f"the shorthand {self._SHORTHAND_DOC[self.scalar]} needs x >= 0, got {_fmt(value)}")
            expanded = self._SHORTHAND[self.scalar](value)
            if self.scalar != "fixed":
                try:
                    [self._check(v) for v in expanded]
                except ParamError as exc:
                    raise ParamError(f"{_fmt(value)} means {_fmt(list(expanded))} here, but {exc}") from None
            value = expanded
        elif not (_is_list(value) and len(value) == 2):
            raise ParamError(f"expected a number or a range [lo, hi], got {value!r}")
        lo, hi = (self._check(v) for v in value)
        if lo > hi:
            raise ParamError(f"range [{_fmt(lo)}, {_fmt(hi)}] is reversed: write [low, high]")
        return (lo, hi)


class Choice(Param):
    """One of a fixed set of words."""

    def __init__(self, default: Any, options: Sequence[str], doc: str = "") -> None:
        super().__init__(default, doc)
        self.options = tuple(options)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return " | ".join(self.options)

    def parse(self, value: Any) -> str:
        if value not in self.options:
            from augcli.core.suggest import did_you_mean

            raise ParamError(
                f"expected one of {', '.join(self.options)}, got {value!r}{did_you_mean(str(value), self.options)}"
            )
        return value


class Flag(Param):
    kind = "true | false"

    def parse(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"expected true or false, got {value!r}")
        return value


MAX_SIDE = 16384  # pixels per side of an output size a recipe may ask for
MAX_PIXELS = 8192 * 8192  # ... and in all (below Pillow's decompression-bomb limit)


class Size(Param):
    """An output size in pixels: [height, width], or one number for a square, up to MAX_SIDE per
    side and MAX_PIXELS in all."""

    kind = f"[height, width] or int (at most {MAX_SIDE} per side, {MAX_PIXELS:,} pixels)"

    def parse(self, value: Any) -> tuple[int, int] | None:
        if value is None and not self.required:
            return None
        if _is_number(value):
            value = [value, value]
        if not (_is_list(value) and len(value) == 2):
            raise ParamError(f"expected [height, width] or one number, got {value!r}")
        if not all(_is_number(v) and float(v).is_integer() and v >= 1 for v in value):
            raise ParamError(f"sizes are whole numbers >= 1, got {value!r}")
        height, width = int(value[0]), int(value[1])
        if max(height, width) > MAX_SIDE or height * width > MAX_PIXELS:
            raise ParamError(
                f"{height}x{width} is too large: at most {MAX_SIDE} pixels per side and {MAX_PIXELS:,} in all"
            )
        return (height, width)


class Fill(Param):
    """A fill value on the 0-255 scale: one number for every colour channel or one per channel."""

    kind = "number or [r, g, b]"

    def parse(self, value: Any) -> tuple[float, ...]:
        values = [value] if _is_number(value) else value
        if not (_is_list(values) and 1 <= len(values) <= 4):
            raise ParamError(f"expected a number or a list of 1-4 numbers on the 0-255 scale, got {value!r}")
        for v in values:
            if not _is_number(v) or not 0 <= v <= 255:
                raise ParamError(f"fill values are numbers in [0, 255], got {v!r}")
        return tuple(float(v) for v in values)


class IntList(Param):
    """A non-empty list of whole numbers drawn from `allowed`."""

    def __init__(self, default: Any, allowed: Sequence[int], doc: str = "") -> None:
        super().__init__(default, doc)
        self.allowed = tuple(allowed)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "list of " + ", ".join(str(a) for a in self.allowed)

    def parse(self, value: Any) -> tuple[int, ...]:
        if _is_number(value):
            value = [value]
        if not (_is_list(value) and value):
            raise ParamError(f"expected a non-empty list from {list(self.allowed)}, got {value!r}")
        for v in value:
            if v not in self.allowed or isinstance(v, bool):
                raise ParamError(f"{v!r} is not allowed: choose from {list(self.allowed)}")
        return tuple(int(v) for v in value)


class Options(Param):
    """A nested mapping of named parameters, e.g. a section's `output: {format: png}`."""

    def __init__(self, fields: dict[str, Param], doc: str = "") -> None:
        super().__init__({}, doc)
        self.fields = fields
        for key, param in fields.items():
            param.name = key

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "mapping of " + ", ".join(self.fields)

    def parse(self, value: Any) -> dict[str, Any]:
        from augcli.core.suggest import did_you_mean

        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ParamError(f"expected a mapping of {', '.join(self.fields)}, got {value!r}")
        problems: list[tuple[tuple, str]] = []
        for key in value:
            if key not in self.fields:
                problems.append(((str(key),), f"unknown key '{key}'{did_you_mean(str(key), self.fields)}"))
        parsed = {}
        for key, param in self.fields.items():
            try:
                parsed[key] = param.read(value[key]) if key in value else param.default_value()
            except ParamError as exc:
                problems += [((key, *inner), message) for inner, message in exc.all()]
        if problems:
            (first_key, first_message), *_ = problems
            raise ParamError(first_message, key=str(first_key[0]) if first_key else None, problems=problems)
        return parsed

    def show_default(self) -> str:
        return ", ".join(f"{k}: {p.show_default()}" for k, p in self.fields.items())


class Text(Param):
    """A string, e.g. a path; empty only when `empty_ok`."""

    kind = "text"

    def __init__(self, default: Any = _MISSING, doc: str = "", *, empty_ok: bool = False) -> None:
        super().__init__(default, doc)
        self.empty_ok = empty_ok

    def parse(self, value: Any) -> str | None:
        if value is None and not self.required:
            return None
        if not isinstance(value, str) or not (value.strip() or self.empty_ok):
            raise ParamError(f"expected {'a' if self.empty_ok else 'a non-empty'} text, got {value!r}")
        return value


class Names(Param):
    """A list of column names (one name alone is a list of one)."""

    kind = "list of column names"

    def parse(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        values = [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if not _is_list(values) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise ParamError(f"expected a column name or a list of column names, got {value!r}")
        return tuple(str(v) for v in values)


class Indices(Param):
    """A list of whole numbers 0 or more (e.g. keypoint indices); empty or absent means none."""

    kind = "list of indices"

    def parse(self, value: Any) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not _is_list(value) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise ParamError(f"expected a list of whole numbers from 0, e.g. [0, 2, 1, 4, 3], got {value!r}")
        return tuple(value)


class Globs(Param):
    """A list of globs (one glob alone is a list of one)."""

    kind = "list of globs"

    def parse(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        values = [value] if isinstance(value, str) else value
        if not _is_list(values) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ParamError(f'expected a glob or a list of globs, e.g. ["val/**", "test/**"], got {value!r}')
        return tuple(values)


MAX_BALANCE = 10_000_000  # files per class a `balance:` may ask for


class Target(Param):
    """How many files each class should end with: `max` (as many as the largest class) or a number;
    or `{by: object, ratio: r}`: objects pasted into copies until no class has fewer than 1/r of
    the largest class's objects."""

    kind = "max, a number, or {by: object, ratio: 2}"

    @staticmethod
    def _by(value: dict) -> dict[str, Any]:
        unknown = set(value) - {"by", "ratio"}
        if unknown or value.get("by") != "object":
            raise ParamError(
                "expected {by: object} (optionally with ratio: the largest class's objects over the "
                f"smallest's, at most), got {value!r}"
            )
        ratio = value.get("ratio", 2)
        if not _is_number(ratio) or not 1 <= ratio <= 1000:
            raise ParamError(f"ratio is a number from 1 to 1000, got {ratio!r}")
        return {"by": "object", "ratio": float(ratio)}

    def parse(self, value: Any) -> str | int | dict[str, Any] | None:
        if value is None or value is False:
            return None
        if isinstance(value, dict):
            return self._by(value)
        if value == "max":
            return "max"
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_BALANCE:
            return value
        raise ParamError(
            "expected max (as many files as the largest class) or a number of files per class "
            f"(1 to {MAX_BALANCE:,}), got {value!r}"
        )


class TransformList(Param):
    """A list of transforms of another modality inside a section (a video's audio track): the
    recipe builds and checks them as it does a section's own `transforms:`."""

    def __init__(self, modality: str, doc: str = "") -> None:
        super().__init__((), doc)
        self.modality = modality

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"list of {self.modality} transforms"

    def default_value(self) -> Any:
        return ()

    def show_default(self) -> str:
        return "[]"

    def parse(self, value: Any) -> Any:
        raise ParamError("built by the recipe")  # core/recipe.py builds these with the section's own
