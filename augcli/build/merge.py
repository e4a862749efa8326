"""`augcli merge OUTPUT`: join the parts that `run --shard K/N` wrote into the one manifest.csv (and
the run-wide files, such as a COCO json or data.yaml) that a single run would have written.

Each shard keeps its own state, lock and manifest part in OUTPUT/.augcli-shard-K-of-N-*. Merging
checks that all N parts are there and complete (their run finished, no input failed, no journal
of a killed run, the same recipe, seed and INPUT), then writes the joined files and OUTPUT's own
state, so `verify`, `replay`, `report` and a later single run see one finished OUTPUT.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from augcli.build import datacard, manifest, state
from augcli.build.plan import MANIFEST_NAME
from augcli.build.replay import files_outside, still_the_users
from augcli.core.recipe import RecipeError, load_recipe, parse_recipe
from augcli.core.words import noun
from augcli.storage.tree import OutputTree
from augcli.storage.untrusted import MANIFEST_LIMIT, read_state_file


class MergeError(Exception):
    """The parts are not all there, not complete, or not from one recipe."""


@dataclass
class Merged:
    shards: int
    files: int
    run_wide: list[str]


def _parts(output_root: Path) -> dict[int, str]:
    """Each shard's state-file prefix, by shard number; every shard of one split must be there."""
    found: dict[int, dict[int, str]] = {}
    for entry in sorted(os.scandir(output_root), key=lambda e: e.name) if output_root.is_dir() else []:
        if not entry.name.endswith(state.SNAPSHOT):
            continue
        place = entry.name[: -len(state.SNAPSHOT)]
        shard = state.parse_shard_place(place)
        if shard is not None and shard[0] < shard[1] and entry.is_file(follow_symlinks=False):
            found.setdefault(shard[1], {})[shard[0]] = place
    if not found:
        raise MergeError(f"{output_root} holds no shard parts: run augcli run ... --shard K/N first")
    if len(found) > 1:
        raise MergeError(f"{output_root} holds parts of runs split {sorted(found)} ways: delete the stale ones")
    ((count, parts),) = found.items()
    absent = [str(k) for k in range(count) if k not in parts]
    if absent:
        shards = f"{noun(len(absent), 'shard')} {', '.join(absent)} of {count} {'is' if len(absent) == 1 else 'are'}"
        raise MergeError(f"{shards} missing: run {'it' if len(absent) == 1 else 'them'} (--shard K/{count}) and merge")
    return parts


def merge(output_root: Path, input_root: Path | None = None, recipe_path: Path | None = None) -> Merged:
    """Check every part, then write manifest.csv, the run-wide files and OUTPUT's merged state.
    Everything a part holds is read back from OUTPUT (untrusted): its recipe reads only inside
    INPUT unless `recipe_path` (the recipe the user ran) is given."""
    from augcli.build.runner import _record
    from augcli.core.modalities import MODALITIES

    problem = state.check_state_files(output_root)
    if problem:
        raise MergeError(problem)
    parts = _parts(output_root)
    for place in parts.values():
        problem = state.check_state_files(output_root, place)
        if problem:
            raise MergeError(problem)
    infos = {}
    merged = state.State()
    for index, place in sorted(parts.items()):
        info = state.read_run_info(output_root, place) or {}
        _check_summary(info, state.path(output_root, state.RUN_INFO, place))
        problem = None
        if state.path(output_root, state.JOURNAL, place).exists():
            problem = "its last run was stopped before it finished"
        elif not info.get("complete") or info.get("summary", {}).get("failed", 1):
            problem = f"its last run did not finish cleanly ({info.get('summary', {}).get('failed', '?')} failed)"
        known = state.load(output_root, place)
        part = state.path(output_root, MANIFEST_NAME, place)
        lines = known.lines()  # every file the state records has its line (UntrustedError: exit 2 naming it)
        expected = manifest.render((f[0], lines[f[0]]) for r in known.units.values() for f in r["files"])
        try:  # bounded, never a FIFO or device (UntrustedError names it)
            if read_state_file(part, MANIFEST_LIMIT) != expected:
                problem = problem or "its manifest part does not match its state"
        except OSError:
            problem = problem or "it has no manifest part"
        if problem:
            raise MergeError(f"shard {index} of {len(parts)} is not complete: {problem}; rerun it and merge again")
        infos[index] = info
        lines = known.lines()
        for unit, record in known.units.items():
            if record.get("run"):
                continue
            merged.units[unit] = record
            merged.set_lines({f[0]: lines[f[0]] for f in record["files"]})
        merged.hashes.learn(known.hashes)
        merged.stamps.learn(known.stamps)
    same = {
        (i.get("recipe_text"), i.get("seed"), i.get("copies"), i.get("input_url") or i.get("input"))
        for i in infos.values()
    }
    if len(same) != 1:
        raise MergeError("the shards were made with different recipes, seeds, copies or INPUTs: rerun them alike")
    info = infos[0]
    try:
        if recipe_path is not None:
            recipe = load_recipe(recipe_path)
        else:
            folder = info.get("recipe_folder")
            recipe = parse_recipe(info["recipe_text"], info.get("recipe", "recipe"), Path(folder) if folder else None)
    except (RecipeError, KeyError) as exc:
        raise MergeError(f"the shards' recipe no longer validates: {exc}") from None
    if input_root is None and info.get("input_url"):
        from augcli.storage import remote

        input_root = remote.Mirror(info["input_url"]).pull()  # run-wide files (data.yaml, COCO) read INPUT
    root = input_root or (Path(info["input"]) if info.get("input") else None)
    if root is None or not root.is_dir():
        raise MergeError(f"INPUT {root} is not reachable from here: pass --input (run-wide files are built from it)")
    outside = files_outside(recipe, root) if recipe_path is None and not still_the_users(info) else None
    if outside is not None:
        raise MergeError(
            f"the recipe recorded in the shards' {state.RUN_INFO} reads {outside}, outside INPUT {root.resolve()}: "
            "OUTPUT's files are not trusted to choose what augcli reads; pass --recipe with the recipe you ran"
        )
    entries = sorted((u, r["entry"]) for u, r in merged.units.items() if "entry" in r)
    written = []
    with state.locked(output_root), OutputTree(output_root) as tree:
        for name, section in recipe.sections.items():
            modality = MODALITIES[section.modality]
            modality.prepare(section, root.resolve())
            for relative, data in modality.finish(section, entries):
                stamp = tree.write(relative, data)
                sha = hashlib.sha256(data).hexdigest()
                cells = manifest.Row(relative, relative, name, None, sha256=sha, kind="dataset").cells()
                made = _made(relative, cells, stamp)
                merged.units[relative] = _record(sha, made, True)
                merged.set_lines({cells[0]: manifest.line(cells)})
                written.append(relative)
        card = datacard.for_units(merged.units, recipe.sections)
        if card is not None and _may_write_card(output_root, merged):
            sha = hashlib.sha256(card[0]).hexdigest()
            stamp = tree.write(datacard.CARD_NAME, card[0])
            cells = manifest.Row(datacard.CARD_NAME, "", card[1], None, sha256=sha, kind="dataset").cells()
            merged.units[datacard.CARD_NAME] = _record(sha, _made(datacard.CARD_NAME, cells, stamp), True)
            merged.set_lines({cells[0]: manifest.line(cells)})
            written.append(datacard.CARD_NAME)
        data = manifest.render((f[0], merged.lines()[f[0]]) for r in merged.units.values() for f in r["files"])
        if tree.read(MANIFEST_NAME) != data:
            tree.write(MANIFEST_NAME, data)
        stamp = os.stat(output_root / MANIFEST_NAME)
        merged.manifest = hashlib.sha256(data).hexdigest()
        merged.stamps[state.MANIFEST_PART] = [stamp.st_size, stamp.st_mtime_ns, stamp.st_ino]
        summary = {  # every value an integer: checked as each part was read
            key: sum(i.get("summary", {}).get(key, 0) for i in infos.values()) for key in info.get("summary", {})
        }
        state.write_run_info(
            output_root, info | {"shard": None, "summary": summary, "merged": len(parts)}, tree.write_chunks
        )
        state.save(output_root, merged, tree.write_chunks)
    return Merged(len(parts), sum(len(r["files"]) for r in merged.units.values()), written)


def _check_summary(info: dict, file: Path) -> None:
    """A part's run record sums into OUTPUT's: its summary must hold counts (numbers) only."""
    for key, value in info.get("summary", {}).items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise MergeError(f"{file}: summary {key!r} is {value!r}, not a number: it is not a run record augcli wrote")


def _may_write_card(output_root: Path, merged: state.State) -> bool:
    """The dataset card goes where no input's output and no file of the user's lies (a card an
    earlier merge or run wrote is replaced), as a single run decides."""
    if datacard.CARD_NAME in merged.units:
        return False
    earlier = state.load(output_root).units.get(datacard.CARD_NAME)
    return not os.path.lexists(output_root / datacard.CARD_NAME) or bool(earlier and earlier.get("run"))


def _made(relative: str, cells: list[str], stamp) -> object:
    from augcli.build.make import Made

    return Made(relative, [[cells[0], cells[-1], stamp.stat(), manifest.line(cells)]])
