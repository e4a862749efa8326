"""Run a plan like a build tool: make only what is out of date, never lose a good output.

Each output unit (a file and its companions: label, mask) has a key (keys.py). A unit whose key
and files match the state (state.py) is left alone; the others are made by the executor, each job
staging its units under temporary names and renaming them into place only when all were made, so
a failed input keeps its earlier outputs and a killed run leaves no half-written file. Records are
journalled as units complete; outputs of removed inputs are deleted, and manifest.csv replaced,
only once the rest of the run succeeded.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.build import collector, datacard, manifest, pool, state
from augcli.build.assess import OutputError, Status, assess, foreign_files, is_current, unsafe_folders
from augcli.build.make import JobResult, Made, results
from augcli.build.manifest import Row
from augcli.build.plan import MANIFEST_NAME, Plan
from augcli.core.files import sha256_file
from augcli.core.recipe import Recipe
from augcli.core.words import plural
from augcli.storage.tree import OutputTree
from augcli.storage.untrusted import MANIFEST_LIMIT, read_state_file

INTERRUPTED = threading.Event()  # set by the CLI's SIGINT handler


@dataclass
class Summary:
    files: int = 0
    current: int = 0  # files whose outputs were all up to date
    made: int = 0  # files (re)made
    written: int = 0  # output files written
    removed: int = 0  # output files deleted
    skipped: int = 0
    failures: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    sent: list[str] = field(default_factory=list)  # files the workers uploaded to a remote OUTPUT
    kept: list[str] = field(default_factory=list)  # outputs of removed inputs left alone: someone edited them
    unproven: list[str] = field(default_factory=list)  # paths the state named for deletion, unproven: kept
    manifest_rewritten: bool = False  # manifest.csv was written again (it was missing or edited)
    card_taken: bool = False  # augcli's README.md card was edited: the user's now, no longer listed

    def record(self) -> dict[str, Any]:
        """The counts, for the run report (OUTPUT/.augcli/run.json)."""
        counts = {key: getattr(self, key) for key in ("files", "current", "made", "written", "removed", "skipped")}
        return counts | {"failed": len(self.failures), "seconds": round(self.seconds, 2)}

    def line(self) -> str:
        line = (
            f"augcli: {plural(self.files, 'file')} in: {self.current:,} up to date, {self.made:,} made "
            f"({plural(self.written, 'output')}), {self.removed:,} removed, {len(self.failures):,} failed, "
            f"{self.seconds:.1f} s"
        )
        line += f"; {self.skipped:,} skipped" if self.skipped else ""
        return line + ("; manifest.csv rewritten" if self.manifest_rewritten and not self.written else "")


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    workers: int = 1
    rebuild: bool = False
    overwrite: bool = False
    allow_failures: bool = False
    progress: bool = False
    preload: list[str] = field(default_factory=list)  # heavy modules the worker pool imports once
    shard: tuple[int, int] | None = None  # (K, N): this run makes shard K of N (see plan.shard_of)
    input_url: str | None = None  # INPUT as the user named it, when it is a URL (INPUT is then its mirror)
    upload: Callable | None = None  # remote OUTPUT: sends each job's files from the worker that made them
    sent: list[str] = field(default_factory=list)  # what the workers sent (filled by the run)
    executor: str = "local"  # local (a process pool on this machine) or dask
    scheduler: str | None = None  # dask: the scheduler's address; none starts a LocalCluster

    @property
    def place(self) -> str:
        """The prefix of the state files: .augcli-, or this shard's own .augcli-shard-K-of-N-."""
        return state.shard_place(self.shard)

    @property
    def manifest_name(self) -> str:
        """manifest.csv, or this shard's manifest part (`augcli merge` joins the parts)."""
        return MANIFEST_NAME if self.shard is None else self.place + MANIFEST_NAME


def _record(
    key: str | None, made: Made, run_wide: bool = False, hashes: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """A unit's state record, as small as it can be (a state holds one per output); `run_wide`
    marks files built from every output (a COCO json). A mixed copy's partners are kept with the
    content hash they had (`hashes`), so the copy is remade when one of them changes."""
    record: dict[str, Any] = {"key": key, "files": [entry[:2] for entry in made.files]}
    if made.entry is not None:
        record["entry"] = made.entry
    if made.partners:
        record["partners"] = [[slot, path, (hashes or {}).get(path)] for slot, path in made.partners]
    if run_wide:
        record["run"] = True
    return record


class _Run:
    """One run's bookkeeping: the state, its journal, OUTPUT's tree."""

    def __init__(self, output_root: Path, known: state.State, tree: OutputTree, place: str = state.PLACE) -> None:
        self.root, self.known, self.tree = output_root, known, tree
        self.journal = state.Journal(output_root, place)
        self.kept_modified: list[str] = []  # outputs of removed inputs that were edited: not deleted
        self.records_changed = 0  # units put or deleted (the journal also holds garbage claims)
        self.card_taken = False
        self.claims: list[str] = []  # path cells this run claimed before writing them, sorted
        self._landed = bytearray()  # 1 at i: claims[i] is a file of a unit that landed (a record owns it)
        self.retired: dict[str, str] = {}  # cell -> sha256: files of a record a remade unit no longer has
        self.unproven: list[str] = []  # paths the state named for deletion without proof: kept
        self.tasks = 0  # tasks this run handed to the executor

    def put(self, made: Made, record: dict[str, Any], hashes: dict[str, list[Any]] | None = None) -> None:
        self.journal_put(made, record, hashes)
        self.remember(made, record)

    def journal_put(self, made: Made, record: dict[str, Any], hashes: dict[str, list[Any]] | None = None) -> None:
        """Journal a unit that landed (at once: a killed run loses no record of files in place),
        the files its record had and the new one has not claimed for deletion after success."""
        unit = made.output
        old = self.known.units.get(unit)
        if old is not None:  # companions the new record no longer has are deleted after success
            kept = {entry[0] for entry in record["files"]}
            dropped = [entry for entry in old["files"] if entry[0] not in kept]
            self.retired.update((entry[0], entry[1]) for entry in dropped)  # with the hash that proves them
            self.garbage([entry[0] for entry in dropped])
        lines = {entry[0]: entry[3] for entry in made.files}
        stamps = {entry[0]: entry[2] for entry in made.files}
        self.journal.put(unit, record, lines, hashes, stamps)

    def remember(self, made: Made, record: dict[str, Any]) -> None:
        """Put a journalled unit's record, lines and stamps in the state."""
        lines = {entry[0]: entry[3] for entry in made.files}
        if self.claims:
            self._land(lines)
        self.known.units[made.output] = state.packed(made.output, record)  # (a first run of a million keeps a million)
        self.records_changed += 1
        self.known.set_lines(lines)
        self.known.stamps.update({entry[0]: entry[2] for entry in made.files})

    def garbage(self, paths: list[str]) -> None:
        if paths:
            self.known.garbage.update(paths)
            self.journal.garbage(paths)

    def claim(self, cells: list[str]) -> None:
        """Journal the paths about to be written (sorted cells), durably before any is: a run killed
        after its workers wrote them leaves no file the next run takes for someone else's. They join
        the state's garbage once the jobs ran (unclaimed_leftovers), those of units that landed
        excepted: a first run of a million files holds them as one list, not two sets."""
        self.claims, self._landed = cells, bytearray(len(cells))
        self.journal.garbage(cells)

    def claimed(self, cell: str) -> bool:
        at = bisect.bisect_left(self.claims, cell)
        return at < len(self.claims) and self.claims[at] == cell

    def _land(self, cells: Iterable[str]) -> None:
        claims = self.claims
        for cell in cells:
            at = bisect.bisect_left(claims, cell)
            if at < len(claims) and claims[at] == cell:
                self._landed[at] = 1

    def unclaimed_leftovers(self) -> list[str]:
        """Claimed paths no landed unit owns (a failed job's): garbage, deleted after success."""
        landed = self._landed
        return [cell for at, cell in enumerate(self.claims) if not landed[at]]


def run(
    plan: Plan,
    recipe: Recipe,
    output_root: Path,
    options: Options,
    report: Callable[[JobResult], None] | None = None,
) -> Summary:
    """Bring OUTPUT up to date with the plan; per-file failures are collected, never raised.

    Raises OutputError (nothing written yet) when OUTPUT holds foreign files or links on the way.
    `report` sees every result that failed or carries warnings or notes, as it arrives.
    """
    started = time.perf_counter()
    INTERRUPTED.clear()
    place = options.place
    with collector.held():  # the state's records and the keys live to the end: no collection walks them
        known = state.load(output_root, place, _input_names(plan), plan.source_prefix)
    known.spill_lines_to(output_root)  # a first run's two million lines wait on disk, beside the data
    splits = len(plan.jobs) > 1 or any(job.table for job in plan.jobs)  # a table may go in parts
    pool_wanted = [options.executor == "local" and options.workers > 1 and splits]

    def start_pool() -> None:  # at the first sign of work: the pool's imports overlap the keying
        if pool_wanted[0]:
            pool_wanted[0] = False
            pool.start_server(options.preload)

    if not known.units:  # a first run has work for sure
        start_pool()
    with collector.held():
        status = assess(plan, recipe, output_root, known, options.rebuild, start_pool)
    if not options.overwrite:
        foreign = foreign_files(status, output_root, known)
        if foreign:
            raise OutputError(
                f"OUTPUT holds {plural(len(foreign), 'file')} that no augcli run recorded where outputs go, e.g. "
                f"{foreign[0]}: pass --overwrite to replace {'it' if len(foreign) == 1 else 'them'}"
            )
    if status.tasks or status.removed or not _manifest_is_current(output_root, known, options.manifest_name):
        known.lines()  # read (and checked) before anything is written: the manifest will need them
    summary = Summary(files=len(plan.jobs), skipped=len(plan.unclaimed) + len(plan.special))
    summary.current = status.current_jobs
    tag = "" if options.shard is None else f"s{options.shard[0]}of{options.shard[1]}-"
    with OutputTree(output_root, tag) as tree:
        unsafe = unsafe_folders(status, tree)
        if unsafe:
            raise OutputError(unsafe[0])
        tree.remove_temps()  # a shard removes only its own: another shard may be writing beside it
        work = _Run(output_root, known, tree, place)
        journal = state.path(output_root, state.JOURNAL, place)
        had_journal = journal.exists()  # a killed run's: its records are saved into the snapshot
        stale_state = bool(known.migrated_from) or had_journal
        garbage_before = set(known.garbage)
        deaths_before = dict(known.deaths)
        try:
            for relative, why in [*plan.unreadable, *status.blocked.items()]:
                summary.failures.append(JobResult(relative, error=why))
                if report is not None:
                    report(summary.failures[-1])
            try:
                _make(status, recipe, work, options, summary, report)
            except BaseException:  # Ctrl-C, a full state disk: workers are stopped; drop their temporaries
                tree.remove_temps()
                raise
            if options.executor != "local" or any(f.died for f in summary.failures):
                tree.remove_temps()  # a lost worker's half-written files (its tasks ran again elsewhere)
            ok = not summary.failures or options.allow_failures
            if ok:
                if options.shard is None:  # run-wide files need every shard's entries: `augcli merge`
                    summary.written += _finish(recipe, work, status)
                    summary.card_taken = work.card_taken
                summary.removed = _remove(work, status, plan)
                summary.kept = work.kept_modified
                summary.unproven = work.unproven
            folders_changed = ok and options.shard is None and _mirror_folders(plan, work)
            work.journal.sync()
            name = options.manifest_name
            _drop_idle_garbage(work)
            changed = work.records_changed or summary.removed or stale_state or folders_changed
            changed = bool(changed or known.garbage != garbage_before)
            if ok and (changed or not _manifest_is_current(output_root, known, name)):
                digest = hashlib.sha256()
                for piece in _manifest_chunks(known):  # hashed first: an unchanged manifest is never rewritten
                    digest.update(piece)
                sha = digest.hexdigest()
                if tree.content_sha(name) != sha:
                    tree.write_chunks(name, _manifest_chunks(known))
                    summary.manifest_rewritten = True
                    changed = True
                info = os.stat(output_root / name)
                known.stamps[state.MANIFEST_PART] = [info.st_size, info.st_mtime_ns, info.st_ino]
                known.stamps_changed = True
                if known.manifest != sha:
                    known.manifest = sha
                    changed = True  # the snapshot must remember it
            elif not ok and changed:
                # a failed run keeps the old manifest but saves new records: it no longer lists what
                # OUTPUT holds, so the next run (and --check) must not take it for the current one
                known.manifest = None
            summary.seconds = time.perf_counter() - started
            if plan.input_root is not None and (changed or state.read_run_info(output_root, place) is None):
                info = run_info(recipe, plan.input_root) | {"summary": summary.record(), "shard": options.shard}
                info["input_url"] = options.input_url
                info["complete"] = ok
                state.write_run_info(output_root, info, tree.write_chunks, place)
            failures = [(f.relative, f.error or "") for f in summary.failures]
            state.write_failures(output_root, failures, tree.write_chunks, place)
            state.keep_hashes(known)
            if changed or known.deaths != deaths_before:
                state.save(output_root, known, tree.write_chunks, place)
            elif status.hashes_changed or known.stamps_changed:
                state.save_cache(output_root, known, tree.write_chunks, place)
            if not changed and not had_journal:  # it holds only claims of paths no job wrote: gone with them
                work.journal.close()
                journal.unlink(missing_ok=True)
        finally:
            work.journal.close()
            known.close()
    options.sent = summary.sent
    summary.failures.sort(key=lambda r: r.relative)
    summary.seconds = time.perf_counter() - started
    return summary


def _input_names(plan: Plan) -> dict[str, str]:
    """Each input's relative path in the plan, to itself: the state's cache keeps an input's hash
    under the plan's string (a second copy of every path is about 70 bytes an input)."""
    return {job.relative: job.relative for job in plan.jobs}


def run_info(recipe: Recipe, input_root: Path) -> dict[str, Any]:
    """What `augcli replay` needs to make an output again: the recipe as it was, and INPUT."""
    return {
        "recipe": recipe.source,
        "recipe_text": recipe.text,
        "recipe_folder": os.fsdecode(recipe.base_dir.absolute()) if recipe.base_dir is not None else None,
        "input": os.fsdecode(input_root),
        "seed": recipe.seed,
        "copies": recipe.copies,
    }


def _manifest_chunks(known: state.State) -> Iterator[bytes]:
    """manifest.csv's bytes in pieces, from the state's lines (sorted by path, as manifest.render sorts)."""
    lines = known.lines()
    cells = sorted(known.units.all_cells())
    return manifest.render_chunks(lines[cell] for cell in cells)


def _manifest_is_current(output_root: Path, known: state.State, name: str = MANIFEST_NAME) -> bool:
    """manifest.csv holds what the last successful run wrote (a no-op run need not render it):
    its cached stat, or else its content."""
    try:
        info = os.stat(output_root / name)
    except OSError:
        return False
    stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
    if known.manifest is None:
        return False
    if known.stamps.get(state.MANIFEST_PART) == stamp:
        return True
    try:
        if sha256_file(output_root / name) != known.manifest:
            return False
    except OSError:
        return False
    known.stamps[state.MANIFEST_PART] = stamp
    known.stamps_changed = True
    return True


def _make(status: Status, recipe: Recipe, work: _Run, options: Options, summary: Summary, report) -> None:
    """Run the tasks; journal each unit as it lands; collect failures."""
    # Paths about to be written are ours even if a kill loses their records: a rerun may replace
    # them, and a successful run deletes those that no record claims.
    work.claim(sorted({manifest.encode_path(p) for task in status.tasks for p in task.written}))
    work.tasks = len(status.tasks)  # (results() empties status.tasks: each task goes once it is done)
    in_order = InOrder([relative for relative, _ in itertools.groupby(task.job.relative for task in status.tasks)])
    bar = _progress_bar(summary, options.progress)
    try:
        with contextlib.closing(results(status.tasks, recipe, work.tree, options)) as outcomes:
            for result in outcomes:
                if INTERRUPTED.is_set():  # a library may turn Ctrl-C into an error of its own (pandas does)
                    raise KeyboardInterrupt
                landed = []
                if result.error is None:
                    hashes = _input_hashes(status, work.known, result.relative)
                    for made in result.made:
                        key = status.unit_keys.get(made.output)
                        record = _record(key, made, hashes=status.partner_hashes)
                        work.journal_put(made, record, hashes)
                        landed.append((made, record))
                        summary.written += len(made.files)
                    summary.made += 1
                    summary.sent += result.sent
                    if result.relative in work.known.deaths:
                        del work.known.deaths[result.relative]
                else:
                    summary.failures.append(result)
                    if result.died:
                        count = work.known.deaths.get(result.relative, [0, None])[0] + 1
                        sha = status.source_sha(result.relative, work.known.hashes)
                        work.known.deaths[result.relative] = [count, sha]
                for made, record in (pair for units in in_order.add(result.relative, landed) for pair in units):
                    work.remember(made, record)
                if report is not None and (result.error or result.warnings or result.notes):
                    bar.clear()
                    report(result)
                    bar.refresh()
                bar.update(1)
    finally:
        bar.close()
    for units in in_order.rest():
        for made, record in units:
            work.remember(made, record)
    work.known.garbage.update(work.unclaimed_leftovers())


class InOrder:
    """Items named by the inputs of `order`, handed back in that order: the state's tables keep
    what comes in order as columns, and results come back from the workers a little shuffled (one
    in ten, with two; each held out of order was a record, a stat and a line's place apart,
    about 70 MB a million files). An early item waits for those before it; past `limit` waiting,
    those go in the order they came."""

    def __init__(self, order: list[str], limit: int = 256) -> None:
        self._order = order
        self._next = 0
        self._limit = limit
        self._waiting: dict[str, Any] = {}
        self._early: set[str] = set()  # names handed back before their turn

    def add(self, name: str, item: Any) -> list[Any]:
        """The items now due, `item` among them or not."""
        self._waiting[name] = item
        due = []
        order, waiting = self._order, self._waiting
        while self._next < len(order):
            first = order[self._next]
            if first in waiting:
                due.append(waiting.pop(first))
            elif first in self._early:
                self._early.discard(first)
            else:
                break
            self._next += 1
        if len(waiting) > self._limit:
            due += waiting.values()
            self._early.update(waiting)
            waiting.clear()
        return due

    def rest(self) -> list[Any]:
        """What still waits (its turn never came: a task that gave no result)."""
        rest = list(self._waiting.values())
        self._waiting.clear()
        return rest


def _input_hashes(status: Status, known: state.State, relative: str) -> dict[str, list[Any]]:
    """The cache entries of an input and its companions, journalled with its outputs: a rerun
    after a kill need not hash them again."""
    hashes = {}
    files = status.input_files(relative)
    for path in files[1:] if relative in status.unhashed else files:  # (an unread input's entry is stale)
        entry = known.hashes.get(path)
        if entry is not None:
            hashes[path] = entry
    return hashes


class _NoBar:
    """The progress bar's calls, doing nothing (-q, or stderr is not a terminal): tqdm not imported."""

    def clear(self) -> None: ...
    def refresh(self) -> None: ...
    def update(self, count: int) -> None: ...
    def close(self) -> None: ...


def _progress_bar(summary: Summary, shown: bool):
    if not shown:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=summary.files, initial=summary.current, unit="file", file=sys.stderr, dynamic_ncols=True)


def _finish(recipe: Recipe, work: _Run, status: Status) -> int:
    """Run-wide files built from every current output's entry (a COCO json), written when their
    bytes changed; those no section makes any more are deleted. Returns how many were written."""
    from augcli.core.modalities import MODALITIES

    units = work.known.units
    others = units.other_items()  # (a record of one file and a key, as most are, has no entry and no run)
    entries = sorted((u, r["entry"]) for u, r in others if "entry" in r and status.is_planned(u))
    produced: set[str] = set()
    written = 0
    for section in recipe.sections.values():
        for relative, data in MODALITIES[section.modality].finish(section, entries):
            produced.add(relative)
            sha = hashlib.sha256(data).hexdigest()
            if is_current(work.root, units.get(relative), sha, work.known):
                continue
            stamp = work.tree.write(relative, data)
            cells = Row(relative, relative, section.modality, None, sha256=sha, kind="dataset").cells()
            made = Made(relative, [[cells[0], sha, stamp.stat(), manifest.line(cells)]])
            work.put(made, _record(sha, made, True))
            written += 1
    standing = card_standing(work.root, work.known)
    if standing == "edited":  # the user's card now: never rewritten, nor listed, nor deleted
        del units[datacard.CARD_NAME]
        work.journal.delete(datacard.CARD_NAME)
        work.records_changed += 1
        work.card_taken = True
    listed = units.get(datacard.CARD_NAME)
    unchanged = not (work.journal.entries or status.removed or work.tasks) and standing != "missing"
    card = None if unchanged else _dataset_card(recipe, work, status)  # the set as it was: so is its card
    if unchanged and listed is not None and listed.get("run"):
        produced.add(datacard.CARD_NAME)  # the set did not change: its card stands as it is
    if card is not None:
        data, modality = card
        produced.add(datacard.CARD_NAME)
        sha = hashlib.sha256(data).hexdigest()
        if not is_current(work.root, units.get(datacard.CARD_NAME), sha, work.known):
            stamp = work.tree.write(datacard.CARD_NAME, data)
            cells = Row(datacard.CARD_NAME, "", modality, None, sha256=sha, kind="dataset").cells()  # no source
            made = Made(datacard.CARD_NAME, [[cells[0], sha, stamp.stat(), manifest.line(cells)]])
            work.put(made, _record(sha, made, True))
            written += 1
    status.removed += sorted(u for u, r in units.other_items() if r.get("run") and u not in produced)
    return written


def card_standing(output_root: Path, known: state.State) -> str:
    """How augcli's dataset card stands: "" (as written, or none on record), "missing" (a run
    writes it again) or "edited" (someone changed it: a run leaves it to them and stops listing it)."""
    listed = known.units.get(datacard.CARD_NAME)
    if listed is None or not listed.get("run") or is_current(output_root, listed, listed["key"], known):
        return ""
    return "edited" if os.path.lexists(output_root / datacard.CARD_NAME) else "missing"


def _dataset_card(recipe: Recipe, work: _Run, status: Status) -> tuple[bytes, str] | None:
    """OUTPUT/README.md for Hugging Face datasets when a load of OUTPUT would read manifest.csv as
    data (CSV/TSV tables), listing the data files; never over a README.md that is not augcli's
    card (an input's output, or the user's own file). None: no card."""
    units = work.known.units
    current = units.get(datacard.CARD_NAME)
    if current is not None and not current.get("run"):
        return None  # INPUT has a README.md of its own at the top: it is an output
    if current is None and os.path.lexists(work.root / datacard.CARD_NAME):
        return None  # someone's own file: never replaced
    return datacard.for_units(
        ((u, r) for u, r in units.items() if status.is_planned(u) or r.get("run")), recipe.sections
    )


def _drop_idle_garbage(work: _Run) -> None:
    """Forget claimed paths a run (that ran to its end) left with nothing to delete: no file there,
    or a file a record owns. A failed job wrote nothing, so its claims go, and a rerun that fails
    the same way finds the state as it was and writes nothing."""
    known = work.known
    if not known.garbage:
        return
    owns = known.owns()
    known.garbage = {
        cell for cell in known.garbage if not owns(cell) and os.path.lexists(work.root / manifest.decode_path(cell))
    }


def _remove(work: _Run, status: Status, plan: Plan) -> int:
    """Delete the outputs of units no longer planned, companions a remade unit dropped, and what a
    run claimed before writing and no record owns (a killed run's files). Only what augcli can
    prove it wrote is deleted: a recorded file whose bytes are the recorded ones (else it was
    edited: kept), or a claimed path that is one of this plan's outputs (claimed by this run, or
    the same output of another copy: a killed run with more copies). The state is read back from
    OUTPUT: any other path it names (a .git file, a note of the user's) is kept, and named once."""
    units = work.known.units
    doomed = [entry[0] for unit in status.removed if unit in units for entry in units[unit]["files"]]
    recorded = {entry[0]: entry[1] for unit in status.removed if unit in units for entry in units[unit]["files"]}
    recorded = work.retired | recorded
    removed = 0
    planned: set[str] | None = None
    candidates = sorted(set(doomed) | work.known.garbage)
    gone = set(status.removed)
    kept = set()  # every file a record still owns: only asked when there is something to delete
    if candidates:
        kept = {cell for unit, record in units.items() if unit not in gone for cell in state.cells_of(record)}
    for path in candidates:
        if path in kept:
            continue
        relative = manifest.decode_path(path)
        if path not in recorded and not work.claimed(path):
            if planned is None:
                planned = {_any_copy(p) for job in plan.jobs for p in job.written}
            if _any_copy(relative) not in planned:
                work.unproven.append(relative)  # no proof augcli wrote it: kept, and forgotten
                continue
        if path in recorded and work.tree.content_sha(relative) not in (recorded[path], None):
            work.kept_modified.append(relative)  # not the bytes augcli wrote: someone's edit, kept
            continue
        if work.tree.remove(relative):
            removed += 1
    for unit in status.removed:
        if units.pop(unit, None) is not None:
            work.journal.delete(unit)
            work.records_changed += 1
    work.known.garbage.clear()
    return removed


_COPY_INDEX = re.compile(r"_aug[0-9]+(?=(\.[^/]*)?$)")


def _any_copy(relative: str) -> str:
    """A path with its copy number taken out (`a/b_aug7.png` -> `a/b_aug.png`): the same output of
    any copy, so a killed run's files of copies a rerun no longer makes are still known as its."""
    return _COPY_INDEX.sub("_aug", relative, count=1) if "_aug" in relative else relative


def _mirror_folders(plan: Plan, work: _Run) -> bool:
    """Make INPUT's folders that hold no output (an empty class folder) in OUTPUT, and remove those
    augcli made whose INPUT folder is gone (only when empty: a file someone put there stays).
    Whether the state's record of them changed. Remaking a recorded folder changes no record (a
    clone of OUTPUT lost it: git keeps no empty folder), nor does forgetting one that is gone."""
    wanted, known = set(plan.folders), work.known.folders
    changed = False
    for folder in sorted(known - wanted, key=lambda f: (-f.count("/"), f)):  # the deepest first
        parent, _, name = folder.rpartition("/")
        try:
            os.rmdir(name, dir_fd=work.tree.folder(parent, create=False))
        except FileNotFoundError:
            known.discard(folder)  # saved with the next change: nothing to write for it alone
            continue
        except OSError:
            continue  # not empty (someone's file), or not a folder: left alone, still on record
        known.discard(folder)
        changed = True
    for folder in plan.folders:
        if not os.path.lexists(work.root / folder):
            work.tree.folder(folder)  # made without following a link on the way
            if folder not in known:
                known.add(folder)
                changed = True
    return changed


@dataclass
class CheckReport:
    new: list[str]
    changed: list[str]  # recorded outputs whose key or bytes changed (not missing ones)
    removed: list[str]
    manifest_stale: str  # why manifest.csv would be rewritten, or "" (also when outputs change)
    missing: list[str] = field(default_factory=list)  # recorded outputs whose file is gone: made again
    folders: list[str] = field(default_factory=list)  # INPUT's folders with no output, missing in OUTPUT
    card_edited: bool = False  # augcli's README.md card was edited: a run stops listing it

    @property
    def up_to_date(self) -> bool:
        return not (
            self.new
            or self.changed
            or self.removed
            or self.manifest_stale
            or self.missing
            or self.folders
            or self.card_edited
        )


def _manifest_stands(output_root: Path, known: state.State, options: Options) -> bool:
    """Whether a run that makes and removes nothing would leave manifest.csv unrendered: no journal
    or older state to fold in, and the file is the one the last successful run wrote (its cached
    stat, or else its content). --check then need not read every file's line either."""
    if known.migrated_from is not None or state.path(output_root, state.JOURNAL, options.place).exists():
        return False
    return _manifest_is_current(output_root, known, options.manifest_name)


def check(plan: Plan, recipe: Recipe, output_root: Path, shard: tuple[int, int] | None = None) -> CheckReport:
    """What a run would do to OUTPUT (or one shard of it), without writing anything (`run --check`)."""
    options = Options(shard=shard)
    with collector.held():  # as in a run: the records and keys live to the end
        known = state.load(output_root, options.place, _input_names(plan), plan.source_prefix)
        status = assess(plan, recipe, output_root, known, rebuild=False)
    root = os.fsdecode(output_root) + "/"
    missing = [
        unit
        for unit in status.changed
        if any(not os.path.exists(root + manifest.decode_path(f[0])) for f in known.units[unit]["files"])
    ]
    gone = set(missing)
    card = card_standing(output_root, known) if shard is None else ""
    folders = [f for f in plan.folders if not os.path.lexists(root + f)] if shard is None else []
    stale = ""
    quiet = not (status.tasks or status.removed or status.blocked)
    if quiet and not _manifest_stands(output_root, known, options):
        expected = b"".join(_manifest_chunks(known))
        try:  # bounded, never a FIFO or device (UntrustedError: exit 2 naming it)
            on_disk = read_state_file(output_root / options.manifest_name, MANIFEST_LIMIT)
        except FileNotFoundError:
            stale = "it is missing"
        except OSError as exc:
            stale = f"it cannot be read ({exc.strerror})"
        else:
            if on_disk != expected:
                stale = "it does not list what OUTPUT holds (it was edited, or a run stopped or failed before it)"
    changed = [unit for unit in status.changed if unit not in gone]
    missing += [datacard.CARD_NAME] if card == "missing" else []
    return CheckReport(status.new, changed, status.removed, stale, missing, folders, card == "edited")
