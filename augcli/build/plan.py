"""Walk INPUT, give each file to the one section whose globs claim it, and name every output.

Everything here happens before anything is written, so a plan problem (two sections claiming
one file, two inputs that would write the same output) stops the run with nothing touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.core.balance import balanced_copies
from augcli.core.files import file_kind
from augcli.core.globs import claims, tail_matches
from augcli.core.recipe import Recipe

MANIFEST_NAME = "manifest.csv"
REPORT_NAME = "report.html"  # written by `run --report` and `augcli report`


class PlanError(Exception):
    """The dataset and the recipe do not fit together; nothing has been written."""


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # POSIX, relative to OUTPUT
    copy: int | None  # None for the untouched original
    companions: tuple[str, ...] = ()  # the files written with it (labels, masks), relative to OUTPUT
    partners: tuple[tuple[str, ...], ...] = ()  # per partner slot: the inputs it may mix in, in turn
    paste: tuple[str, ...] = ()  # `balance: {by: object}`: the classes whose objects are pasted in

    @property
    def files(self) -> tuple[str, ...]:
        return (self.path, *self.companions)


_PLAIN_SLOTS = (Output.path.__set__, Output.copy.__set__)  # (slots: member descriptors)
_EMPTY_SLOTS = (Output.companions.__set__, Output.partners.__set__, Output.paste.__set__)


def plain_output(path: str, copy: int | None) -> Output:
    """Output(path, copy): one with no companions, partners or paste, made without the frozen
    dataclass's __init__ (a third of its cost: a plan makes these on demand, see Job.planned)."""
    output = object.__new__(Output)
    _PLAIN_SLOTS[0](output, path)
    _PLAIN_SLOTS[1](output, copy)
    for empty in _EMPTY_SLOTS:
        empty(output, ())
    return output


def _copy_numbers(first: str, relative: str, count: int) -> list[int | None]:
    """The copy number of each of a job's outputs by its place: the original (whose path is the
    input's own; a copy's name has _aug<k>), if first, None, then copies 0, 1, ..."""
    offset = 1 if first == relative else 0
    return [None if k < offset else k - offset for k in range(count)]


@dataclass(frozen=True, slots=True)
class Job:
    """One input file and everything it produces (slots, and the source as text: a plan holds one
    per input, a million of them in a large dataset)."""

    root: str  # INPUT's folder as the walk named it, with its separator (one string all jobs share)
    relative: str  # POSIX, relative to INPUT
    modality: str
    planned: tuple[Output, ...] | tuple[str, ...]  # its outputs; when none has companions, partners or
    # paste, their paths alone (the original, if any, first, then copies 0, 1, ...): `outputs` makes
    # them on demand, so a plan holds no Output per file (about 150 bytes an input)
    table: bool = False  # one output table holding originals and copies (see Modality.layout)
    passthrough: bool = False  # copied into OUTPUT untouched (a validation or test split)
    group: str = ""  # its class, when the section is balanced

    @classmethod
    def of(cls, root: str, relative: str, modality: str, outputs: Sequence[Output | str], *args: Any) -> Job:
        """A job, its outputs held as paths when all are plain. `outputs`: each an Output, or the
        path alone of a plain one (the original, if any, first, then copies 0, 1, ...)."""
        plain = True
        for output in outputs:
            if type(output) is not str and (output.companions or output.partners or output.paste):
                plain = False
                break
        if plain:
            return cls(root, relative, modality, tuple([o if type(o) is str else o.path for o in outputs]), *args)
        first = outputs[0] if type(outputs[0]) is str else outputs[0].path  # type: ignore[union-attr]
        numbers = _copy_numbers(first, relative, len(outputs))
        made = tuple(plain_output(o, n) if type(o) is str else o for o, n in zip(outputs, numbers, strict=True))
        return cls(root, relative, modality, made, *args)

    @property
    def outputs(self) -> tuple[Output, ...]:
        planned = self.planned
        if not planned or type(planned[0]) is not str:
            return planned  # type: ignore[return-value]
        numbers = _copy_numbers(planned[0], self.relative, len(planned))
        return tuple(plain_output(path, n) for path, n in zip(planned, numbers, strict=True))

    @property
    def output_paths(self) -> tuple[str, ...]:
        planned = self.planned
        if not planned or type(planned[0]) is str:
            return planned  # type: ignore[return-value]
        return tuple(output.path for output in planned)  # type: ignore[union-attr]

    @property
    def written(self) -> tuple[str, ...]:
        """Every file its outputs write (each output's, then its companions)."""
        planned = self.planned
        if not planned or type(planned[0]) is str:
            return planned  # type: ignore[return-value]
        return tuple(path for output in planned for path in output.files)  # type: ignore[union-attr]

    @property
    def source_path(self) -> str:
        """The input's path as the walk found it (absolute when INPUT is): made on demand, so a
        plan of a million inputs holds no million whole paths (about 110 bytes an input)."""
        return self.root + self.relative

    @property
    def source(self) -> Path:
        return Path(self.root + self.relative)


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)
    special: list[tuple[str, str]] = field(default_factory=list)  # FIFOs, sockets, devices: never opened
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # folders that could not be listed: failures
    warnings: list[str] = field(default_factory=list)  # about the dataset: labels without images, ...
    splits: dict[str, list[int]] = field(default_factory=dict)  # split -> [files augmented, passed through]
    input_root: Path | None = None
    balance: dict[str, dict[str, tuple[int, int, int]]] = field(default_factory=dict)  # section -> class ->
    # (input files, fewest copies, most copies)
    objects: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # section -> class ->
    # (objects in INPUT, objects expected in OUTPUT) under `balance: {by: object}`
    drawers: dict[str, PartnerDrawer] = field(default_factory=dict)  # mixing sections: their partner draws
    folders: list[str] = field(default_factory=list)  # INPUT's folders OUTPUT mirrors though no output is in
    # them (an empty class folder): class-folder loaders number the classes of OUTPUT as of INPUT

    @property
    def source_prefix(self) -> str:
        """What the walk puts before each input's relative path: INPUT as named, with a separator."""
        return "" if self.input_root is None else os.path.join(os.fspath(self.input_root), "")

    @property
    def output_count(self) -> int:
        return sum(len(job.planned) for job in self.jobs)


def walk(
    root: Path,
    special: list[tuple[str, str]] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
    avoid: tuple[int, int] | None = None,
    folders: list[str] | None = None,
) -> Iterator[tuple[str, str]]:
    """Every file below `root` in sorted order, as (path, POSIX relative path): the path as text
    (a Path per file costs a large dataset's plan about 400 bytes a file).

    Iterative, so a tree thousands of folders deep cannot overflow the stack. Directory symlinks
    are followed, but each real directory is entered once, so a symlink loop cannot hang the walk.
    FIFOs, sockets and devices (directly or through a link) are never yielded: they go to
    `special` with the reason. A link that cannot be resolved (dangling, a loop) is yielded: that
    one input fails with its reason. Hidden files and folders (names starting with '.') are skipped.
    A folder that cannot be listed goes to `unreadable`; reaching the folder `avoid` (OUTPUT's
    device and inode: a link or bind mount inside INPUT) is a PlanError. `folders` gets every
    folder entered (POSIX, relative; "" for `root`).
    """
    seen: set[tuple[int, int]] = set()
    stack: list[Iterator[tuple[os.DirEntry, str]]] = []
    inside: dict[str, bool] = {}  # real folder -> whether it is OUTPUT or lies in it

    def in_output(folder: str) -> bool:
        """Whether a folder reached through a link is OUTPUT or inside it: (st_dev, st_ino) of each
        folder up its real path's chain compared with OUTPUT's (memoised: each folder once)."""
        chain, current = [], os.path.realpath(folder)
        while current not in inside:
            chain.append(current)
            with contextlib.suppress(OSError):
                info = os.stat(current)
                if (info.st_dev, info.st_ino) == avoid:
                    inside[current] = True
                    break
            parent = os.path.dirname(current)
            if parent == current:
                inside[current] = False
                break
            current = parent
        inside.update(dict.fromkeys(chain, inside[current]))
        return inside[current]

    def enter(folder: str, relative: str, linked: bool = False) -> None:
        try:
            info = os.stat(folder)
            within = (info.st_dev, info.st_ino) != avoid and linked and avoid is not None and in_output(folder)
            if (info.st_dev, info.st_ino) == avoid or within:
                raise PlanError(
                    f"INPUT/{relative} {'lies inside' if within else 'is'} OUTPUT (through a link or a mount): augcli "
                    "would read its own outputs; remove the link, or choose an OUTPUT that INPUT does not reach"
                )
            if (info.st_dev, info.st_ino) in seen:
                return
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: os.fsencode(e.name))
        except OSError as exc:
            if unreadable is not None:
                unreadable.append((relative or ".", f"cannot list this folder: {exc.strerror}"))
            return
        prefix = relative + "/" if relative else ""
        if folders is not None:
            folders.append(relative)
        stack.append(iter([(entry, prefix + entry.name) for entry in entries if not entry.name.startswith(".")]))

    enter(str(root), "")
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        entry, rel = item
        if not entry.is_symlink():  # the folder listing's own type: no system call
            if entry.is_dir(follow_symlinks=False):
                enter(entry.path, rel)
                continue
            if entry.is_file(follow_symlinks=False):
                yield entry.path, rel
                continue
        try:
            info = os.stat(entry.path)
        except OSError:  # a dangling link or a link loop: the file is tried and fails with its reason
            if entry.is_symlink():
                yield entry.path, rel
            continue
        if stat.S_ISDIR(info.st_mode):
            enter(entry.path, rel, linked=True)
        elif stat.S_ISREG(info.st_mode):
            yield entry.path, rel
        elif special is not None:
            special.append((rel, file_kind(info.st_mode)))


def copy_name(relative: str, copy: int, suffix: str) -> str:
    """`<stem>_aug<k><suffix>`: the name depends on the input's name and the copy index only, never
    on how many copies there are, so raising `copies` only adds files (format 3; before, k was
    zero-padded to the width of copies - 1)."""
    folder, slash, name = relative.rpartition("/")
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name  # as PurePosixPath.stem, without its cost
    return f"{folder}{slash}{stem}_aug{copy}{suffix}"


def shard_of(relative: str, shards: int) -> int:
    """The shard an input belongs to: a stable hash of its path, so shards are disjoint, cover every
    input, and do not move when other files come or go."""
    from augcli.core.seeding import stable_hash

    return stable_hash("shard:" + relative) % shards


def take_shard(plan: Plan, index: int, shards: int) -> None:
    """Keep the jobs of shard `index` of `shards` (the whole dataset was planned: balance and
    layout checks saw every file)."""
    plan.jobs = [job for job in plan.jobs if shard_of(job.relative, shards) == index]


SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val"}
SPLIT_NAMES |= {"test": "test", "testing": "test"}


def split_of(relative: str, splits: dict[str, tuple[str, ...]]) -> str:
    """The split a file belongs to: the data.yaml split whose folder holds it, else the first folder
    named like a split (train, val, valid, test, ...), else "all"."""
    for split, folders in splits.items():
        if any(not f or relative.startswith(f.rstrip("/") + "/") for f in folders):
            return split
    for part in relative.split("/")[:-1]:
        if part.lower() in SPLIT_NAMES:
            return SPLIT_NAMES[part.lower()]
    return "all"


def build_plan(recipe: Recipe, input_root: Path, output_root: Path | None = None, fold_case: bool = False) -> Plan:
    """Match every file to a section and name its outputs and their companions; raise PlanError on
    any conflict: two jobs that would write one OUTPUT path (compared case-folded when `fold_case`:
    OUTPUT's file system ignores case), or INPUT reaching OUTPUT through a link or mount."""
    from augcli.core.modalities import MODALITIES

    plan = Plan(input_root=input_root)
    avoid = None
    if output_root is not None:
        with contextlib.suppress(OSError):
            info = os.stat(output_root)
            avoid = (info.st_dev, info.st_ino)
    conflicts: list[str] = []
    written_by: dict[str, str] = {MANIFEST_NAME: "(the manifest)"}
    reserved: list[str] = []
    splits: dict[str, tuple[str, ...]] = {}
    for section in recipe.sections.values():
        try:
            prepared = MODALITIES[section.modality].prepare(section, input_root)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        reserved += [p.strip("/") for p in prepared.reserved]
        splits.update(prepared.splits)
    claimed: dict[str, list[str]] = {name: [] for name in recipe.sections}
    found: list[tuple[str, str, str]] = []
    input_folders: list[str] = []
    prefix = plan.source_prefix
    for path, relative in walk(input_root, plan.special, plan.unreadable, avoid, input_folders):
        if reserved and any(relative == r or relative.startswith(r + "/") for r in reserved):
            continue  # annotation files and masks: they travel with their images
        owners = [name for name, section in recipe.sections.items() if claims(section, relative)]
        if not owners:
            plan.unclaimed.append(relative)
            continue
        if len(owners) > 1:
            conflicts.append(
                f"{relative} is claimed by both the {owners[0]} and {owners[1]} sections: narrow their include globs"
            )
            continue
        root = prefix if path == prefix + relative else path[: len(path) - len(relative)]  # (always prefix)
        found.append((root, relative, owners[0]))  # the root, one string all share: no whole path kept per file
        claimed[owners[0]].append(relative)
    companions = {
        os.path.relpath(path, input_root).replace(os.sep, "/")
        for _, relative, name in found
        for path in MODALITIES[recipe.sections[name].modality].input_files(recipe.sections[name], relative)
    }
    if companions:  # label files travel with their images, even where another section's globs match them
        found = [item for item in found if item[1] not in companions]
        claimed = {name: [r for r in files if r not in companions] for name, files in claimed.items()}
        plan.unclaimed = [relative for relative in plan.unclaimed if relative not in companions]
    for name, section in recipe.sections.items():
        try:
            plan.warnings += MODALITIES[section.modality].review(section, claimed[name])
        except ValueError as exc:  # e.g. a COCO file that is not COCO: no image could use it
            raise PlanError(str(exc)) from None
    copies = _copies_per_file(recipe, found, plan)
    held, quotas = _object_balance(recipe, found, plan, splits)
    suffixes: dict[tuple[str, str], str] = {}
    for root, relative, name in found:
        section = recipe.sections[name]
        modality = MODALITIES[section.modality]
        passing = tail_matches(relative, section.passthrough)
        table = not passing and modality.layout(relative, section) == "table"

        def output(path: str, copy: int | None, paste: tuple[str, ...] = ()) -> Output:
            companions = tuple(modality.companion_paths(section, relative, path, copy))  # noqa: B023 (called at once)
            return Output(path, copy, companions, paste=paste) if companions or paste else path

        if table or passing:
            outputs = [output(relative, None)]
        else:
            base = relative.rpartition("/")[2]
            dot = base.rfind(".")
            source_suffix = base[dot:] if 0 < dot < len(base) - 1 else ""
            suffix = suffixes.get((name, source_suffix))
            if suffix is None:  # once per section and input suffix, not per input
                suffix = suffixes[name, source_suffix] = modality.output_suffix(source_suffix, section)
            count, _, _ = copies.get(relative, (recipe.copies, recipe.copies, ""))
            outputs = [output(relative, None)] if recipe.keep_original else []
            outputs += [output(copy_name(relative, k, suffix), k, quotas.get((relative, k), ())) for k in range(count)]
        for output in outputs:
            for written in (output,) if type(output) is str else output.files:
                name = unicodedata.normalize("NFC", written).casefold() if fold_case else written  # as macOS compares
                other = written_by.setdefault(name, relative)
                if other != relative:
                    case = " (OUTPUT's file system ignores case)" if fold_case else ""
                    conflicts.append(f"{relative} and {other} would both write {written}{case}: rename one")
        label = copies[relative][2] if relative in copies else ""
        plan.jobs.append(Job.of(root, relative, section.modality, tuple(outputs), table, passing, label))
        counts = plan.splits.setdefault(split_of(relative, splits), [0, 0])
        counts[1 if passing else 0] += 1
    plan.warnings += _split_warnings(plan, splits)
    plan.folders = _mirrored_folders(plan, input_folders, reserved)
    _draw_partners(recipe, plan, splits, held)
    if conflicts:
        shown = conflicts[:10] + ([f"... and {len(conflicts) - 10} more"] if len(conflicts) > 10 else [])
        raise PlanError("the recipe does not fit the dataset:\n  " + "\n  ".join(shown))
    return plan


def _mirrored_folders(plan: Plan, input_folders: list[str], reserved: list[str]) -> list[str]:
    """INPUT's folders that hold no output, beside a folder that does: an empty class folder, or one
    of only unclaimed files. Class-folder loaders (ImageFolder, Keras) list every folder beside the
    ones with data, so OUTPUT must have them to number its classes as INPUT's. Annotation folders
    (reserved) travel with their images and are not mirrored."""
    holding = {""}
    for job in plan.jobs:
        for written in job.written:
            folder = written.rpartition("/")[0]
            while folder not in holding:
                holding.add(folder)
                folder = folder.rpartition("/")[0]
    beside = {folder.rpartition("/")[0] for folder in holding if folder}  # parents of a folder with outputs
    return sorted(
        folder
        for folder in input_folders
        if folder
        and folder not in holding
        and folder.rpartition("/")[0] in beside
        and not any(folder == r or folder.startswith(r + "/") for r in reserved)
    )


def _copies_per_file(recipe: Recipe, found: list[tuple[str, str, str]], plan: Plan) -> dict[str, tuple[int, int, str]]:
    """(copies of this file, the most copies in its section, its class) for files of balanced sections."""
    from augcli.core.modalities import MODALITIES

    result: dict[str, tuple[int, int, str]] = {}
    for name, section in recipe.sections.items():
        if section.balance is None or isinstance(section.balance, dict):
            continue
        modality = MODALITIES[section.modality]
        augmented = [
            relative
            for _, relative, owner in found
            if owner == name
            and not tail_matches(relative, section.passthrough)
            and modality.layout(relative, section) != "table"
        ]
        if not augmented:
            continue
        try:
            classes = modality.classes_of(section, augmented)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        try:
            counts = balanced_copies(classes, section.balance, recipe.copies, recipe.keep_original)
        except ValueError as exc:
            raise PlanError(f"{name}.{exc}") from None
        widest = max(counts.values())
        result.update({relative: (count, widest, classes[relative]) for relative, count in counts.items()})
        summary: dict[str, tuple[int, int, int]] = {}
        for relative, label in classes.items():
            files, low, high = summary.get(label, (0, counts[relative], counts[relative]))
            summary[label] = (files + 1, min(low, counts[relative]), max(high, counts[relative]))
        plan.balance[name] = dict(sorted(summary.items()))
    return result


def _split_warnings(plan: Plan, splits: dict[str, tuple[str, ...]]) -> list[str]:
    """Warn when the recipe augments files of a split that data.yaml names for validation or testing."""
    warnings = []
    for split in ("val", "test", "minival"):
        if not splits.get(split):
            continue
        augmented = [
            job.relative
            for job in plan.jobs
            if not job.passthrough and split_of(job.relative, {split: splits[split]}) == split
        ]
        if augmented:
            folders = ", ".join(splits[split])
            globs = ", ".join(f'"{f.rstrip("/")}/**"' for f in splits[split])
            warnings.append(
                f"data.yaml names {folders} as the {split} split, but the recipe augments its {len(augmented)} "
                f"file(s) (e.g. {augmented[0]}): evaluation data would leak augmented copies. Add passthrough: "
                f"[{globs}] to the section to carry it over untouched"
            )
    return warnings


def partner_slots(transforms: list) -> int:
    """How many partners one output of a section may mix in (0: it mixes nothing)."""
    from augcli.core.transforms import leaves

    return sum(leaf.partner_slots() for leaf in leaves(transforms))


def _object_balance(
    recipe: Recipe, found: list[tuple[str, str, str]], plan: Plan, splits: dict[str, tuple[str, ...]]
) -> tuple[dict[str, list[str]], dict[tuple[str, int], tuple[str, ...]]]:
    """`balance: {by: object}`: each augmented picture's object classes, and the classes whose
    objects each copy gets pasted in (per split: objects are pasted from the copy's own split)."""
    from augcli.core.balance import object_quotas
    from augcli.core.modalities import MODALITIES

    held: dict[str, list[str]] = {}
    quotas: dict[tuple[str, int], tuple[str, ...]] = {}
    for name, section in recipe.sections.items():
        if not isinstance(section.balance, dict):
            continue
        if recipe.copies < 1:
            raise PlanError(f"{name}.balance: by object pastes objects into copies: copies must be at least 1")
        augmented = [r for _, r, owner in found if owner == name and not tail_matches(r, section.passthrough)]
        try:
            objects = MODALITIES[section.modality].object_classes(section, augmented)
        except ValueError as exc:
            raise PlanError(f"{name}.balance: {exc}") from None
        held.update(objects)
        by_split: dict[str, dict[str, list[str]]] = {}
        for relative, names in objects.items():
            by_split.setdefault(split_of(relative, splits), {})[relative] = names
        summary: dict[str, tuple[int, int]] = {}
        for members in by_split.values():
            dealt, counts = object_quotas(members, recipe.copies, recipe.keep_original, section.balance["ratio"])
            quotas.update(dealt)
            for label, (before, after) in counts.items():
                old = summary.get(label, (0, 0))
                summary[label] = (old[0] + before, old[1] + after)
        plan.objects[name] = dict(sorted(summary.items()))
    return held, quotas


class PartnerDrawer:
    """Draws the partners of any copy of one section: a ring per split over the inputs that may
    be mixed in, and per split and class a ring over the pictures holding that class (balance by
    object). Copy numbers past the run's (a preview of more copies) draw the same way."""

    def __init__(self, recipe: Recipe, name: str, relatives: list[str], splits: dict, held: dict[str, list[str]]):
        from augcli.core.partners import Ring

        self.slots = partner_slots(recipe.sections[name].transforms)
        self.splits = splits
        groups: dict[str, list[str]] = {}
        for relative in relatives:
            groups.setdefault(split_of(relative, splits), []).append(relative)
        self.rings = {split: Ring(recipe.seed, members) for split, members in groups.items()}
        self.class_rings: dict[tuple[str, str], Ring] = {}
        holders: dict[tuple[str, str], list[str]] = {}
        for relative in relatives:
            for label in set(held.get(relative, ())):
                holders.setdefault((split_of(relative, splits), label), []).append(relative)
        self.class_rings = {key: Ring(recipe.seed, members) for key, members in holders.items()}

    def draw(self, relative: str, copy: int, paste: tuple[str, ...] = ()) -> tuple[tuple[str, ...], ...]:
        split = split_of(relative, self.splits)
        ring = self.rings.get(split)
        drawn = ring.draw(relative, copy, self.slots) if ring is not None and self.slots else ()
        pasted = tuple(self.class_rings[(split, c)].pick(relative, copy, k) for k, c in enumerate(paste))
        return drawn + pasted


def _draw_partners(
    recipe: Recipe, plan: Plan, splits: dict[str, tuple[str, ...]], held: dict[str, list[str]] | None = None
) -> None:
    """Give every copy of a mixing section its partners: inputs of the same section and split,
    never passed-through files, drawn by the seed and the names alone (see core/partners.py), on
    the whole plan, before it is cut into shards. A copy with objects to paste (balance by object)
    then gets, per object, a picture that holds one of its class."""
    for name, section in recipe.sections.items():
        if not partner_slots(section.transforms) and not isinstance(section.balance, dict):
            continue
        members = [
            index for index, job in enumerate(plan.jobs) if job.modality == name and not (job.passthrough or job.table)
        ]
        drawer = PartnerDrawer(recipe, name, [plan.jobs[i].relative for i in members], splits, held or {})
        plan.drawers[name] = drawer
        for index in members:
            job = plan.jobs[index]
            outputs = tuple(
                o if o.copy is None else dataclasses.replace(o, partners=drawer.draw(job.relative, o.copy, o.paste))
                for o in job.outputs
            )
            plan.jobs[index] = Job.of(
                job.root, job.relative, job.modality, outputs, job.table, job.passthrough, job.group
            )
