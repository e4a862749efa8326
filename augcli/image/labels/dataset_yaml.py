"""An ultralytics dataset file (data.yaml): its classes, splits and keypoint shape, and the copy
of it that OUTPUT gets, pointing at OUTPUT.

Ultralytics resolves `train:`/`val:`/`test:` against `path:`, or the file's own folder when there
is none. The written file has no `path:` and its splits relative to its own folder, so
`yolo train data=OUTPUT/data.yaml` trains on the augmented set wherever OUTPUT is moved to (and
the file's bytes do not depend on where OUTPUT lives).

A split may be an image list (`train: train.txt`, one image path per line; `./` starts a path
relative to the list's folder, as ultralytics reads it). OUTPUT gets the list at the same place,
rewritten to name every output of each listed image (the original if kept, then its copies), as
`./` paths relative to the list's folder. `splits` (what the planner sees) holds a split's
folders; `listed` the images its lists name, which the image section checks for leaks itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from augcli.core.files import read_input
from augcli.core.words import plural
from augcli.core.yamlsource import YamlSourceError, load_with_lines

SPLITS = ("train", "val", "test", "minival")
YAML_LIMIT = 16 << 20
NAMES = ("data.yaml", "data.yml")


@dataclass(frozen=True)
class DatasetFile:
    """What augcli reads of a data.yaml; paths relative to INPUT."""

    relative: str
    class_count: int
    names: tuple[str, ...] = ()  # class names by id
    kpt_shape: tuple[int, int] | None = None
    flip_idx: tuple[int, ...] = ()
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # split -> folders under INPUT
    warnings: tuple[str, ...] = ()
    entries: dict[str, tuple[str, ...]] = field(default_factory=dict)  # split -> its folders and list files
    lists: dict[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)  # list -> (line, image)
    listed: dict[str, frozenset[str]] = field(default_factory=dict)  # split -> the images its lists name


def find(input_root: Path) -> str | None:
    """The data.yaml at INPUT's top, if there is one: any entry of that name but a folder (a FIFO,
    a device or a dangling link is found, and its read fails naming it: never silently skipped)."""
    return next((name for name in NAMES if _names_a_file(input_root / name)), None)


def _names_a_file(path: Path) -> bool:
    """Whether something other than a folder is at `path` (a plain file, or one that cannot be read)."""
    return os.path.lexists(path) and not path.is_dir()


def load(path: Path) -> dict[str, Any]:
    """A data.yaml's keys, read as the recipe is: size, nesting and alias expansion bounded (a
    kilobyte of nested aliases must not build gigabytes)."""
    try:
        data, _ = load_with_lines(read_input(path, YAML_LIMIT).decode("utf-8-sig"))
    except YamlSourceError as exc:
        line = f" (line {exc.line})" if exc.line else ""
        raise ValueError(f"{path.name}{line}: {str(exc).replace('the recipe', 'it')}") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a mapping of keys (names, train, val, ...)")
    return data


def _resolve(entry: str, roots: list[Path], input_root: Path) -> str | None:
    """An entry of train/val/test as a path relative to INPUT, or None when it is not under INPUT."""
    resolved_root = input_root.resolve()
    candidates = [Path(entry)] if Path(entry).is_absolute() else [root / entry for root in roots]
    if entry.startswith("../"):
        candidates += [root / entry[3:] for root in roots]  # as ultralytics tries it
    for candidate in candidates:
        real = Path(os.path.normpath(candidate.resolve()))
        if real.exists() and (real == resolved_root or resolved_root in real.parents):
            return real.relative_to(resolved_root).as_posix() if real != resolved_root else ""
    return None


def read(input_root: Path, relative: str) -> DatasetFile:
    """Read names, splits, kpt_shape and flip_idx; raise ValueError naming the key that is wrong."""
    path = input_root / relative
    try:
        data = load(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {relative}: {exc}") from None
    names = data.get("names")
    if isinstance(names, dict) and names:
        wrong = [k for k in names if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(names)]
        if wrong:
            raise ValueError(
                f"{relative}: names: the keys of a names mapping are the class ids 0..{len(names) - 1}, "
                f"got {wrong[0]!r} (write names: {{0: person, 1: car}} or a list)"
            )
    if isinstance(names, (list, dict)) and names:
        class_count = len(names)
        names = [str(n) for n in (names if isinstance(names, list) else [names[k] for k in sorted(names)])]
    elif isinstance(data.get("nc"), int):
        class_count = data["nc"]
    else:
        raise ValueError(f"{relative} has no 'names:' list of classes")
    kpt_shape, flip_idx = None, ()
    if data.get("kpt_shape") is not None:
        shape = data["kpt_shape"]
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape)) or (
            shape[0] < 1 or shape[1] not in (2, 3)
        ):
            raise ValueError(f"{relative}: kpt_shape must be [keypoints, 2 or 3], e.g. [17, 3], got {shape!r}")
        kpt_shape = (shape[0], shape[1])
    if data.get("flip_idx") is not None:
        flip_idx = check_flip_idx(data["flip_idx"], kpt_shape[0] if kpt_shape else None, f"{relative}: flip_idx")
    yaml_dir = path.parent
    roots = [yaml_dir]
    if isinstance(data.get("path"), str):
        named = Path(data["path"])  # ultralytics: absolute, or relative to the working folder
        roots[:0] = [named] if named.is_absolute() else [Path.cwd() / named, yaml_dir / named]
    splits, written, lists, listed, warnings = {}, {}, {}, {}, []
    for split in SPLITS:
        value = data.get(split)
        entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found, folders, held = [], [], []
        for entry in entries:
            where = _resolve(str(entry), roots, input_root)
            if where is None:
                warnings.append(f"{relative}: {split}: {entry} is not under INPUT; the written copy keeps it as it is")
                continue
            found.append(where)
            if where.lower().endswith(".txt") and _names_a_file(input_root / where):  # a FIFO fails its read
                if where not in lists:
                    lists[where], outside = read_list(input_root, where, roots)
                    if outside:
                        warnings.append(
                            f"{where}: {plural(len(outside), 'line')} {'names' if len(outside) == 1 else 'name'} "
                            f"no file under INPUT, e.g. {outside[0]}; "
                            "the written list keeps them as they are"
                        )
                held += [image for _, image in lists[where] if image is not None]
            else:
                folders.append(where)
        if found:
            written[split] = tuple(found)
        if folders:
            splits[split] = tuple(folders)
        if held:
            listed[split] = frozenset(held)
    for split in ("train", "val"):
        if not data.get(split):
            warnings.append(f"{relative} has no '{split}:' key; ultralytics needs both train and val")
    names = tuple(names) if isinstance(names, list) else ()
    return DatasetFile(
        relative, class_count, names, kpt_shape, flip_idx, splits, tuple(warnings), written, lists, listed
    )


Lines = tuple[tuple[str, "str | None"], ...]  # a list's lines, each with the image under INPUT it names


def read_list(input_root: Path, relative: str, roots: list[Path]) -> tuple[Lines, list[str]]:
    """An image list's lines, each with the image it names under INPUT (None if it names none there),
    and the lines that name nothing under INPUT. `./x` is relative to the list's folder (ultralytics'
    rule); another relative line is tried there, then against the dataset's roots."""
    path = input_root / relative
    try:
        text = read_input(path, YAML_LIMIT).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the image list {relative}: {exc}") from None
    lines, outside = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        entry = line[2:] if line.startswith("./") else line
        where = _resolve(entry, [path.parent] if line.startswith("./") else [path.parent, *roots], input_root)
        if where is not None and not (input_root / where).is_file():
            where = None
        if where is None:
            outside.append(line)
        lines.append((line, where))
    return tuple(lines), outside


def check_flip_idx(value: Any, keypoints: int | None, where: str) -> tuple[int, ...]:
    """flip_idx must be a permutation of the keypoint indices that undoes itself (left <-> right)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{where} must be a list of keypoint indices, got {value!r}")
    count = keypoints if keypoints is not None else len(value)
    if sorted(value) != list(range(count)):
        raise ValueError(f"{where} must list each of the {count} keypoint indices 0..{count - 1} once, got {value!r}")
    if any(value[v] != i for i, v in enumerate(value)):
        raise ValueError(f"{where} must pair keypoints both ways (if 1 maps to 2, 2 maps to 1), got {value!r}")
    return tuple(value)


def rewrite(input_root: Path, dataset: DatasetFile) -> bytes:
    """The data.yaml for OUTPUT: `path:` dropped, splits under INPUT (folders, image lists) relative
    to the file's folder."""
    data = load(input_root / dataset.relative)
    yaml_dir = PurePosixPath(dataset.relative).parent
    written: dict[str, Any] = {}
    for key, value in data.items():
        if key == "path":
            continue
        if key in dataset.entries:
            folders = [os.path.relpath(PurePosixPath(f or "."), yaml_dir) for f in dataset.entries[key]]
            folders = [PurePosixPath(f).as_posix() for f in folders]
            value = folders[0] if isinstance(value, str) and len(folders) == 1 else folders
        written[key] = value
    head = (
        "# Written by augcli from INPUT's data.yaml. There is no 'path:': the dataset is this file's\n"
        "# folder, so `yolo train data=<this file>` trains on the augmented set.\n"
    )
    return (head + yaml.safe_dump(written, sort_keys=False, allow_unicode=True)).encode("utf-8")


def rewrite_list(dataset: DatasetFile, relative: str, outputs: dict[str, list[str]]) -> bytes:
    """An image list for OUTPUT: each listed image's outputs (`outputs`: image under INPUT -> its
    output paths, original first), as `./` paths relative to the list's folder, in the list's order;
    a line that named nothing under INPUT is kept as it was."""
    folder = PurePosixPath(relative).parent
    lines: dict[str, None] = {}
    for line, image in dataset.lists[relative]:
        if image is None:
            lines[line] = None
            continue
        for output in outputs.get(image, []):
            lines["./" + PurePosixPath(os.path.relpath(output, folder)).as_posix()] = None
    return "".join(f"{line}\n" for line in lines).encode("utf-8")
