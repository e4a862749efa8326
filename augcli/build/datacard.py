"""OUTPUT/README.md: a Hugging Face dataset card whose `configs:` list the data files, so that
`datasets.load_dataset(str(OUTPUT))` reads them and nothing else.

Without a card, `datasets` counts OUTPUT's files by extension (every suffix of a name counts),
takes the builder of the most common one (on a draw: parquet, then jsonl, json, csv, then the
extension; datasets/load.py, infer_module_for_data_files_list) and reads every file that builder
reads: one TSV table beside manifest.csv draws with it and the manifest is read as a table; so do
one .txt copy, or one .jpg and one .png. The card is written whenever that count does not pick the
data's builder by a clear margin, or would read anything but the data ("Manual configuration",
https://huggingface.co/docs/hub/datasets-manual-configuration).

`datasets` picks one builder for a whole dataset, from the files of its first config, and gives it
every config: so a card can load one builder's files. The first config (`default`) holds the data
of the builder most data files need; another variant of that builder (TSV beside CSV: another
separator) is a config of its own, and the files of other builders (a JSON lines table beside a
CSV table) are named in the card's text with the `load_dataset` call that reads them. Splits
follow `datasets`' folder rule (a folder named train, val, test, ... anywhere in the path); files
under none are `train`. The text is a pure function of its arguments: the same files give the same
bytes.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath

MODALITIES = ("image", "audio", "video", "text", "tabular")

# datasets.packaged_modules._EXTENSION_TO_MODULE, for what augcli writes and what sits beside it:
# extension -> (builder, the parameters that builder needs for it)
_IMAGE = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
_AUDIO = (".aiff", ".au", ".caf", ".flac", ".mp3", ".ogg", ".opus", ".w64", ".wav", ".webm")
_VIDEO = (".avi", ".mkv", ".mov", ".mp4", ".mpeg")
_MODULES: dict[str, tuple[str, dict[str, str]]] = {
    **{suffix: ("imagefolder", {}) for suffix in _IMAGE},
    **{suffix: ("audiofolder", {}) for suffix in _AUDIO},
    **{suffix: ("videofolder", {}) for suffix in _VIDEO},
    ".txt": ("text", {}),
    ".csv": ("csv", {"sep": ","}),
    ".tsv": ("csv", {"sep": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".ndjson": ("json", {}),
    ".parquet": ("parquet", {}),
    ".arrow": ("arrow", {}),
    ".xml": ("xml", {}),  # VOC annotations: counted, never card data
}
# what a card may list as data: not VOC's .xml, nor .webm (audiofolder's in datasets: a video would be
# read as its sound track)
_DATA = {suffix for suffix in _MODULES if suffix not in (".xml", ".webm")}
# datasets' split keywords (datasets.data_files.SPLIT_KEYWORDS), matched against folder names
_SPLITS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "dev": "validation",
    "val": "validation",
    "test": "test",
    "testing": "test",
    "eval": "test",
    "evaluation": "test",
}
_SPLIT_ORDER = ("train", "validation", "test")


CARD_NAME = "README.md"


def _suffix(path: str) -> str:
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""  # as PurePosixPath.suffix, without its cost


def reader_of(path: str) -> str | None:
    """The `datasets` builder a card reads this data file with, or None."""
    suffix = _suffix(path)
    return _MODULES[suffix][0] if suffix in _DATA else None


def _preference(suffix: str) -> tuple:
    """datasets' order among extensions of equal count (higher first)."""
    return tuple(suffix == s for s in (".parquet", ".lance", ".vortex", ".arrow", ".jsonl", ".json", ".csv")) + (
        suffix,
    )


def _hidden(path: str) -> bool:
    """A file datasets' folder listing skips: hidden, or in a hidden or __special__ folder."""
    parts = path.split("/")
    return any(part.startswith(".") for part in parts) or any(part.startswith("__") for part in parts[:-1])


def _suffixes(path: str) -> list[str]:
    """Every suffix of a file's name, as datasets counts them (a.tar.csv: .tar and .csv)."""
    return ["." + part.lower() for part in path.rpartition("/")[2].split(".")[1:]]


def _count_suffixes(counts: Counter[str], path: str) -> None:
    """Count every suffix of a file's name that datasets knows."""
    for suffix in _suffixes(path):
        if suffix in _MODULES:
            counts[suffix] += 1


def _inferred(counts: Counter[str]) -> str | None:
    """The builder datasets infers for files of these suffix counts, or "" when extensions of
    different builders draw for the most common (datasets' versions break that draw differently);
    None: no file datasets knows."""
    if not counts:
        return None
    top = max(counts.values())
    builders = {_MODULES[suffix][0] for suffix, count in counts.items() if count == top}
    return builders.pop() if len(builders) == 1 else ""


def _distinct(paths: Iterable[str]) -> Iterator[str]:
    """Sorted paths without repeats."""
    last = None
    for path in paths:
        if path != last:
            yield path
            last = path


def needed(data_files: list[str], all_files: list[str]) -> bool:
    """Whether `load_dataset(OUTPUT)` could read anything but the data without a card: datasets
    infers one builder per split from the most common extension of its files (manifest.csv
    included) and reads every file of that builder (the manifest beside tables, YOLO label files
    beside images, masks as images), leaving out data of other kinds. A draw counts as a misread.
    Worked through sorted lists, with no set of the files: a million-file OUTPUT's card is
    decided without a few hundred MB of them."""
    everything = [path for path in _distinct(sorted([*all_files, "manifest.csv"])) if not _hidden(path)]
    by_split: dict[str, Counter[str]] = defaultdict(Counter)
    for path in everything:
        _count_suffixes(by_split[_split_of(path)], path)
    builders = {_inferred(counts) for counts in by_split.values()} - {None}
    if len(builders) != 1 or "" in builders:
        return True
    builder = builders.pop()
    exts = {suffix for suffix, (name, _) in _MODULES.items() if name == builder}
    read = (path for path in everything if any(suffix in exts for suffix in _suffixes(path)))
    data = _distinct(sorted(data_files))
    return any(a != b for a, b in itertools.zip_longest(read, data))


_MODALITY_OF_BUILDER = {"imagefolder": "image", "audiofolder": "audio", "videofolder": "video", "text": "text"}


def for_units(
    units: Mapping[str, Mapping] | Iterable[tuple[str, Mapping]], sections: Iterable[str]
) -> tuple[bytes, str] | None:
    """The card of an OUTPUT whose state holds `units` (a mapping, or its (unit, record) pairs: a
    run passes the planned ones without copying a million records into a dict), made by a recipe
    with these sections, and the modality it describes; None when a load of OUTPUT needs none.
    The data are the units' main files (an image, a table), not their companions (labels, masks)
    nor run-wide files."""
    from augcli.build.manifest import decode_path

    data: list[str] = []
    everything: list[str] = []  # run-wide files too (VOC ImageSets lists are .txt files): datasets counts them
    for unit, record in units.items() if isinstance(units, Mapping) else units:
        if not record.get("run"):
            data.append(unit)
        if unit != CARD_NAME:
            everything.extend(decode_path(f[0]) for f in record["files"])
    data.sort()
    everything.sort()
    builder = _main_builder(data)
    if builder is None or not needed(data, everything):
        return None
    present = set(sections)
    modality = _MODALITY_OF_BUILDER.get(builder, "tabular" if "tabular" in present else "text")
    if modality not in present and len(present) == 1:
        modality = next(iter(present))  # the card's manifest row names a section of the recipe (replay needs one)
    return card(data, modality), modality


def _main_builder(paths: Iterable[str]) -> str | None:
    """The builder of most data files (a draw: datasets' order of their best extension)."""
    counts: Counter[str] = Counter()
    best: dict[str, tuple] = {}
    for path in paths:
        reader = reader_of(path)
        if reader is not None:
            counts[reader] += 1
            best[reader] = max(best.get(reader, ()), _preference(_suffix(path)))
    return max(counts, key=lambda name: (counts[name], best[name])) if counts else None


def card(data_files: list[str], modality: str) -> bytes:
    """README.md text (UTF-8) for an OUTPUT whose data files are `data_files` (POSIX paths
    relative to OUTPUT) of `modality`."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, not {modality!r}")
    unread = []  # no builder reads them, or not UTF-8 (Linux allows any bytes): a YAML card cannot list them
    readable = []
    for path in data_files:
        if path.startswith("/") or ".." in PurePosixPath(path).parts:
            raise ValueError(f"data files are paths relative to OUTPUT: {path!r}")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            unread.append(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        (readable if reader_of(path) else unread).append(path)
    builder = _main_builder(readable)
    if builder is None:
        raise ValueError("no data file Hugging Face datasets can read")
    # variants: (builder, its parameters) -> files; the default config is the main builder's largest
    variants: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in readable:
        name, params = _MODULES[_suffix(path)]
        variants[(name, json.dumps(params, sort_keys=True))].append(path)
    own = sorted((v for v in variants if v[0] == builder), key=lambda v: (-len(variants[v]), v[1]))
    lines = ["---", "configs:"]
    for n, variant in enumerate(own):
        lines += [
            f"- config_name: {'default' if n == 0 else _config_name(variant, variants[variant])}",
            "  data_files:",
        ]
        for split, paths in _by_split(variants[variant]):
            lines += [f"  - split: {split}", "    path:"]
            lines += [f"    - {_quoted(_escape(path))}" for path in paths]
        lines += [f"  {key}: {_quoted(value)}" for key, value in sorted(json.loads(variant[1]).items())]
    lines += ["---", ""]
    listed = sum(len(variants[v]) for v in own)
    text = f"augcli wrote this card: the augmented {modality} data files ({listed}), for Hugging Face datasets."
    lines.append(text)
    others = sorted(v for v in variants if v[0] != builder)
    if others:
        lines += [
            "",
            "`datasets` reads one format per folder: the other data files load on their own:",
            "",
            "```python",
            "from datasets import load_dataset",
            "",
            'OUTPUT = "path/to/this/folder"',
        ]
        for name, params in others:
            options = "".join(f", {key}={_quoted(value)}" for key, value in sorted(json.loads(params).items()))
            split_files = dict(_by_split(variants[(name, params)]))
            files = split_files if len(split_files) > 1 else next(iter(split_files.values()))
            lines.append(
                f'load_dataset("{name}", data_dir=OUTPUT, data_files={json.dumps(files, ensure_ascii=False)}{options})'
            )
        lines.append("```")
    if unread:
        lines += ["", f"Not listed ({len(unread)}, no reader or a name YAML cannot hold): {', '.join(sorted(unread))}."]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _config_name(variant: tuple[str, str], paths: list[str]) -> str:
    return sorted({_suffix(path)[1:] for path in paths})[0]


def _by_split(paths: list[str]) -> list[tuple[str, list[str]]]:
    by_split: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        by_split[_split_of(path)].append(path)
    return [(split, sorted(by_split[split])) for split in _SPLIT_ORDER if by_split[split]]


def _split_of(path: str) -> str:
    """datasets' split of a file: that of its first folder named as one, else train (the folders
    as PurePosixPath(path).parts[:-1] names them, without a Path per file)."""
    folders = path.split("/")[:-1]
    for folder in folders:
        if folder.lower() in _SPLITS:
            return _SPLITS[folder.lower()]
    return "train"


def _escape(path: str) -> str:
    """The glob pattern that matches `path` alone (datasets resolves data_files as globs)."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in path)


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(value, ensure_ascii=False)
