"""What a large dataset's plan and state keep per file: the same keys, the same checks, less memory."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.build import assess, keys, runner, state
from augcli.build.plan import Job, Output, build_plan
from augcli.core.recipe import parse_recipe
from tests.conftest import RECIPE
from tests.test_cli import invoke

HEX = st.text("0123456789abcdef", min_size=0, max_size=64)


@given(
    st.one_of(st.none(), HEX, st.text(max_size=8), st.integers(), st.lists(st.integers(), max_size=2)),
    st.lists(st.one_of(st.none(), HEX), max_size=2),
)
def test_an_inputs_content_digest_is_spelt_as_the_json_digest(source, companions):
    """A key that changed would remake every output of every dataset: the fast spelling must be
    the JSON one exactly, for every source and companion hash."""
    assert keys.content_digest(source, companions) == keys.digest(source, companions)


def test_an_inputs_content_digest_is_pinned():
    assert keys.content_digest("0" * 64, []) == "d7e0ed65272344a2827ab6621aac7bf0"
    assert keys.content_digest(None, []) == "97e867fa2e1e654b72b811eea81bfd7a"


def test_a_plan_keeps_each_input_as_text_in_slotted_records(dataset, tmp_path):
    plan = build_plan(parse_recipe(RECIPE), dataset.resolve(), tmp_path / "out")
    job = plan.jobs[0]
    assert type(job.source_path) is str and job.source == dataset.resolve() / job.relative
    for record in (job, job.outputs[0]):
        assert not hasattr(record, "__dict__")  # slots: no mapping per input or per output
    again = pickle.loads(pickle.dumps(job))  # as a worker receives it
    assert again == job and again.source == job.source
    assert isinstance(job, Job) and isinstance(job.outputs[0], Output)


def test_a_rerun_that_hashes_nothing_keeps_no_hash_map_per_input(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    recipe = parse_recipe(RECIPE)

    def assessed() -> tuple[assess.Status, state.State]:
        plan = build_plan(recipe, dataset.resolve(), out)
        known = state.load(out)
        return assess.assess(plan, recipe, out, known, rebuild=False), known

    status, _ = assessed()
    assert status.tasks == [] and status.companions == {} and not status.hashes_changed
    changed = dataset / "dogs" / "dog0.png"
    changed.write_bytes((dataset / "dogs" / "dog1.png").read_bytes())
    status, known = assessed()
    assert [task.job.relative for task in status.tasks] == ["dogs/dog0.png"] and status.hashes_changed
    info = os.stat(changed)
    whole = os.fspath(dataset.resolve() / "dogs/dog0.png")
    assert status.input_files("dogs/dog0.png") == (whole,)
    sha = hashlib.sha256(changed.read_bytes()).hexdigest()
    expected = {whole: [info.st_size, info.st_mtime_ns, info.st_ino, sha]}
    assert runner._input_hashes(status, known, "dogs/dog0.png") == expected  # journalled with its outputs


def test_an_input_journals_its_companions_hashes_and_a_killed_run_needs_no_rehash(tmp_path):
    """A label and a mask are the input's too: their cache entries go into the journal with its
    outputs, so the rerun after a kill finds every file of the input hashed."""
    from tests.test_annotations import GEOMETRIC, detection_dataset
    from tests.test_annotations import recipe as detection_recipe

    data = detection_dataset(tmp_path / "data", "yolo").resolve()
    recipe_path = detection_recipe(tmp_path, "yolo", GEOMETRIC, copies=1)
    recipe = parse_recipe(recipe_path.read_text(), base_dir=recipe_path.parent)
    out = tmp_path / "out"
    plan = build_plan(recipe, data, out)
    known = state.load(out)
    status = assess.assess(plan, recipe, out, known, rebuild=False)
    relative = "images/train/im1.png"
    files = status.input_files(relative)
    assert files == tuple(os.fspath(data / p) for p in (relative, "labels/train/im1.txt", "masks/train/im1.png"))
    hashes = runner._input_hashes(status, known, relative)
    assert list(hashes) == list(files)
    for path, entry in hashes.items():
        info = os.stat(path)
        assert entry == [
            info.st_size,
            info.st_mtime_ns,
            info.st_ino,
            hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        ]


SHA = "a" * 64


def test_a_units_own_file_shares_the_units_string_and_every_other_cell_is_still_checked():
    unit = "".join(["cats/", "cat0.jpg"])  # built, so not the literal below
    record = {"key": "k", "files": [["cats/cat0.jpg", SHA], ["cats/cat0.txt", SHA]]}
    assert state._plain_record(unit, record)
    assert record["files"][0][0] is unit
    assert not state._plain_record("cats/a.jpg", {"key": "k", "files": [["cats/a.jpg", SHA], ["../b", SHA]]})
    assert not state._plain_record("cats/a.jpg", {"key": "k", "files": [["cats/a.jpg", "b" * 63]]})
    # a cell spelt as a bytes: cell goes the slow way even when it equals the unit's name
    assert not state._plain_record("bytes:a", {"key": "k", "files": [["bytes:a", SHA]]})


@pytest.mark.parametrize("bad", [[1, 2, True], [1, 2, "3"], [1, 2], "1,2,3", [1.0, 2, 3]])
def test_a_cache_entry_of_the_wrong_kind_is_dropped_and_the_rest_kept(tmp_path, bad):
    good = [10, 20, 30]
    (tmp_path / ".augcli-cache.json").write_text(
        json.dumps({"hashes": {"/in/a": [*good, SHA], "/in/b": [*bad, SHA]}, "stamps": {"a": good, "b": bad}})
    )
    known = state.State(root=tmp_path)
    state._load_cache(known, tmp_path / ".augcli-cache.json")
    assert known.stamps == {"a": good}
    if len(bad) == 3 and isinstance(bad, list):
        assert known.hashes == {"/in/a": [*good, SHA]}


def test_a_cache_that_is_not_two_mappings_is_dropped_whole(tmp_path):
    (tmp_path / ".augcli-cache.json").write_text(json.dumps({"hashes": [], "stamps": {"a": [1, 2, 3]}}))
    known = state.State(root=tmp_path)
    state._load_cache(known, tmp_path / ".augcli-cache.json")
    assert known.hashes == {} and known.stamps == {}


def test_paths_in_a_plan_are_as_the_walk_found_them(tmp_path):
    (tmp_path / "in" / "a").mkdir(parents=True)
    (tmp_path / "in" / "a" / "x.png").write_bytes(b"")
    from augcli.build.plan import walk

    assert list(walk(tmp_path / "in")) == [(os.fspath(tmp_path / "in" / "a" / "x.png"), "a/x.png")]
    assert isinstance(next(iter(walk(Path(tmp_path / "in"))))[0], str)


TRICKY_JSON = [
    b'\xef\xbb\xbf{"a":1}',  # a BOM
    '{"a":"\u00e9"}'.encode("utf-16"),
    b'{"a":"\\udcff"}',  # a name that is not UTF-8, as json.dumps escapes it
    b'{"a":"\xff"}',
    b"[1,",
    b"[NaN, Infinity, 1e400, -0, 1.5e-400]",
    b'{"a":1,"a":2}',
    b'["a\nb"]',  # a raw control character in a string
    b"[18446744073709551615, -9223372036854775808]",
    b"[" * 3000 + b"]" * 3000,  # deeper than either parser goes
]


@pytest.mark.parametrize("raw", TRICKY_JSON)
def test_a_state_file_is_decoded_as_json_loads_decodes_it(tmp_path, raw):
    from augcli.storage.untrusted import UntrustedError, read_json_file

    (tmp_path / "f.json").write_bytes(raw)
    try:
        expected = json.loads(raw)
    except RecursionError:
        with pytest.raises(UntrustedError, match=r"f\.json: JSON nested too deep"):
            read_json_file(tmp_path / "f.json")
    except ValueError:
        with pytest.raises(UntrustedError, match=r"f\.json is not valid JSON"):
            read_json_file(tmp_path / "f.json")
    else:
        found = read_json_file(tmp_path / "f.json")
        assert json.dumps(found) == json.dumps(expected)  # NaN equal to NaN, -0.0 told from 0.0
        assert found == expected or expected != expected


def test_a_state_files_bytes_are_let_go_before_its_objects_are_made(tmp_path):
    """At a million files the state is hundreds of MB: its bytes, its text and its objects are
    never held all at once."""
    import tracemalloc

    from augcli.storage.untrusted import read_json_file

    size = 8 << 20
    (tmp_path / "big.json").write_text(json.dumps({"a": "x" * size}))
    tracemalloc.start()
    try:
        value = read_json_file(tmp_path / "big.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(value["a"]) == size
    assert peak < 2.5 * size  # bytes and text, then text and objects: never all three (3x)


def test_the_cache_keeps_the_hashes_of_the_inputs_still_there_and_only_those(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"

    def cached() -> set[str]:
        return set(json.loads((out / ".augcli-cache.json").read_text())["hashes"])

    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    every = cached()
    assert {Path(p).name for p in every} == {"cat0.jpg", "cat1.jpg", "cat2.jpg", "dog0.png", "dog1.png"}
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    assert cached() == every  # a rerun keeps them all
    (dataset / "cats" / "cat2.jpg").unlink()
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    assert {Path(p).name for p in cached()} == {"cat0.jpg", "cat1.jpg", "dog0.png", "dog1.png"}


@pytest.mark.parametrize(
    ("cached", "used", "kept"),
    [
        ({"a", "b"}, {"a", "b"}, {"a", "b"}),
        ({"a", "b", "c"}, {"a", "b"}, {"a", "b"}),
        ({"b", "c"}, {"a", "b"}, {"b"}),  # as many used as cached, not the same: "a" failed to hash
        ({"a"}, set(), set()),
    ],
)
def test_kept_hashes_are_those_used_and_cached(cached, used, kept):
    known = state.State(hashes={path: [1, 2, 3, SHA] for path in cached})
    table = known.hashes
    for path in used:  # what a run's Hasher asked for
        table.mark(path)
    state.keep_hashes(known)
    assert set(known.hashes) == kept
    assert (known.hashes is table) == (kept == cached)  # untouched when every entry is used


def test_check_reads_the_manifest_lines_only_where_a_run_would_render_the_manifest(
    dataset, recipe_file, tmp_path, monkeypatch
):
    """A million files' lines are gigabytes in memory: --check, like a rerun that changes nothing,
    trusts the manifest the last run wrote while its stat or content is that one."""
    from augcli.build import runner

    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    recipe = parse_recipe(RECIPE)
    reads = []
    lines = state.State.lines
    monkeypatch.setattr(state.State, "lines", lambda self: reads.append(1) or lines(self))

    def check() -> runner.CheckReport:
        return runner.check(build_plan(recipe, dataset.resolve(), out), recipe, out)

    assert check().up_to_date and reads == []
    os.utime(out / "manifest.csv", ns=(1, 1))  # a new stat, the same content: hashed, not rendered
    assert check().up_to_date and reads == []
    (out / ".augcli-journal.jsonl").write_bytes(b"")  # a stopped run's journal: a run would render
    assert check().up_to_date and reads == [1]
    (out / ".augcli-journal.jsonl").unlink()
    (out / "manifest.csv").write_bytes((out / "manifest.csv").read_bytes() + b"x")
    report = check()
    assert reads == [1, 1] and report.manifest_stale.startswith("it does not list what OUTPUT holds")


def test_check_loads_and_keys_with_the_collector_held_as_a_run_does(dataset, recipe_file, tmp_path, monkeypatch):
    """A full collection walks every record again: at a million files --check took 74 s, not 56."""
    import gc

    from augcli.build import runner

    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    seen = []
    load, assessed = state.load, runner.assess
    monkeypatch.setattr(state, "load", lambda *a: seen.append(gc.isenabled()) or load(*a))
    monkeypatch.setattr(runner, "assess", lambda *a, **k: seen.append(gc.isenabled()) or assessed(*a, **k))
    recipe = parse_recipe(RECIPE)
    assert gc.isenabled()
    assert runner.check(build_plan(recipe, dataset.resolve(), out), recipe, out).up_to_date
    assert seen == [False, False] and gc.isenabled()


@pytest.mark.parametrize("sha", [5, None, [1], "xyz", "A" * 64])
def test_a_cached_hash_that_is_not_a_sha256_is_dropped_and_the_input_hashed_again(dataset, recipe_file, tmp_path, sha):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    cache = json.loads((out / ".augcli-cache.json").read_text())
    for entry in cache["hashes"].values():
        entry[3] = sha
    (out / ".augcli-cache.json").write_text(json.dumps(cache))
    known = state.load(out)
    assert known.hashes == {}  # every entry dropped: the inputs are hashed again
    result = invoke("run", recipe_file, dataset, out, "--workers", "1")
    assert result.exit_code == 0 and "5 up to date, 0 made" in result.stderr
    assert all(len(entry[3]) == 64 for entry in json.loads((out / ".augcli-cache.json").read_text())["hashes"].values())


def test_units_a_pool_made_are_named_with_the_plans_strings(dataset, tmp_path, monkeypatch):
    """A worker's result comes through a pipe with its own copy of every path; the state keeps
    the plan's (one string per output for the rest of the run, not two)."""
    from augcli.build import runner

    recipe = parse_recipe(RECIPE)
    plan = build_plan(recipe, dataset.resolve(), tmp_path / "out")
    planned = {id(path) for job in plan.jobs for output in job.outputs for path in output.files}
    seen = []
    remember = runner._Run.remember

    def spying(self, made, record):
        seen.append((made.output, [entry[0] for entry in made.files]))
        return remember(self, made, record)

    monkeypatch.setattr(runner._Run, "remember", spying)
    summary = runner.run(plan, recipe, tmp_path / "out", runner.Options(workers=2))
    assert summary.made == len(plan.jobs) and len(seen) == sum(len(job.outputs) for job in plan.jobs)
    for unit, cells in seen:
        assert id(unit) in planned and all(id(cell) in planned for cell in cells), unit


@settings(max_examples=300, deadline=None)
@given(
    original=st.booleans(),
    copies=st.lists(st.sampled_from(["plain", "companion", "paste", "partners"]), max_size=4),
)
def test_a_job_gives_its_outputs_back_as_planned_whether_held_as_paths_or_outputs(original, copies):
    """Job.of keeps a job's outputs as their paths when none has companions, partners or paste,
    and gives back equal Outputs numbered as planned (original None, then copies 0, 1, ...); any
    other job keeps its Outputs, its plain ones numbered by their place as well."""
    relative = "cats/a.png"
    expected = [Output(relative, None)] if original else []
    for k, kind in enumerate(copies):
        extra = {"companion": {"companions": (f"labels/a_aug{k}.txt",)}, "paste": {"paste": ("cat",)}}
        extra["partners"] = {"partners": (("cats/b.png",),)}
        expected.append(Output(f"cats/a_aug{k}.png", k, **extra.get(kind, {})))
    given_outputs = [o.path if not (o.companions or o.partners or o.paste) else o for o in expected]
    job = Job.of("/data/", relative, "image", given_outputs)
    assert job.outputs == tuple(expected)
    assert job.output_paths == tuple(o.path for o in expected)
    assert job.written == tuple(path for o in expected for path in o.files)
    assert all(type(p) is str for p in job.planned) == all(kind == "plain" for kind in copies)
    assert job.source_path == "/data/cats/a.png" and pickle.loads(pickle.dumps(job)).outputs == job.outputs


def test_a_plan_of_plain_outputs_holds_their_paths_only(dataset, tmp_path):
    """No Output object per file in a plan whose outputs have no companions (about 150 bytes an
    input at a million), and no whole input path (Job.root is one string all jobs share)."""
    plan = build_plan(parse_recipe(RECIPE), dataset.resolve(), tmp_path / "out")
    assert plan.jobs and all(type(path) is str for job in plan.jobs for path in job.planned)
    assert len({id(job.root) for job in plan.jobs}) == 1
    assert plan.output_count == sum(len(job.outputs) for job in plan.jobs) == 4 * len(plan.jobs)


def test_a_runs_claims_are_journalled_in_pieces_and_only_those_no_unit_landed_in_become_garbage(tmp_path, monkeypatch):
    """A first run of a million files claims two million paths: they are journalled a few
    thousand to a line (a kill loses none of them) and held as one sorted list; once the jobs ran,
    only those no landed unit owns (a failed job's) join the state's garbage."""
    from augcli.build.make import Made
    from augcli.storage.tree import OutputTree

    monkeypatch.setattr(state, "GARBAGE_PER_ENTRY", 2)
    claims = ["a.png", "b.png", "c/d.png", "e.png", "f.png"]
    known = state.State(root=tmp_path)
    with OutputTree(tmp_path) as tree:
        work = runner._Run(tmp_path, known, tree)
        work.claim(claims)
        made = Made("e.png", [["e.png", SHA, [1, 2, 3], "e.png,line"]])
        work.put(made, runner._record("k", made))
        work.journal.close()
        assert [work.claimed(c) for c in (*claims, "x.png", "c")] == [True] * 5 + [False, False]
        assert work.unclaimed_leftovers() == ["a.png", "b.png", "c/d.png", "f.png"]
    entries = [json.loads(line) for line in state.path(tmp_path, state.JOURNAL).read_text().splitlines()]
    assert [e["garbage"] for e in entries if "garbage" in e] == [["a.png", "b.png"], ["c/d.png", "e.png"], ["f.png"]]
    again = state.load(tmp_path)  # a killed run: every claim is garbage, the landed unit is recorded
    assert again.garbage == set(claims) and list(again.units) == ["e.png"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.png", "a_aug0.png", "a0.png", "b/c.png", "é.png"]),
            st.one_of(st.none(), st.text("0123456789abcdef", min_size=32, max_size=32), st.text(max_size=33)),
        ),
        max_size=12,
    )
)
def test_unit_keys_read_back_as_a_dict_of_the_last_key_set(puts):
    """The keys of the units a run makes, held as 16 bytes each where the key is a digest: any
    other key (None for an unreadable input, other text) comes back as it was put."""
    table, model = assess.UnitKeys(), {}
    for unit, key in puts:
        table[unit] = key
        model[unit] = key
    assert {unit: table.get(unit) for unit in table} == model and len(table) == len(model)
    assert table.get("missing.png") is None


def test_a_task_of_every_output_holds_no_output_until_asked(dataset, tmp_path):
    """A first run's tasks wait with their job alone: the outputs are made when a worker (or the
    claim before it) asks, so a million waiting tasks hold no two million Outputs."""
    recipe = parse_recipe(RECIPE)
    plan = build_plan(recipe, dataset.resolve(), tmp_path / "out")
    status = assess.assess(plan, recipe, tmp_path / "out", state.load(tmp_path / "out"), rebuild=False)
    assert status.tasks and all(task.needed is None for task in status.tasks)
    for task in status.tasks:
        assert task.outputs == task.job.outputs and len(task.outputs) == recipe.copies + 1
        again = pickle.loads(pickle.dumps(task))  # as a worker receives it
        assert again.outputs == task.outputs
    assert len(status.unit_keys) == sum(len(task.outputs) for task in status.tasks)
    assert all(len(status.unit_keys.get(o.path)) == 32 for task in status.tasks for o in task.outputs)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.png", "b.png", "c/d.png", "z.png", "m.png"]),
            st.sampled_from(["own", "pair", "other", "run", "delete"]),
        ),
        max_size=14,
    )
)
def test_the_state_owns_exactly_the_cells_of_its_records(puts):
    """`owns` answers as the set of every record's cells does, without making that set: records of
    one file in and out of the list, several files, a file not the unit's own, deletions."""
    known = state.State()
    for unit, shape in puts:
        if shape == "delete":
            known.units.pop(unit, None)
            continue
        files = {"own": [unit], "pair": [unit, unit + ".txt"], "other": ["x/" + unit], "run": [unit]}[shape]
        record = {"key": "k", "files": [[cell, SHA] for cell in files]} | ({"run": True} if shape == "run" else {})
        known.units[unit] = state.packed(unit, record)
    owns, owned = known.owns(), known.owned()
    for cell in ["a.png", "b.png", "c/d.png", "z.png", "m.png", "a.png.txt", "x/a.png", "x/z.png", "q.png"]:
        assert owns(cell) == (cell in owned)


def test_foreign_files_are_found_with_one_look_per_missing_folder(tmp_path, monkeypatch):
    """A first run into an empty OUTPUT looks once at each missing folder, not at each of its
    million files; a file in a folder whose name only starts like a missing one is still found."""
    out = tmp_path / "out"
    for name in ["a/x.png", "b2/x.png", "c/d2/x.png", "mine.png"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"someone's")
    new = [
        "a/x.png",
        "a/y.png",
        "b/x.png",
        "b/y.png",
        "b/c/x.png",
        "b2/x.png",
        "c/d/x.png",
        "c/d2/x.png",
        "mine.png",
        "top.png",
    ]
    known = state.State(root=out)
    known.units["mine.png"] = state.packed("mine.png", {"key": "k", "files": [["mine.png", SHA]]})
    looked: list[str] = []
    real = os.path.lexists
    monkeypatch.setattr(assess.os.path, "lexists", lambda p: looked.append(p) or real(p))
    found = assess.foreign_files(assess.Status(new=new), out, known)
    assert found == ["a/x.png", "b2/x.png", "c/d2/x.png"]
    root = os.fspath(out) + "/"
    assert looked.count(root + "b") == 1 and not any(
        p.startswith(root + "b/") and p != root + "b/x.png" for p in looked
    )


@settings(max_examples=300, deadline=None)
@given(st.permutations(list(range(12))), st.sampled_from([1, 2, 5, 12]), st.sets(st.integers(0, 11), max_size=3))
def test_results_land_in_task_order_and_none_is_lost(arrival, limit, silent):
    """Results come back a little shuffled; the state takes them in the tasks' order (so its
    tables keep them as columns) unless more than `limit` wait; every one is taken exactly once."""
    names = [f"in{i:02d}.png" for i in range(12)]
    in_order = runner.InOrder(names, limit)
    taken: list[str] = []
    for index in arrival:
        if index not in silent:  # (a task that gave no result: its turn never comes)
            taken += in_order.add(names[index], names[index])
            assert len(in_order._waiting) <= limit
    before_rest = len(taken)
    taken += in_order.rest()
    assert sorted(taken) == sorted(names[i] for i in range(12) if i not in silent)
    if limit >= 12:  # none hurried: in order up to the first silent task, the rest at the end
        first_silent = min(silent, default=12)
        assert taken[:before_rest] == names[:first_silent]


def test_a_two_worker_first_run_keeps_every_record_stat_and_line_in_the_columns(tmp_path, monkeypatch):
    """Results that came back out of order are taken in the tasks' order: a first run's state holds
    nothing beside its columns (each entry beside them costs a record, a stat or a line's place)."""
    data = tmp_path / "data"
    for i in range(40):
        folder = data / f"c{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"im{i:02d}.png").write_bytes(_tiny_png(i))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\ncopies: 2\nimage:\n  transforms:\n    - hflip: {p: 0.5}\n")
    from augcli.build import lines

    monkeypatch.setattr(lines, "SPILL_AFTER", 10)
    seen = []
    real_save = state.save

    def save(root, known, *args, **kwargs):
        spilled = known._spilled
        seen.append((len(known.units), known.units._columns.extra, known.stamps._columns.extra))
        seen.append((spilled.spilled, len(spilled), spilled._index.extra))
        held = os.readlink(f"/proc/self/fd/{spilled._file.fileno()}")  # the run's lines wait in OUTPUT
        seen.append(os.path.samefile(os.path.dirname(held.removesuffix(" (deleted)")), root))
        return real_save(root, known, *args, **kwargs)

    def spill_files() -> list[str]:
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue  # (the listing's own descriptor, closed by now)
        return [link for link in links if ".augcli-tmp" in link]

    monkeypatch.setattr(state, "save", save)
    result = invoke("run", recipe, data, tmp_path / "out", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert seen == [(120, {}, {}), (True, 120, {}), True]
    assert spill_files() == []  # let go when the run ended


def _tiny_png(seed: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_input_unread_this_run_has_no_hash_though_the_cache_keeps_an_old_one(tmp_path):
    """A worker death of an input that could not be read is recorded with no hash (as when the
    hash was kept per input), and its stale cache entry is not journalled with it."""
    from augcli.build.plan import Plan
    from augcli.build.stat_cache import StatTable

    plan = Plan(input_root=tmp_path)
    plan.jobs.append(Job.of(os.fspath(tmp_path) + "/", "a.png", "image", ("a.png",)))
    hashes = StatTable(4)
    hashes[os.fspath(tmp_path / "a.png")] = [1, 2, 3, SHA]
    known = state.State(hashes=hashes)
    status = assess.Status(plan=plan)
    assert status.source_sha("a.png", hashes) == SHA
    assert list(runner._input_hashes(status, known, "a.png")) == [os.fspath(tmp_path / "a.png")]
    status.unhashed.add("a.png")
    assert status.source_sha("a.png", hashes) is None and runner._input_hashes(status, known, "a.png") == {}


def test_assess_notes_the_inputs_it_could_not_read(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.png").write_bytes(_tiny_png(1))
    (data / "b.png").symlink_to(data / "missing.png")  # walked, and fails when read
    recipe = parse_recipe(RECIPE)
    plan = build_plan(recipe, data.resolve(), tmp_path / "out")
    status = assess.assess(plan, recipe, tmp_path / "out", state.load(tmp_path / "out"), rebuild=False)
    assert [task.job.relative for task in status.tasks] == ["a.png", "b.png"] and status.unhashed == {"b.png"}
