"""The stat cache packed in memory: the same answers, the same file, a fraction of the memory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from augcli.build import assess, runner, stat_cache, state
from augcli.build.plan import build_plan
from augcli.build.stat_cache import StatTable, pack_stat
from augcli.core.recipe import parse_recipe
from augcli.storage import json_stream
from tests.conftest import RECIPE
from tests.test_cli import invoke

SHA = "0123456789abcdef" * 4
_INTS = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63)]))
_PATHS = st.one_of(st.text(max_size=12), st.sampled_from(['a"b', "a\\b", "é/ü", "\udcff.png", "", "\x00"]))
_STATS = st.tuples(_INTS, _INTS, _INTS).map(list)
_HASH_VALUES = st.one_of(
    st.tuples(_INTS, _INTS, _INTS, st.sampled_from([SHA, SHA.upper(), SHA[:63], SHA + "\n", 5])).map(list),
    _STATS,
    st.sampled_from([[1, 2, True, SHA], [1.0, 2, 3, SHA], "1,2,3", None, {}, [[1], 2, 3, SHA]]),
)
_STAMP_VALUES = st.one_of(
    _STATS, st.sampled_from([[1, 2, True], [1, 2, "3"], [1, 2], "1,2,3", [1.0, 2, 3], [1, 2, 3, 4]])
)


def _read(text: str, shared=None):
    """stat_cache.read_file on this text, as a cache file."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / ".augcli-cache.json"
        file.write_text(text)
        return stat_cache.read_file(file, shared)


def _fits(value, width: int) -> bool:
    """The old reader's rule for an entry it kept."""
    return (
        type(value) is list
        and len(value) == width
        and all(type(v) is int for v in value[:3])
        and (width == 3 or (type(value[3]) is str and len(value[3]) == 64 and value[3] == value[3].lower()))
        and (width == 3 or all(c in "0123456789abcdef" for c in value[3]))
    )


@settings(max_examples=300, deadline=None)
@given(
    hashes=st.dictionaries(_PATHS, _HASH_VALUES, max_size=6),
    stamps=st.dictionaries(_PATHS, _STAMP_VALUES, max_size=6),
    indent=st.sampled_from([None, None, 1]),
)
@example(hashes={"a": [1, 2, 2**64, SHA]}, stamps={"b": [-5, 2**80, 0]}, indent=None)
def test_a_cache_reads_as_json_loads_reads_it_less_the_entries_of_the_wrong_shape(hashes, stamps, indent):
    separators = (",", ":") if indent is None else None
    text = json.dumps({"hashes": hashes, "stamps": stamps}, indent=indent, separators=separators, sort_keys=True)
    read_hashes, read_stamps = _read(text)
    assert dict(read_hashes.items()) == {k: v for k, v in hashes.items() if _fits(v, 4)}
    assert dict(read_stamps.items()) == {k: v for k, v in stamps.items() if _fits(v, 3)}


@settings(max_examples=200, deadline=None)
@given(hashes=st.dictionaries(_PATHS, _HASH_VALUES, max_size=6), stamps=st.dictionaries(_PATHS, _STATS, max_size=6))
def test_a_cache_is_written_as_json_dumps_writes_it(hashes, stamps):
    """The same text as before (sorted keys, no spaces, ASCII escapes), for any path and number."""
    tables = StatTable(4, hashes), StatTable(3, stamps)
    kept = {k: v for k, v in hashes.items() if _fits(v, 4)}
    expected = json.dumps({"hashes": kept, "stamps": stamps}, sort_keys=True, separators=(",", ":"))
    written = b"".join(stat_cache.write_chunks(*tables, list(stamps))).decode()
    assert written == expected
    again = _read(written)
    assert dict(again[0].items()) == kept and dict(again[1].items()) == stamps


@pytest.mark.parametrize(
    "text",
    [
        '{"hashes":{"a":[1,2,3,"' + SHA + '"],"a":5},"stamps":{}}',  # the last of equal keys decides
        '{"hashes":{},"stamps":{"a":[1,2,3]},"stamps":{"b":[1,2,3]}}',
        '{"stamps":{"a":[1,2,3]},"hashes":{"h":[1,2,3,"' + SHA + '"]}}',  # written in another order
        '{"hashes":{},"stamps":{"a":[1,2,3]},"other":1}',
        '{"hashes":{"a":[1,2,3,"' + SHA + '"]}, "stamps":{}}',
        '{"hashes":{"a":[1,2,3,"' + SHA + '"]},"stamps":{}}  ',
        '{"hashes":{"a":[1,2,3,"' + SHA + '"]},"stamps":{"b":[1e3,2,3]}}',
    ],
)
def test_a_cache_written_otherwise_reads_as_json_loads_reads_it(text):
    data = json.loads(text)
    hashes, stamps = _read(text)
    assert dict(hashes.items()) == {k: v for k, v in data["hashes"].items() if _fits(v, 4)}
    assert dict(stamps.items()) == {k: v for k, v in data["stamps"].items() if _fits(v, 3)}


@pytest.mark.parametrize(
    "text", ["[]", '{"hashes":[],"stamps":{}}', '{"hashes":{}}', "{", '{"hashes":{"a":[1,2,3]]', "[" * 100_000]
)
def test_a_cache_that_is_not_two_mappings_is_refused(text):
    with pytest.raises(ValueError):
        _read(text)


@settings(max_examples=300, deadline=None)
@given(cached=_STATS, now=_STATS)
def test_a_stat_is_current_exactly_when_its_three_numbers_are(cached, now):
    table = StatTable(4, {"a": [*cached, SHA]})
    stamps = StatTable(3, {"a": cached})
    same = cached == now
    assert (table.sha_if_current("a", pack_stat(*now)) == SHA) == same
    assert stamps.current("a", pack_stat(*now)) == same
    assert table.sha_if_current("b", pack_stat(*now)) is None and not stamps.current("b", pack_stat(*now))


def test_a_stamps_path_is_the_units_string_when_the_unit_owns_it():
    unit = "".join(["part/", "a.png"])
    owner = SimpleNamespace(cells=unit)
    text = json.dumps({"hashes": {}, "stamps": {"part/a.png": [1, 2, 3], "part/b.txt": [1, 2, 3]}})
    _, stamps = _read(text.replace(" ", ""), {"part/a.png": owner, "part/b.txt": SimpleNamespace(cells=7)})
    assert next(key for key in stamps if key == unit) is unit


def test_a_large_cache_costs_a_fraction_of_its_lists_once_read(tmp_path, monkeypatch):
    """Parsed as lists a cache entry costs about 300 (stamp) to 430 (hash) bytes with its path;
    packed in a dict of bytes about 340 the pair; in the table's sorted list and bytearray 260 (of
    which 165 are the two paths): a million-file cache is no longer a gigabyte. It is read a
    megabyte at a time: neither its text nor its lists exist all at once."""
    count = 20_000
    text = json.dumps(
        {
            "hashes": {
                f"/data/in/part{i // 1000:04d}/img{i:07d}.png": [852, 10**18 + i, 10**6 + i, SHA] for i in range(count)
            },
            "stamps": {f"part{i // 1000:04d}/img{i:07d}.png": [852, 10**18 + i, 10**6 + i] for i in range(count)},
        },
        separators=(",", ":"),
    )
    (tmp_path / "cache.json").write_text(text)
    size = len(text)
    del text
    monkeypatch.setattr(json_stream, "CHUNK", 1 << 16)
    tracemalloc.start()
    tables = stat_cache.read_file(tmp_path / "cache.json")
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(tables[0]) == len(tables[1]) == count
    assert held / count < 290, held / count
    assert peak - held < size / 2, (peak - held, size)  # never the file's whole text


def test_a_clone_of_output_is_current_when_its_outputs_are_stated_in_batches(
    dataset, recipe_file, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    clone = tmp_path / "clone"
    shutil.copytree(out, clone)  # every output's stat is new: each is hashed again, batch by batch
    os.remove(clone / ".augcli-cache.json")
    monkeypatch.setattr(assess, "STAT_AHEAD_JOBS", 2)
    monkeypatch.setattr(assess, "HASH_AHEAD_FROM", 1)
    batches = []
    real = assess.hash_changed_outputs

    def batch(root, known, cells):
        assert not known.seen and not known.hashed  # the last batch's findings are let go
        batches.append(len(cells))
        real(root, known, cells)

    monkeypatch.setattr(assess, "hash_changed_outputs", batch)
    recipe = parse_recipe(RECIPE)
    plan = build_plan(recipe, dataset.resolve(), clone)
    known = state.load(clone)
    status = assess.assess(plan, recipe, clone, known, rebuild=False)
    assert status.tasks == [] and status.removed == [] and status.new == [] and status.changed == []
    per_job = max(len(job.outputs) for job in plan.jobs)
    assert len(batches) == (len(plan.jobs) + 1) // 2 and max(batches) <= 2 * per_job
    assert sum(batches) == sum(len(job.outputs) for job in plan.jobs)
    assert known.seen == set() and known.hashed == {}  # nothing of the last batch kept
    assert len(known.stamps) == sum(len(job.outputs) for job in plan.jobs)  # each new stat learnt


def test_an_input_gone_removes_its_outputs_and_only_those(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    recipe = parse_recipe(RECIPE)
    (dataset / "dogs" / "dog0.png").unlink()
    plan = build_plan(recipe, dataset.resolve(), out)
    status = assess.assess(plan, recipe, out, state.load(out), rebuild=False)
    assert status.removed and all(unit.startswith("dogs/dog0") for unit in status.removed)
    assert status.planned == {o.path for job in plan.jobs for o in job.outputs}


def test_a_rerun_plan_names_its_outputs_with_the_states_strings(dataset, recipe_file, tmp_path):
    """One string per output path in a large rerun: the plan's, the state's and the cache's."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    recipe = parse_recipe(RECIPE)
    plan = build_plan(recipe, dataset.resolve(), out)
    known = state.load(out, inputs=runner._input_names(plan), prefix=plan.source_prefix)
    assert assess.assess(plan, recipe, out, known, rebuild=False).tasks == []
    hashed = {name: name for name in known.hashes._columns.keys}  # an input's hash, by its relative path
    assert all(hashed[job.relative] is job.relative for job in plan.jobs)
    assert all(job.source_path in known.hashes and job.source_path not in hashed for job in plan.jobs)
    names = {name: name for name in known.units}
    stamps = {name: name for name in known.stamps}
    outputs = [(job, output) for job in plan.jobs for output in job.outputs]
    assert outputs and all(names[output.path] is output.path is stamps[output.path] for _, output in outputs)
    originals = [(job, output) for job, output in outputs if output.copy is None]
    assert originals and all(job.relative is output.path for job, output in originals)


def test_without_originals_an_inputs_hash_is_held_under_the_plans_string(dataset, tmp_path):
    """No unit names an input when originals are not kept: the cache holds each input's hash under
    the plan's relative path (from `inputs`), not a string of its own."""
    out, recipe_file = tmp_path / "out", tmp_path / "recipe.yaml"
    recipe_file.write_text(RECIPE.replace("copies: 3", "copies: 1\nkeep_original: false"))
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    recipe = parse_recipe(recipe_file.read_text())
    plan = build_plan(recipe, dataset.resolve(), out)
    known = state.load(out, inputs=runner._input_names(plan), prefix=plan.source_prefix)
    assert not any(job.relative in known.units for job in plan.jobs)
    hashed = {name: name for name in known.hashes._columns.keys}
    assert plan.jobs and all(hashed[job.relative] is job.relative for job in plan.jobs)


@pytest.mark.parametrize("check", [False, True])
def test_a_run_and_a_check_give_the_state_their_plans_input_paths(dataset, recipe_file, tmp_path, monkeypatch, check):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    given = []
    load = state.load
    monkeypatch.setattr(
        state, "load", lambda *args, **kwargs: given.append(args[2:] or kwargs) or load(*args, **kwargs)
    )
    assert invoke("run", recipe_file, dataset, out, "--workers", "1", *(["--check"] if check else [])).exit_code == 0
    inputs, prefix = given[0] if type(given[0]) is tuple else (given[0]["inputs"], given[0]["prefix"])
    assert prefix == os.fspath(dataset.resolve()) + "/"
    assert sorted(prefix + relative for relative in inputs) == sorted(
        os.fspath(p) for p in dataset.resolve().rglob("*.*") if p.suffix in (".jpg", ".png")
    )


@settings(max_examples=200, deadline=None)
@given(
    lines=st.dictionaries(st.text(max_size=6), st.text(max_size=8), max_size=40),
    batch=st.sampled_from([1, 2, 3, 8192]),
)
def test_the_manifest_in_pieces_is_the_manifest(lines, batch):
    from augcli.build import manifest

    texts = [lines[cell] for cell in sorted(lines)]
    whole = ("\n".join([",".join(manifest.COLUMNS), *texts]) + "\n").encode()  # each row, then a newline
    assert b"".join(manifest.render_chunks(texts, batch)) == whole == manifest.render(lines.items())


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "set", "del", "read", "wide", "learn", "mark"]),
        st.sampled_from(["/in/a", "/in/b", "/in/c", "/in/d", "/x/e", "/in/sub/f", "a"]),  # "a": apart, as a key
        st.integers(0, 3),
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(width=st.sampled_from([3, 4]), prefix=st.sampled_from(["", "/in/"]), ops=_OPS)
def test_a_table_answers_as_a_dict_of_its_entries_whatever_order_they_come_in(width, prefix, ops):
    """The columnar table (a sorted list with entries in place, a dict for the rest, marks for the
    gone; with a prefix, paths under it held without it and the rest apart) against a plain dict,
    through every way an entry comes, changes and goes: in order and out of it, a stat past 2262
    that does not fit the list, a reader's entry of the wrong shape, another table's entries; then
    what the run asked for (marks) kept, and the file it writes."""
    table, expected, marked = StatTable(width, prefix=prefix), {}, set()
    for op, path, number in ops:
        value = [number, 10**18 + number, 7] + ([SHA] if width == 4 else [])
        if op == "wide":
            value[1] = 2**70  # past _STAT's range: never in the list
        marked -= {path, "/in/c"} if op == "learn" else set() if op == "mark" else {path}  # a put or delete unmarks
        if op in ("set", "wide"):
            table[path] = value
            expected[path] = value
        elif op == "del":
            assert (path in table) == (path in expected)
            if path in expected:
                del table[path], expected[path]
            else:
                with pytest.raises(KeyError):
                    del table[path]
        elif op == "read":  # a file's entry: of the wrong shape when number is 0
            table.read_entry(path, None if number == 0 else stat_cache._packed(value, width))
            if number == 0:
                expected.pop(path, None)
            else:
                expected[path] = value
        elif op == "mark":
            table.mark(path)
            if path in expected:
                marked.add(path)
        else:
            table.learn(StatTable(width, {path: value, "/in/c": value}))
            expected.update({path: value, "/in/c": value})
        assert len(table) == len(expected) and sorted(table) == sorted(expected)
    assert dict(table.items()) == expected
    for path in ["/in/a", "/in/b", "/in/c", "/in/d", "/x/e", "/in/sub/f", "/in/g", "g", "a"]:
        assert table.get(path) == expected.get(path) and (path in table) == (path in expected)
        stat = pack_stat(*expected[path][:3]) if path in expected else pack_stat(0, 0, 0)
        if width == 3:
            assert table.current(path, stat) == (path in expected)
        else:
            assert table.sha_if_current(path, stat) == (SHA if path in expected else None)
    assert table.all_marked() == (marked == set(expected))
    kept = table.keep_marked()
    assert dict(kept.items()) == {p: v for p, v in expected.items() if p in marked}
    assert kept.prefix == prefix
    written = ",".join(table.json_chunks())
    assert json.loads("{" + written + "}") == expected and written == ",".join(table.json_chunks(list(expected)))


def test_entries_in_order_are_held_in_the_list_and_changed_in_place():
    """A cache file's entries (ascending) and a run's stamps in plan order cost no dict entry and no
    bytes object each; a changed stat replaces its bytes in the list."""
    table = StatTable(3)
    for index in range(1000):
        table[f"p{index:04d}"] = [index, index, index]
    table["p0500"] = [1, 2, 3]
    columns = table._columns
    assert not columns.extra and not columns.gone and len(columns.blob) == 1000 * 24
    assert table["p0500"] == [1, 2, 3] and table["p0501"] == [501, 501, 501]
    table["a"] = [4, 5, 6]  # out of order: beside the list
    assert columns.extra == {"a": pack_stat(4, 5, 6)} and len(table) == 1001
