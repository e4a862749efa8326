"""Recipe loading and validation: YAML in, a validated `Recipe` out, or every problem at once.

Each problem names the recipe file, the line, the key path (`image.transforms[2].rotate.degrees`)
and what to write instead; a misspelt name gets the closest valid one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.core.errors import RecipeError as RecipeError  # (defined where the command line reads it cheaply)
from augcli.core.files import NotRegularFileError, open_input
from augcli.core.params import Flag, Globs, Number, Param, ParamError, Target, TransformList
from augcli.core.suggest import did_you_mean
from augcli.core.transforms import Composition, Transform, transforms_for
from augcli.core.yamlsource import KeyPath, LineMap, YamlSourceError, format_path, load_with_lines

GLOBAL_KEYS = {
    "seed": Number(0, "seed for every random choice; --seed overrides", integer=True, lo=0),
    "copies": Number(1, "augmented copies per input file; --copies overrides", integer=True, lo=0, hi=100000),
    "keep_original": Flag(True, "also place the untouched input in OUTPUT"),
}
SECTION_KEYS = {
    "include": Globs(None, "files the section claims (default: the modality's file types)"),
    "exclude": Globs((), "files it leaves alone, even when include matches"),
    "transforms": Param(None, "the list of transforms each copy goes through, in order"),
    "passthrough": Globs(
        (),
        "claimed files copied into OUTPUT untouched, with their labels and masks, never augmented (e.g. "
        '["val/**", "test/**"]); a glob also matches any tail of the path, so val/** matches images/val/a.jpg',
    ),
    "balance": Target(
        None,
        "give smaller classes more copies until each class has about max (as many files as the largest) "
        "or this many files; copies is the floor. Classes: the parent folder, or an image's rarest box class. "
        "{by: object, ratio: 2}: paste objects of short classes into the copies instead (annotated images)",
    ),
}
SECTION_KEYS["transforms"].kind = "list of transforms"
BALANCED = ("image", "audio", "text")  # modalities whose copies are files of their own, counted per class
MAX_RECIPE_BYTES = 1 << 20


@dataclass
class Section:
    """One modality's part of the recipe: which files it claims and what it does to them."""

    modality: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    transforms: list[Transform]
    options: dict[str, Any] = field(default_factory=dict)
    keep_original: bool = True  # the recipe's, for modalities that write originals and copies into one table
    passthrough: tuple[str, ...] = ()  # globs of claimed files copied untouched (validation and test splits)
    balance: str | int | dict | None = None  # per-class target: "max", a number of files, or {by: object}
    bound: dict[str, Any] = field(default_factory=dict)  # what the plan learnt of INPUT (annotation layout)


@dataclass
class Recipe:
    seed: int
    copies: int
    keep_original: bool
    sections: dict[str, Section]
    source: str = "recipe"
    text: str = ""  # the recipe as written (kept in OUTPUT/.augcli/run.json for `augcli replay`)
    base_dir: Path | None = None  # where its relative paths start


class _Checker:
    """Collects located problems while walking the recipe."""

    def __init__(self, source: str, lines: LineMap, base_dir: Path) -> None:
        self.source, self.lines, self.problems, self.base_dir = source, lines, [], base_dir

    def fail(self, path: KeyPath, message: str) -> None:
        line = self.lines.line(path)
        where = f"{self.source}, line {line}" if line else self.source
        self.problems.append((line or 0, f"{where}: {format_path(path) or 'recipe'}: {message}"))

    def messages(self) -> list[str]:
        """The problems in the order of the lines they point at."""
        return [message for _, message in sorted(self.problems, key=lambda item: item[0])]

    def param(self, param: Any, value: Any, path: KeyPath) -> Any:
        try:
            return param.read(value)
        except ParamError as exc:
            for inner, message in exc.all():
                self.fail(path + inner, message)
            return None


def _modalities() -> dict[str, Any]:
    from augcli.core.modalities import MODALITIES

    return MODALITIES


def _globs(check: _Checker, value: Any, path: KeyPath) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        check.fail(path, 'expected a glob or a list of globs, e.g. ["*.jpg", "*.png"]')
        return ()
    return tuple(value)


def _unknown_key(check: _Checker, key: str, valid: list[str], path: KeyPath, what: str) -> None:
    check.fail(path + (key,), f"unknown {what} '{key}'{did_you_mean(key, valid)} (valid: {', '.join(valid)})")


def _transform(check: _Checker, node: Any, path: KeyPath, modality: str) -> Transform | None:
    available = transforms_for(modality)
    if isinstance(node, str):
        name, args = node, {}
    elif isinstance(node, dict) and len(node) == 1:
        ((name, args),) = node.items()
    elif isinstance(node, dict) and node:
        names = [k for k in node if k in available]
        if len(names) == 1 and node[names[0]] is None:
            others = ", ".join(str(k) for k in node if k != names[0])
            check.fail(
                path,
                f"'{others}' sits beside '{names[0]}' instead of under it: indent the parameters "
                f"one level deeper, or write - {names[0]}: {{...}}",
            )
        else:
            check.fail(
                path, f"one transform per list entry, found keys {', '.join(map(str, node))}: start each with '- '"
            )
        return None
    else:
        check.fail(path, f"expected a transform such as '- hflip' or '- rotate: {{degrees: 10}}', got {node!r}")
        return None
    name = str(name)
    cls = available.get(name)
    if cls is None:
        check.fail(
            path,
            f"unknown {modality} transform '{name}'{did_you_mean(name, available)}; "
            f"'augcli transforms {modality}' lists them",
        )
        return None
    here = path + (name,)
    children: list[Transform] = []
    if issubclass(cls, Composition):
        if isinstance(args, list):  # the short form: the list sits right under the name
            args, list_path = {"transforms": args}, here
        else:
            list_path = here + ("transforms",)
        if not isinstance(args, dict) or not isinstance(args.get("transforms"), list):
            check.fail(here, f"{name} takes a list of transforms, or a mapping with 'transforms:' and its options")
            return None
        args = dict(args)
        for index, child in enumerate(args.pop("transforms")):
            built = _transform(check, child, list_path + (index,), modality)
            if built is not None:
                children.append(built)
    if args is None:
        args = {}
    if not isinstance(args, dict):
        check.fail(here, f"parameters of {name} are a mapping like {{p: 0.5}}, got {args!r}")
        return None
    problems_before = len(check.problems)
    for key, value in args.items():
        if key not in cls.params:
            _unknown_key(check, str(key), list(cls.params), here, f"parameter of {name}")
        else:
            check.param(cls.params[key], value, here + (key,))
    for key, param in cls.params.items():
        if param.required and key not in args:
            check.fail(here, f"{name} needs '{key}' ({param.doc})")
    if len(check.problems) > problems_before:
        return None
    transform = cls(children, **args) if issubclass(cls, Composition) else cls(**args)
    for key, message in transform.check() + transform.check_files(check.base_dir):
        check.fail(here + (key,), message)
    return transform


def _option(check: _Checker, param: Any, value: Any, path: KeyPath) -> Any:
    """A section option: checked by its declaration, or built as transforms (a TransformList)."""
    if not isinstance(param, TransformList):
        return check.param(param, value, path)
    if not isinstance(value, list):
        check.fail(path, f"expected a list of {param.modality} transforms, e.g. [gain, {{add_noise: {{snr_db: 20}}}}]")
        return ()
    built = [_transform(check, step, path + (i,), param.modality) for i, step in enumerate(value)]
    return tuple(t for t in built if t is not None)


def _section(check: _Checker, name: str, node: Any) -> Section | None:
    modality = _modalities()[name]
    path: KeyPath = (name,)
    if not isinstance(node, dict):
        check.fail(path, f"the {name} section is a mapping with at least 'transforms:'")
        return None
    valid = list(SECTION_KEYS) + list(modality.options)
    for key in node:
        if key not in valid:
            _unknown_key(check, str(key), valid, path, f"key in the {name} section")
    include = _globs(check, node["include"], path + ("include",)) if "include" in node else modality.default_include
    exclude = _globs(check, node["exclude"], path + ("exclude",)) if "exclude" in node else ()
    passthrough = check.param(SECTION_KEYS["passthrough"], node.get("passthrough"), path + ("passthrough",))
    balance = check.param(SECTION_KEYS["balance"], node.get("balance"), path + ("balance",))
    if balance is not None and name not in BALANCED:
        check.fail(
            path + ("balance",),
            "tables are balanced by resample: {method: random_oversample} (or smote), which makes rows, not files",
        )
    options = {
        key: _option(check, param, node[key], path + (key,)) if key in node else param.default_value()
        for key, param in modality.options.items()
    }
    steps = node.get("transforms")
    optional = modality.transforms_optional
    if steps is None and optional:
        steps = []
    elif not isinstance(steps, list) or (not steps and not optional):
        check.fail(path + ("transforms",) if "transforms" in node else path, "needs a non-empty list of transforms")
        steps = []
    transforms = [_transform(check, step, path + ("transforms", i), name) for i, step in enumerate(steps)]
    transforms = [t for t in transforms if t is not None]
    if not check.problems:
        for key, message in modality.check_options(options, transforms, check.base_dir):
            check.fail(path + (key,) if key in node else path, message)
    return Section(name, include, exclude, transforms, options, passthrough=passthrough or (), balance=balance)


def parse_recipe(text: str, source: str = "recipe", base_dir: Path | None = None) -> Recipe:
    """Validate recipe text; raise RecipeError listing every problem found.

    Relative paths inside the recipe (e.g. a noise folder) start at `base_dir`, the recipe file's
    folder when loaded from a file, else the working directory.
    """
    try:
        data, lines = load_with_lines(text)
    except YamlSourceError as exc:
        where = f"{source}, line {exc.line}" if exc.line else source
        raise RecipeError([f"{where}: {exc}"]) from None
    check = _Checker(source, lines, base_dir if base_dir is not None else Path.cwd())
    if data is None:
        raise RecipeError([f"{source}: the recipe is empty; it needs at least a section such as 'image:'"])
    if not isinstance(data, dict):
        raise RecipeError(
            [f"{source}: a recipe is a mapping of keys such as seed, copies and image, got {type(data).__name__}"]
        )
    modalities = _modalities()
    values = {key: param.default_value() for key, param in GLOBAL_KEYS.items()}
    sections: dict[str, Section] = {}
    for key, node in data.items():
        key = str(key)
        if key in GLOBAL_KEYS:
            values[key] = check.param(GLOBAL_KEYS[key], node, (key,))
        elif key in modalities:
            section = _section(check, key, node)
            if section is not None:
                sections[key] = section
        else:
            _unknown_key(check, key, list(GLOBAL_KEYS) + list(modalities), (), "key")
    if not sections and not check.problems:
        check.fail(
            (), f"no modality section: add one of {', '.join(modalities)}, e.g. 'image: {{transforms: [hflip]}}'"
        )
    if check.problems:
        raise RecipeError(check.messages())
    for section in sections.values():
        section.keep_original = values["keep_original"]
    return Recipe(values["seed"], values["copies"], values["keep_original"], sections, source, text, check.base_dir)


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file."""
    path = Path(path)
    try:
        with open_input(path) as handle:  # a FIFO or a device is refused before a byte is read
            data = handle.read(MAX_RECIPE_BYTES + 1)
        if len(data) > MAX_RECIPE_BYTES:
            raise RecipeError([f"{path}: the recipe is over {MAX_RECIPE_BYTES // 1024} KiB; is it the right file?"])
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise RecipeError([f"{path}: recipe file not found"]) from None
    except IsADirectoryError:
        raise RecipeError([f"{path}: is a folder, not a recipe file"]) from None
    except NotRegularFileError as exc:
        raise RecipeError([f"{path}: a recipe must be a regular file: {exc.strerror}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError([f"{path}: cannot read the recipe: {exc}"]) from None
    return parse_recipe(text, str(path), path.parent)
