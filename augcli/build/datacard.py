"""OUTPUT/README.md: a Hugging Face dataset card whose `configs:` list the data files, so that
`datasets.load_dataset(str(OUTPUT))` reads them and nothing else.

Without a card, `datasets` reads every file of a folder whose format is the folder's most common
one: an OUTPUT of CSV (or TSV) tables has `manifest.csv` read as one more table, and the load fails
on its columns. With one, it reads only the files the card lists ("Manual configuration",
https://huggingface.co/docs/hub/datasets-manual-configuration).

`datasets` picks one builder for a whole dataset, from the files of its first config, and gives
it every config; so the card lists the files of one reader (the kind most files are: images,
audio, `.txt`, CSV, TSV, JSON lines, Parquet), and names the others in its text. Splits follow
`datasets`' folder rule (a folder named train, val, test, ... anywhere in the path); files under
none are `train`. The text is a pure function of its arguments: the same files give the same bytes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath

MODALITIES = ("image", "audio", "text", "tabular")

_IMAGE = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
_AUDIO = (".aif", ".aiff", ".au", ".caf", ".flac", ".mp3", ".oga", ".ogg", ".w64", ".wav")
# suffix -> (reader, the builder parameters it needs); a reader is one `datasets` builder + its options
_READERS: dict[str, tuple[str, dict[str, str]]] = {
    **{suffix: ("imagefolder", {}) for suffix in _IMAGE},
    **{suffix: ("audiofolder", {}) for suffix in _AUDIO},
    ".txt": ("text", {}),
    ".csv": ("csv", {}),
    ".tsv": ("tsv", {"sep": "\t"}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
}
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


def reader_of(path: str) -> str | None:
    """The `datasets` builder that reads a file of this name, or None."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    reader = _READERS.get(name[dot:].lower()) if dot > 0 else None  # as PurePosixPath.suffix, without its cost
    return reader[0] if reader else None


def _majority(paths: Iterable[str]) -> str | None:
    counts: dict[str, int] = defaultdict(int)
    for path in paths:
        reader = reader_of(path)
        if reader is not None:
            counts[reader] += 1
    return max(counts, key=lambda name: (counts[name], name)) if counts else None


def needed(data_files: list[str], all_files: list[str]) -> bool:
    """Whether `load_dataset(OUTPUT)` would read anything but the data without a card. `datasets`
    takes the reader of the kind most of OUTPUT's files are (manifest.csv included) and reads every
    file of that kind: the manifest beside CSV tables, YOLO label files beside images, masks as
    images; and it leaves out data of other kinds (a text section's tables beside its .txt files)."""
    everything = [*all_files, "manifest.csv"]
    reader = _majority(everything)
    read = {path for path in everything if reader_of(path) == reader}
    return reader is not None and read != set(data_files)


MODALITY_OF_READER = {"imagefolder": "image", "audiofolder": "audio", "text": "text"}


def for_units(units: dict[str, dict], sections: Iterable[str]) -> tuple[bytes, str] | None:
    """The card of an OUTPUT whose state holds `units`, made by a recipe with these sections, and
    the modality it describes; None when a load of OUTPUT needs none. The data are the units' main
    files (an image, a table), not their companions (labels, masks) nor run-wide files."""
    from augcli.build.manifest import decode_path

    own = {unit: record for unit, record in units.items() if not record.get("run")}
    data = sorted(own)
    everything = sorted(decode_path(f[0]) for record in own.values() for f in record["files"])
    if not needed(data, everything) or _majority(data) is None:
        return None
    reader = _majority(data)
    modality = MODALITY_OF_READER.get(reader or "", "tabular" if "tabular" in set(sections) else "text")
    return card(data, modality), modality


def card(data_files: list[str], modality: str) -> bytes:
    """README.md text (UTF-8) for an OUTPUT whose data files are `data_files` (POSIX paths
    relative to OUTPUT) of `modality`."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, not {modality!r}")
    groups: dict[str, list[str]] = defaultdict(list)
    unnamed = []  # names that are not UTF-8 (Linux allows any bytes): a YAML card cannot list them
    for path in data_files:
        if path.startswith("/") or ".." in PurePosixPath(path).parts:
            raise ValueError(f"data files are paths relative to OUTPUT: {path!r}")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            unnamed.append(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        reader = _READERS.get(PurePosixPath(path).suffix.lower())
        groups[reader[0] if reader else ""].append(path)
    unread = sorted(groups.pop("", [])) + sorted(unnamed)
    if not groups:
        raise ValueError("no data file Hugging Face datasets can read")
    reader = max(groups, key=lambda name: (len(groups[name]), name))
    files = sorted(groups.pop(reader))
    params = next(options for name, options in _READERS.values() if name == reader)

    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    by_split: dict[str, list[str]] = defaultdict(list)
    for path in files:
        by_split[_split_of(path)].append(path)
    for split in _SPLIT_ORDER:
        if by_split[split]:
            lines += [f"  - split: {split}", "    path:"]
            lines += [f"    - {_quoted(_escape(path))}" for path in by_split[split]]
    lines += [f"  {key}: {_quoted(value)}" for key, value in sorted(params.items())]
    lines += ["---", ""]
    text = f"augcli wrote this card: the augmented {modality} data files ({len(files)}), for Hugging Face datasets."
    others = sorted(p for group in groups.values() for p in group) + unread
    if others:
        text += f" Not listed ({len(others)}, another format): {', '.join(others)}."
    lines.append(text)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _split_of(path: str) -> str:
    for folder in PurePosixPath(path).parts[:-1]:
        if folder.lower() in _SPLITS:
            return _SPLITS[folder.lower()]
    return "train"


def _escape(path: str) -> str:
    """The glob pattern that matches `path` alone (datasets resolves data_files as globs)."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in path)


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(value, ensure_ascii=False)
